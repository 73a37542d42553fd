//! The words of a text search, as each backend's full-text index reads them: one home
//! for both queries (SQLite's FTS5 `asset_fts`, PostgreSQL's `tsvector` of
//! `search_text`). The words themselves are the domain's (`domain::search::search_words`).

use crate::domain::search::search_words;

/// FTS5: every word, quoted, as a prefix (`"food"* "bank"*`).
pub fn fts5(text: &str) -> String {
    let words: Vec<String> = search_words(text)
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect();
    words.join(" ")
}

/// `to_tsquery('english', ...)`: every word as a prefix, all of them (`food:* & bank:*`).
pub fn tsquery(text: &str) -> String {
    let words: Vec<String> = search_words(text)
        .iter()
        .map(|w| format!("{w}:*"))
        .collect();
    words.join(" & ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_indexes_read_every_word_as_a_prefix() {
        assert_eq!(super::fts5("Food banks"), "\"food\"* \"banks\"*");
        assert_eq!(super::tsquery("Food banks"), "food:* & banks:*");
    }
}
