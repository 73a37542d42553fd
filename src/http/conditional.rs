//! Conditional requests (RFC 9110 section 13): `If-None-Match` as every surface that
//! sends an `ETag` reads it, and `Accept-Encoding` as the pages read it.

use axum::http::{HeaderMap, header};

/// Whether `If-None-Match` says the client's copy is current: `*`, or any listed tag
/// equal to `etag` under weak comparison (`W/"7"` and `"7"` are the same tag here).
pub fn not_modified(request: &HeaderMap, etag: &str) -> bool {
    let ours = etag.trim_start_matches("W/");
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

/// Whether `Accept-Encoding` takes gzip: gzip's own quality when it is listed (so
/// `gzip;q=0, *;q=1` refuses it), else `*`'s.
pub fn accepts_gzip(value: &str) -> bool {
    let mut gzip = None;
    let mut any = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(quality);
        } else if coding == "*" {
            any = Some(quality);
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{accepts_gzip, not_modified};

    fn asking(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(value).expect("a header"),
        );
        headers
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_a_star() {
        assert!(not_modified(&asking("W/\"7\""), "W/\"7\""));
        assert!(not_modified(&asking("\"7\""), "W/\"7\""));
        assert!(not_modified(&asking("\"1\", W/\"7\""), "\"7\""));
        assert!(not_modified(&asking("*"), "W/\"7\""));
        assert!(!not_modified(&asking("W/\"8\""), "W/\"7\""));
        assert!(!not_modified(&HeaderMap::new(), "W/\"7\""));
    }

    #[test]
    fn gzip_refused_by_name_is_refused_whatever_the_star_says() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, gzip;q=0.8"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0, *;q=1"));
        assert!(accepts_gzip("br;q=1, *;q=0.5"));
        assert!(!accepts_gzip("*;q=0"));
        assert!(!accepts_gzip("identity"));
    }
}
