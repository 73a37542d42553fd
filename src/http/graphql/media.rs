//! GraphQL over HTTP (graphql.github.io/graphql-over-http), as the response is shaped:
//! which media type the client accepts, and the status a response gets in it.
//!
//! - `application/graphql-response+json`, when the client lists it: a request error
//!   (the document does not parse or validate, the variables do not coerce, a limit) is
//!   400 and has no `data` entry; a response with `data` is 200.
//! - `application/json`, when asked, for `*/*` and when `Accept` is missing: every
//!   GraphQL response is 200, as clients written before the media type expect.
//! - Anything else only: 406.
//!
//! Both are sent with `charset=utf-8`; `extensions.code` is on every error either way.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};

/// The media type a GraphQL response goes out in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`
    GraphqlResponse,
    /// `application/json`
    Json,
}

impl Media {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }

    /// The media type the request's `Accept` asks for, or None when it accepts neither.
    pub fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let mut listed = false;
        // (quality, preference) of the best acceptable range
        let mut best: Option<(f32, Self)> = None;
        for value in headers.get_all(header::ACCEPT) {
            let Ok(value) = value.to_str() else { continue };
            for range in value.split(',') {
                let mut parts = range.split(';');
                let kind = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
                if kind.is_empty() {
                    continue;
                }
                listed = true;
                let quality = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                let media = match kind.as_str() {
                    "application/graphql-response+json" => Self::GraphqlResponse,
                    "application/json" | "application/*" | "*/*" => Self::Json,
                    _ => continue,
                };
                if quality <= 0.0 {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((q, m)) => {
                        quality > q
                            || (quality == q && media == Self::GraphqlResponse && m != media)
                    }
                };
                if better {
                    best = Some((quality, media));
                }
            }
        }
        match best {
            Some((_, media)) => Some(media),
            None if !listed => Some(Self::Json),
            None => None,
        }
    }

    /// A response in this media type: its body, and whether it is a request error (no
    /// `data`: the document did not parse or validate, the variables did not coerce).
    pub fn respond(self, body: Vec<u8>, request_error: bool) -> Response<Body> {
        let status = if request_error && self == Self::GraphqlResponse {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, self.content_type());
        response
    }
}

/// The body of a GraphQL response: with no `data` entry for a request error (in the
/// newer media type; the legacy one keeps `"data": null`, as before).
pub fn body(
    response: &async_graphql::Response,
    media: Media,
    request_error: bool,
) -> serde_json::Result<Vec<u8>> {
    if request_error && media == Media::GraphqlResponse {
        serde_json::to_vec(&serde_json::json!({ "errors": response.errors }))
    } else {
        serde_json::to_vec(response)
    }
}

/// Whether a response is a request error: errors before execution have no path and
/// leave no data (an execution error has the path of its field).
pub fn is_request_error(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty())
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::Media;

    fn accept(value: &str) -> Option<Media> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).expect("a header"),
        );
        Media::negotiate(&headers)
    }

    #[test]
    fn the_client_gets_the_media_type_it_asks_for() {
        assert_eq!(Media::negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(accept("application/json"), Some(Media::Json));
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(
            accept("application/graphql-response+json"),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(
            accept("application/json, application/graphql-response+json;q=0.5"),
            Some(Media::Json)
        );
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/json;q=0"), None);
    }
}
