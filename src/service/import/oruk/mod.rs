//! Open Referral UK in: a council's feed (a JSON file of a page, a list or one service,
//! or the whole paged API at a URL) read service by service into GeoJSON Features with
//! the properties the mapping reads, so the same report, progress and all-or-nothing
//! rule apply as to any import. Each feature carries the service's id as `source_id`:
//! importing the same feed again updates the assets it made.
//!
//! Where an asset is: a service area's GeoJSON extent if it has one (our own feed
//! publishes parks and routes so), else its first location's point. Its kind and
//! categories come from its taxonomy terms through a mapping the council can edit
//! ([`TermMapping`]); by default our own kind terms give the kind, a term whose code is
//! one of our category slugs gives that category, and anything else is a `SERVICE`.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::FeatureReceiver;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::service::categories;
pub use service::TermMapping;
use service::{Terms, feature};

mod service;

/// The largest response or file read (a council's whole directory as one page is a
/// few MB).
pub const MAX_BYTES: usize = 50 * 1024 * 1024;
/// The most pages a feed may have.
const MAX_PAGES: u64 = 100_000;
/// Services asked for per page when walking an API.
const PER_PAGE: u64 = 100;

/// Where the feed is.
#[derive(Clone, Debug)]
pub enum FeedSource {
    /// A JSON file's bytes.
    File(Vec<u8>),
    /// An ORUK API: its stub (`https://council.example/api/v3`) or its `/services`.
    Url(url::Url),
}

/// The services of a document: a page (`contents`), a list, or one service.
fn services_of(doc: Value) -> Result<Vec<Value>, String> {
    match doc {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => match map.remove("contents") {
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err("the page's contents is not a list".into()),
            None if map.contains_key("id") && map.contains_key("name") => {
                Ok(vec![Value::Object(map)])
            }
            None => Err("not an Open Referral page, list or service".into()),
        },
        _ => Err("not an Open Referral page, list or service".into()),
    }
}

/// An HTTP client for feeds, with time limits.
fn client() -> AppResult<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_mins(2))
        .user_agent(concat!("assetmap/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AppError::Internal(e.into()))
}

/// A JSON document from `url`, at most [`MAX_BYTES`].
async fn fetch(client: &reqwest::Client, url: &url::Url) -> Result<Value, String> {
    let mut response = client
        .get(url.clone())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(format!(
                "{url}: the response is larger than {} MB",
                MAX_BYTES >> 20
            ));
        }
    }
    serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON: {e}"))
}

/// `/services` under the API stub, with a page.
fn page_url(base: &url::Url, page: u64) -> url::Url {
    let mut url = base.clone();
    if !url.path().trim_end_matches('/').ends_with("/services") {
        let path = format!("{}/services", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    url.query_pairs_mut()
        .clear()
        .append_pair("page", &page.to_string())
        .append_pair("per_page", &PER_PAGE.to_string());
    url
}

fn service_url(base: &url::Url, id: &str) -> url::Url {
    let mut url = base.clone();
    let stub = url
        .path()
        .trim_end_matches('/')
        .trim_end_matches("/services")
        .to_owned();
    url.set_path(&stub);
    url.set_query(None);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push("services").push(id);
    }
    url
}

/// Walks the feed and sends its services as features. A malformed page (not JSON, not
/// a page, a service without id or name, a field of the wrong type), a response over
/// the size limit, or a feed that pages round in a loop ends the import with an error:
/// nothing is written.
pub fn read_oruk(db: &Db, source: FeedSource, mapping: TermMapping) -> FeatureReceiver {
    let (tx, rx) = mpsc::channel(256);
    let db = db.clone();
    tokio::spawn(async move {
        if let Err(e) = walk(&db, source, &mapping, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

/// A refused feed: what was wrong with it, named as the `feed`'s fault.
fn bad(message: String) -> AppError {
    AppError::invalid("feed", message)
}

/// Where the walk sends what it reads.
struct Out<'a> {
    terms: Terms<'a>,
    tx: &'a mpsc::Sender<AppResult<Value>>,
}

impl Out<'_> {
    /// Sends a service as a feature; `false` once the importer stopped listening.
    async fn send(&self, service: &Value) -> AppResult<bool> {
        let feature = feature(service, &self.terms).map_err(bad)?;
        Ok(self.tx.send(Ok(feature)).await.is_ok())
    }
}

async fn walk(
    db: &Db,
    source: FeedSource,
    mapping: &TermMapping,
    tx: &mpsc::Sender<AppResult<Value>>,
) -> AppResult<()> {
    let slugs: HashSet<String> = categories::list(&db.read)
        .await?
        .into_iter()
        .map(|c| c.slug)
        .collect();
    let terms = Terms {
        mapping,
        slugs: &slugs,
    };
    let out = Out { terms, tx };
    match source {
        FeedSource::File(bytes) => read_file(&out, &bytes).await,
        FeedSource::Url(base) => read_pages(&out, &base).await,
    }
}

/// A page, a list or one service, from a file.
async fn read_file(out: &Out<'_>, bytes: &[u8]) -> AppResult<()> {
    if bytes.len() > MAX_BYTES {
        return Err(bad(format!(
            "the file is larger than {} MB",
            MAX_BYTES >> 20
        )));
    }
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    for service in services_of(doc).map_err(bad)? {
        if !out.send(&service).await? {
            break;
        }
    }
    Ok(())
}

/// Every page of an API's `/services`, each service once; a feed whose pages loop
/// (a page answered with another number, or listing only services already read) is
/// refused.
async fn read_pages(out: &Out<'_>, base: &url::Url) -> AppResult<()> {
    let client = client()?;
    let mut seen = HashSet::new();
    let (mut page, mut total_pages) = (1, 1);
    while page <= total_pages {
        let url = page_url(base, page);
        let doc = fetch(&client, &url).await.map_err(bad)?;
        if page == 1 {
            total_pages = doc.get("total_pages").and_then(Value::as_u64).unwrap_or(1);
            if total_pages > MAX_PAGES {
                return Err(bad(format!("the feed says it has {total_pages} pages")));
            }
        }
        if let Some(n) = doc
            .get("page_number")
            .and_then(Value::as_u64)
            .filter(|n| *n != page)
        {
            return Err(bad(format!(
                "{url} answered with page {n}: the feed pages in a loop"
            )));
        }
        let items = services_of(doc).map_err(|m| bad(format!("{url}: {m}")))?;
        if items.is_empty() {
            break;
        }
        let mut new = 0;
        for item in items {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("{url}: a service has no id")))?
                .to_owned();
            if !seen.insert(id.clone()) {
                continue;
            }
            new += 1;
            // a page lists one-to-one fields; the service's own page has the rest
            let full = if item.get("service_at_locations").is_some() {
                item
            } else {
                fetch(&client, &service_url(base, &id)).await.map_err(bad)?
            };
            if !out.send(&full).await? {
                return Ok(());
            }
        }
        if new == 0 {
            return Err(bad(format!(
                "{url} lists only services already read: the feed pages in a loop"
            )));
        }
        page += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn documents_and_urls() {
        assert_eq!(
            services_of(json!({"contents": [{"id": "1"}]}))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            services_of(json!({"id": "1", "name": "x"})).unwrap().len(),
            1
        );
        assert!(services_of(json!({"contents": 3})).is_err());
        assert!(services_of(json!("text")).is_err());
        let base = url::Url::parse("http://127.0.0.1:8080/oruk").unwrap();
        assert_eq!(
            page_url(&base, 2).as_str(),
            "http://127.0.0.1:8080/oruk/services?page=2&per_page=100"
        );
        assert_eq!(
            service_url(&base, "a b").as_str(),
            "http://127.0.0.1:8080/oruk/services/a%20b"
        );
        let services = url::Url::parse("http://h/api/services?x=1").unwrap();
        assert_eq!(
            page_url(&services, 1).as_str(),
            "http://h/api/services?page=1&per_page=100"
        );
        assert_eq!(
            service_url(&services, "7").as_str(),
            "http://h/api/services/7"
        );
    }
}
