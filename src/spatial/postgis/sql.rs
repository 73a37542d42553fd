//! A little SQL writer for PostGIS's searches: text plus bound values (`$n`), and the
//! filter's conditions as SQL. (SQLite searches run in memory, `spatial::memory`.)

use sea_orm::{DbBackend, Statement, Value};
use uuid::Uuid;

use crate::domain::{AssetFilter, AssetStatus, Moderation};

pub struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new() -> Self {
        Self {
            text: String::with_capacity(512),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder (`$n`) for `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.values.len().to_string());
        self
    }

    fn bind_list<T: Into<Value>>(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        self.push("(");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(item);
        }
        self.push(")")
    }

    /// `AND ...` conditions on the `assets a` row: active and published, kinds,
    /// categories (as ids, children included), accessibility, cost, age, verification,
    /// known hours, and the words of `text` through the full-text index.
    pub fn filter(&mut self, filter: &AssetFilter, category_ids: &[Uuid]) -> &mut Self {
        self.filter_on("a", filter, category_ids)
    }

    /// The same conditions on the row aliased `t`.
    pub fn filter_on(&mut self, t: &str, filter: &AssetFilter, category_ids: &[Uuid]) -> &mut Self {
        // written out, not bound: PostgreSQL's indexes of public assets are partial,
        // and a plan can use them only when it sees these values
        self.push(&format!(
            " AND {t}.status = '{}' AND {t}.moderation = '{}'",
            AssetStatus::Active.as_str(),
            Moderation::Approved.as_str()
        ));
        if !filter.kinds.is_empty() {
            self.push(&format!(" AND {t}.kind IN "));
            self.bind_list(filter.kinds.iter().copied());
        }
        if !filter.categories.is_empty() {
            self.categories(t, category_ids);
        }
        if !filter.accessibility.is_empty() {
            let mask = filter.accessibility.mask();
            self.push(&format!(" AND ({t}.accessibility & "))
                .bind(mask)
                .push(") = ")
                .bind(mask);
        }
        if let Some(free) = filter.free {
            self.push(&format!(" AND {t}.free = ")).bind(free);
        }
        if let Some(age) = filter.age {
            self.push(&format!(" AND ({t}.min_age IS NULL OR {t}.min_age <= "))
                .bind(age)
                .push(&format!(") AND ({t}.max_age IS NULL OR {t}.max_age >= "))
                .bind(age)
                .push(")");
        }
        if let Some(since) = filter.verified_since {
            self.push(&format!(" AND {t}.last_verified_at >= "))
                .bind(since);
        }
        if let Some(before) = filter.not_verified_since {
            self.push(&format!(
                " AND ({t}.last_verified_at IS NULL OR {t}.last_verified_at < "
            ))
            .bind(before)
            .push(")");
        }
        if filter.open_at.is_some() && !filter.include_unknown_hours {
            // whether it is open is decided on each candidate's hours, after the search
            self.push(&format!(" AND {t}.opening_hours IS NOT NULL"));
        }
        if let Some(text) = &filter.text {
            self.words(t, text);
        }
        self
    }

    /// `AND` the asset has one of these categories (as ids, children included; none:
    /// nothing matches).
    fn categories(&mut self, t: &str, category_ids: &[Uuid]) {
        // the service has turned the slugs into ids, children included. A LIMITed
        // subquery stays a cheap per-row check, made before the costly geography tests;
        // as EXISTS it would become a join made after them.
        self.push(&format!(
            " AND (SELECT TRUE FROM asset_categories ac WHERE ac.asset_id = {t}.id \
             AND ac.category_id IN "
        ));
        self.push("(");
        for (i, id) in category_ids.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(*id);
        }
        if category_ids.is_empty() {
            // no such category: nothing can match
            self.push("NULL");
        }
        self.push(") LIMIT 1)");
    }

    /// `AND` every word of `text` matches, through the `tsvector` index.
    fn words(&mut self, t: &str, text: &str) {
        self.push(&format!(
            " AND to_tsvector('english', {t}.search_text) @@ to_tsquery('english', "
        ))
        .bind(crate::spatial::text::tsquery(text))
        .push(")");
    }

    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, self.text, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered() {
        let mut pg = Sql::new();
        pg.push("a = ").bind(1).push(" AND b = ").bind(2);
        assert_eq!(pg.build().sql, "a = $1 AND b = $2");
    }
}
