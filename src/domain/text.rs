//! Free text as the API accepts it: trimmed, bounded, without control characters; and
//! the two small formats with rules of their own, email addresses and category slugs.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// Trimmed text of bounded length with no control characters (newlines allowed in
/// long text). Stored text is read back as it was written, without checking again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    pub const NAME_MAX: usize = 200;
    pub const DESCRIPTION_MAX: usize = 5_000;
    pub const FIELD_MAX: usize = 500;

    pub fn parse(field: &'static str, value: &str, max_chars: usize) -> AppResult<Self> {
        let value = value.trim();
        if value.is_empty() {
            return Err(AppError::invalid(
                field,
                format!("{field} must not be empty"),
            ));
        }
        if value.chars().count() > max_chars {
            return Err(AppError::invalid(
                field,
                format!("{field} must be at most {max_chars} characters"),
            ));
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(AppError::invalid(
                field,
                format!("{field} must not contain control characters"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// Empty or absent text is no text.
    pub fn parse_opt(
        field: &'static str,
        value: Option<&str>,
        max_chars: usize,
    ) -> AppResult<Option<Self>> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => Self::parse(field, v, max_chars).map(Some),
        }
    }

    /// A name: 1 to [`Text::NAME_MAX`] characters.
    pub fn name(value: &str) -> AppResult<Self> {
        Self::parse("name", value, Self::NAME_MAX)
    }

    /// An optional description: up to [`Text::DESCRIPTION_MAX`] characters.
    pub fn description(value: Option<&str>) -> AppResult<Option<Self>> {
        Self::parse_opt("description", value, Self::DESCRIPTION_MAX)
    }

    /// Text read back from the database, which held only text that passed `parse`.
    pub fn stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Optional text as a plain string, for the database and for output.
pub fn opt_string(text: Option<&Text>) -> Option<String> {
    text.map(|t| t.as_str().to_owned())
}

pub fn parse_email(value: Option<&str>) -> AppResult<Option<Text>> {
    let email = Text::parse_opt("email", value, Text::FIELD_MAX)?;
    if let Some(e) = &email {
        let ok = e
            .as_str()
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
            && !e.as_str().contains(char::is_whitespace);
        if !ok {
            return Err(AppError::invalid("email", "email is not an email address"));
        }
    }
    Ok(email)
}

/// A website as the API takes it: an absolute `http` or `https` address. Anything else
/// (`javascript:`, `data:`, an address without its scheme) is `INVALID_INPUT`: listings
/// are shown to the public, and a link must only ever lead to a web page.
pub fn parse_website(value: Option<&str>) -> AppResult<Option<Text>> {
    let website = Text::parse_opt("website", value, Text::FIELD_MAX)?;
    match &website {
        Some(w) if web_address(w.as_str()).as_deref() != Some(w.as_str()) => {
            Err(AppError::invalid(
                "website",
                "website must be a web address starting with https:// or http://, such as https://example.org",
            ))
        }
        _ => Ok(website),
    }
}

/// A website as published data writes it, made an absolute `http`/`https` address:
/// kept if it is one, given `http://` when it lacks only that (`www.wigan.gov.uk`),
/// None when it is not a web address at all (`javascript:...`, `www.a.uk & www.b.com`).
pub fn web_address(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        return None;
    }
    let usable = |u: &url::Url| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| h.contains('.'))
    };
    match url::Url::parse(text) {
        Ok(u) if usable(&u) => Some(text.to_owned()),
        // another scheme (mailto:, javascript:): not a website
        Ok(_) => None,
        Err(_) => url::Url::parse(&format!("http://{text}"))
            .ok()
            .filter(usable)
            .map(|u| u.to_string()),
    }
}

/// A category slug: lowercase letters, digits and hyphens.
pub fn parse_slug(value: &str) -> AppResult<String> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(AppError::invalid(
            "categories",
            format!(
                "{:?} is not a category slug (lowercase letters, digits and hyphens)",
                value.chars().take(64).collect::<String>()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            Text::parse("name", "  Park  ", 10).unwrap().as_str(),
            "Park"
        );
        assert!(Text::parse("name", "   ", 10).is_err());
        assert!(Text::parse("name", "abcdefghijk", 10).is_err());
        assert!(Text::parse("name", "a\u{0}b", 10).is_err());
        assert_eq!(Text::parse_opt("d", Some(" "), 10).unwrap(), None);
    }

    #[test]
    fn emails_and_slugs() {
        assert!(parse_email(Some("a@b.org")).is_ok());
        assert!(parse_email(Some("not an email")).is_err());
        assert!(parse_slug("mental-wellbeing").is_ok());
        assert!(parse_slug("Mental Wellbeing").is_err());
    }

    #[test]
    fn websites_become_absolute_uris_or_nothing() {
        let cases = [
            (
                "https://walkers.example/groups",
                Some("https://walkers.example/groups"),
            ),
            ("www.wigan.gov.uk", Some("http://www.wigan.gov.uk/")),
            (
                "www.bury.gov.uk/parks",
                Some("http://www.bury.gov.uk/parks"),
            ),
            ("www.manchester.gov.uk & www.foppc.com", None),
            ("mailto:someone@example.org", None),
            ("not a website", None),
            ("localhost", None),
        ];
        for (text, expected) in cases {
            assert_eq!(web_address(text).as_deref(), expected, "{text}");
        }
    }
}
