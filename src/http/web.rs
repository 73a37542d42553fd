//! The pages the binary serves, built from `web/` (see `web/build`) and embedded, so they
//! work with no internet at all:
//!
//! - `GET /`: the map: a link worker's search, shortlists, a group's listing editor
//! - `GET /s/{code}`: a resident's shortlist, for a phone or a printer, no sign-in
//! - `GET /graphiql` (and `GET /graphql`): GraphiQL
//! - `GET /assets/{file}`: their scripts and styles, the borough and ward boundaries
//! - `GET /config.json`: what the map needs to know (the basemap, if the council has one)
//! - `GET /schema.graphql`: the schema's SDL (GraphiQL reads it; off with introspection)
//!
//! Every response carries a Content-Security-Policy that allows scripts from this origin
//! only (no inline script, no `eval`), and loads nothing from elsewhere unless a basemap
//! was configured. Files are sent gzip-compressed when the browser takes it (compressed
//! once, on first request) with an `ETag`, so a reload costs a `304`.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::HttpState;
use super::errors::error_response;

/// One embedded file.
struct File {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    gzip: OnceLock<Vec<u8>>,
    etag: OnceLock<String>,
}

macro_rules! files {
    ($($name:literal => $path:literal, $type:expr;)*) => {
        [$(File {
            name: $name,
            content_type: $type,
            body: include_bytes!($path),
            gzip: OnceLock::new(),
            etag: OnceLock::new(),
        }),*]
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const GEOJSON: &str = "application/geo+json";

static FILES: [File; 13] = files! {
    "index.html" => "../../web/dist/index.html", HTML;
    "shortlist.html" => "../../web/dist/shortlist.html", HTML;
    "graphiql.html" => "../../web/dist/graphiql.html", HTML;
    "app.js" => "../../web/dist/app.js", JS;
    "app.css" => "../../web/dist/app.css", CSS;
    "maplibre-gl-worker.mjs" => "../../web/dist/maplibre-gl-worker.mjs", JS;
    "shortlist.js" => "../../web/dist/shortlist.js", JS;
    "shortlist.css" => "../../web/dist/shortlist.css", CSS;
    "graphiql.js" => "../../web/dist/graphiql.js", JS;
    "graphiql.css" => "../../web/dist/graphiql.css", CSS;
    "licenses.txt" => "../../web/dist/licenses.txt", "text/plain; charset=utf-8";
    "base/boroughs.geojson" => "../../data/gm/gm_local_authorities_2023.geojson", GEOJSON;
    "base/wards.geojson" => "../../data/gm/gm_wards_2022.geojson", GEOJSON;
};

impl File {
    fn etag(&self) -> &str {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(self.body);
            let hex = digest[..12].iter().fold(String::new(), |mut out, b| {
                use std::fmt::Write;
                let _ = write!(out, "{b:02x}");
                out
            });
            format!("\"{hex}\"")
        })
    }

    fn gzip(&'static self) -> &'static [u8] {
        self.gzip.get_or_init(|| {
            use std::io::Write;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            // writing to a Vec cannot fail
            encoder
                .write_all(self.body)
                .and_then(|()| encoder.finish())
                .unwrap_or_default()
        })
    }

    fn response(&'static self, request: &HeaderMap) -> Response<Body> {
        let etag = self.etag();
        let mut response = Response::builder()
            .header(header::ETAG, etag)
            .header(header::CACHE_CONTROL, "no-cache")
            .header(header::VARY, "Accept-Encoding");
        let unchanged = super::conditional::not_modified(request, etag);
        if unchanged {
            return response
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .unwrap_or_default();
        }
        response = response.header(header::CONTENT_TYPE, self.content_type);
        let gzip = self.body.len() > 1024
            && request
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(super::conditional::accepts_gzip);
        let body = if gzip && !self.gzip().is_empty() {
            response = response.header(header::CONTENT_ENCODING, "gzip");
            self.gzip()
        } else {
            self.body
        };
        response.body(Body::from(body)).unwrap_or_default()
    }
}

fn file(name: &str) -> Option<&'static File> {
    FILES.iter().find(|f| f.name == name)
}

fn page(name: &'static str, headers: &HeaderMap) -> Response<Body> {
    match file(name) {
        Some(f) => f.response(headers),
        None => not_found(),
    }
}

fn not_found() -> Response<Body> {
    error_response(StatusCode::NOT_FOUND, "NOT_FOUND", "there is no such file")
}

pub async fn graphiql(headers: HeaderMap) -> Response<Body> {
    page("graphiql.html", &headers)
}

async fn index(headers: HeaderMap) -> Response<Body> {
    page("index.html", &headers)
}

async fn shortlist(headers: HeaderMap) -> Response<Body> {
    page("shortlist.html", &headers)
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response<Body> {
    // pages have their own addresses
    match file(&name).filter(|f| f.content_type != HTML) {
        Some(f) => f.response(&headers),
        None => not_found(),
    }
}

/// The Content-Security-Policy of every page: scripts and workers from this origin
/// only; styles may be inline (the map library positions its controls with them).
/// With a basemap, its style's origin, and any https address (its tiles, sprites and
/// fonts may be anywhere), may be fetched from; scripts still come from here only.
pub fn policy(basemap: Option<&str>) -> HeaderValue {
    let elsewhere = basemap
        .and_then(|b| url::Url::parse(b).ok())
        .map(|u| format!(" {} https:", u.origin().ascii_serialization()))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self'; worker-src 'self'; child-src 'self'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:{elsewhere}; \
         font-src 'self' data:{elsewhere}; connect-src 'self'{elsewhere}; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    // an origin is ASCII by construction; the fallback is only for the type's sake
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

/// The pages' routes (`security_headers` goes around every route, `GET /graphql` too).
pub fn routes(basemap: Option<&str>, sdl: Option<String>) -> Router<HttpState> {
    let config = serde_json::json!({ "basemapStyle": basemap }).to_string();
    Router::new()
        .route("/", get(index))
        .route("/s/{code}", get(shortlist))
        .route("/graphiql", get(graphiql))
        .route("/assets/{*file}", get(asset))
        .route(
            "/config.json",
            get(move || async move {
                ([(header::CONTENT_TYPE, "application/json")], config.clone())
            }),
        )
        .route(
            "/schema.graphql",
            get(move || async move {
                match sdl {
                    Some(sdl) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], sdl)
                        .into_response(),
                    None => error_response(
                        StatusCode::NOT_FOUND,
                        "NOT_FOUND",
                        "this server does not publish its schema",
                    ),
                }
            }),
        )
}

/// Middleware: the headers every response gets: the policy, no sniffing, no framing,
/// and no referrer (a shortlist's code is in its address and must not leak to the
/// sites it links to).
pub async fn security_headers(
    State(csp): State<HeaderValue>,
    request: Request,
    next: Next,
) -> Response<Body> {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_there() {
        for f in &FILES {
            assert!(!f.body.is_empty(), "{} is empty", f.name);
        }
    }
}
