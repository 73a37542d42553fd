//! The shape of a GraphQL document, measured before anything else reads it.
//!
//! async-graphql's validation and execution walk a fragment's selections at every
//! spread of it, so a document's cost is what it says with every spread expanded: six
//! fragments each spreading the next thirty times are 1 KB of text and 24 million
//! fields. Here each fragment is measured once and its measure reused at every spread
//! (memoised), so the expanded size of any document is known in time proportional to its
//! text, and a document too large once expanded is refused before validation starts.
//! Bounded by construction: validation and execution then walk at most `MAX_FIELDS`
//! selections per operation.

use std::collections::HashMap;

use async_graphql::Positioned;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// The deepest bracket nesting (`{`, `[`, `(`) a query may have. Parsers recurse on
/// nesting; this bound keeps any query, however hostile, far from the stack's end.
pub const MAX_NESTING: usize = 64;
/// The most aliases one document may use, with its fragments expanded.
pub const MAX_ALIASES: usize = 50;
/// The most fields one document may select, with its fragments expanded (a fragment
/// spread three times counts three times); also the most written in it.
pub const MAX_FIELDS: usize = 1_000;
/// The most fragment definitions one document may hold.
pub const MAX_FRAGMENTS: usize = 50;

/// What a selection set selects once every spread in it is expanded. Counts saturate:
/// a hostile document's true count can pass 2^64.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Expanded {
    /// Fields, spreads and inline fragments: what validation and execution visit.
    selections: u64,
    fields: u64,
    aliases: u64,
}

impl Expanded {
    fn add(&mut self, other: Self) {
        self.selections = self.selections.saturating_add(other.selections);
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
    }
}

enum Measure {
    /// Being measured: meeting it again is a cycle.
    Open,
    Done(Expanded),
}

struct Measurer<'a> {
    doc: &'a ExecutableDocument,
    fragments: HashMap<&'a str, Measure>,
}

impl<'a> Measurer<'a> {
    fn set(&mut self, set: &'a Positioned<SelectionSet>) -> Result<Expanded, String> {
        let mut total = Expanded::default();
        for item in &set.node.items {
            total.selections = total.selections.saturating_add(1);
            match &item.node {
                Selection::Field(f) => {
                    total.fields = total.fields.saturating_add(1);
                    if f.node.alias.is_some() {
                        total.aliases = total.aliases.saturating_add(1);
                    }
                    total.add(self.set(&f.node.selection_set)?);
                }
                Selection::InlineFragment(f) => total.add(self.set(&f.node.selection_set)?),
                Selection::FragmentSpread(spread) => {
                    total.add(self.fragment(spread.node.fragment_name.node.as_str())?);
                }
            }
        }
        Ok(total)
    }

    /// A fragment's expanded measure, measured once. An unknown fragment measures
    /// nothing (validation names it).
    fn fragment(&mut self, name: &'a str) -> Result<Expanded, String> {
        match self.fragments.get(name) {
            Some(Measure::Done(measure)) => return Ok(*measure),
            Some(Measure::Open) => return Err(format!("fragment {name} spreads itself")),
            None => {}
        }
        let Some((key, definition)) = self.doc.fragments.get_key_value(name) else {
            return Ok(Expanded::default());
        };
        self.fragments.insert(key.as_str(), Measure::Open);
        let measure = self.set(&definition.node.selection_set)?;
        self.fragments.insert(key.as_str(), Measure::Done(measure));
        Ok(measure)
    }
}

/// Counts fragments, and fields and aliases with every spread expanded; refuses a
/// document over the limits or whose fragments spread themselves.
pub fn check(doc: &ExecutableDocument) -> Result<(), String> {
    if doc.fragments.len() > MAX_FRAGMENTS {
        return Err(format!(
            "the query defines more than {MAX_FRAGMENTS} fragments"
        ));
    }
    let mut measurer = Measurer {
        doc,
        fragments: HashMap::with_capacity(doc.fragments.len()),
    };
    // as executed: every operation (all are validated), spreads expanded
    let mut expanded = Expanded::default();
    for (_, op) in doc.operations.iter() {
        expanded.add(measurer.set(&op.node.selection_set)?);
    }
    // as written: each definition once, used or not (validation reads them all)
    let mut written = 0_u64;
    for fragment in doc.fragments.values() {
        measurer.set(&fragment.node.selection_set)?;
        written = written.saturating_add(written_fields(&fragment.node.selection_set));
    }
    for (_, op) in doc.operations.iter() {
        written = written.saturating_add(written_fields(&op.node.selection_set));
    }
    let limit = |n: usize| crate::convert::to_u64(n);
    if expanded.aliases > limit(MAX_ALIASES) {
        return Err(format!("the query uses more than {MAX_ALIASES} aliases"));
    }
    if expanded.fields > limit(MAX_FIELDS) || written > limit(MAX_FIELDS) {
        return Err(format!(
            "the query selects more than {MAX_FIELDS} fields (a fragment counts once for \
             each place it is spread)"
        ));
    }
    // spreads and inline fragments cost a visit each too; a selection set is never
    // empty, so this bound is only met by long chains of spreads
    if expanded.selections > limit(4 * MAX_FIELDS) {
        return Err(format!(
            "the query selects more than {MAX_FIELDS} fields (a fragment counts once for \
             each place it is spread)"
        ));
    }
    Ok(())
}

/// The fields whose values grow with what publishers wrote (see `graphql::budget`).
const HEAVY_FIELDS: [&str; 3] = ["geometry", "before", "after"];

/// Whether the document selects a field whose value can be large: it then takes a turn
/// of the heavy-work limit (`http::heavy`).
pub fn is_heavy(doc: &ExecutableDocument) -> bool {
    fn selects(set: &Positioned<SelectionSet>) -> bool {
        set.node.items.iter().any(|item| match &item.node {
            Selection::Field(f) => {
                HEAVY_FIELDS.contains(&f.node.name.node.as_str()) || selects(&f.node.selection_set)
            }
            Selection::InlineFragment(f) => selects(&f.node.selection_set),
            Selection::FragmentSpread(_) => false,
        })
    }
    doc.operations
        .iter()
        .any(|(_, op)| selects(&op.node.selection_set))
        || doc
            .fragments
            .values()
            .any(|f| selects(&f.node.selection_set))
}

/// Whether the operation the request runs (`operation_name`, or the only one) is a
/// mutation.
pub fn is_mutation(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let ty = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) => ops
            .values()
            .next()
            .filter(|_| ops.len() == 1)
            .map(|op| op.node.ty),
    };
    ty == Some(OperationType::Mutation)
}

/// Fields written in a selection set, spreads not followed.
fn written_fields(set: &Positioned<SelectionSet>) -> u64 {
    set.node
        .items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => 1 + written_fields(&f.node.selection_set),
            Selection::InlineFragment(f) => written_fields(&f.node.selection_set),
            Selection::FragmentSpread(_) => 0,
        })
        .fold(0, u64::saturating_add)
}

/// Deepest nesting of `{`, `[` and `(` outside strings and comments.
pub fn nesting_depth(query: &str) -> usize {
    let bytes = query.as_bytes();
    let (mut i, mut depth, mut max) = (0, 0_usize, 0_usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::{check, nesting_depth};

    fn parsed(query: &str) -> async_graphql::parser::types::ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("a query that parses")
    }

    /// `{ ...F0 }` and `count` fragments, each spreading the next `times` times.
    fn spreads(times: usize, count: usize) -> String {
        let mut q = String::from("{ ...F0 } ");
        for i in 0..count {
            let next = if i + 1 < count {
                vec![format!("...F{}", i + 1); times].join(" ")
            } else {
                String::new()
            };
            let _ = write!(q, "fragment F{i} on Query {{ __typename {next} }} ");
        }
        q
    }

    #[test]
    fn nesting_ignores_strings_and_comments() {
        assert_eq!(nesting_depth("{ a { b(x: [1, [2]]) } }"), 5);
        assert_eq!(nesting_depth(r#"{ a(s: "{{{{[[[(") }"#), 2);
        assert_eq!(nesting_depth("{ a # {{{{{\n }"), 1);
        assert_eq!(nesting_depth("{ a(s: \"\"\" {{{ \\\"\"\" {{ \"\"\") }"), 2);
        assert_eq!(nesting_depth(&"{a".repeat(10_000)), 10_000);
    }

    #[test]
    fn spreads_count_once_for_each_place_they_are_spread() {
        // 1 + 30 + 900 + ... fields once expanded: refused, though 1 KB long
        let bomb = spreads(30, 6);
        assert!(bomb.len() < 1_200, "{}", bomb.len());
        let refused = check(&parsed(&bomb)).expect_err("refused");
        assert!(refused.contains("1000 fields"), "{refused}");
        // 1 000 spreads over five fragments: 250^4 fields
        assert!(check(&parsed(&spreads(250, 5))).is_err());
        // fragments spread a few times each stay well within the limit
        assert_eq!(check(&parsed(&spreads(3, 4))), Ok(()));
    }

    #[test]
    fn aliases_in_a_fragment_count_at_every_spread() {
        let aliases: Vec<String> = (0..10).map(|i| format!("a{i}: __typename")).collect();
        let spread = |n: usize| vec!["...A"; n].join(" ");
        let query = |n| {
            format!(
                "{{ {} }} fragment A on Query {{ {} }}",
                spread(n),
                aliases.join(" ")
            )
        };
        assert_eq!(check(&parsed(&query(5))), Ok(()));
        let refused = check(&parsed(&query(6))).expect_err("60 aliases");
        assert!(refused.contains("aliases"), "{refused}");
    }

    #[test]
    fn a_fragment_that_spreads_itself_is_refused_without_looping() {
        let cycle = "{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }";
        let refused = check(&parsed(cycle)).expect_err("a cycle");
        assert!(refused.contains("spreads itself"), "{refused}");
    }

    #[test]
    fn a_document_selecting_geometry_or_a_diff_is_heavy() {
        assert!(super::is_heavy(&parsed("{ asset(id: 1) { geometry } }")));
        assert!(super::is_heavy(&parsed(
            "{ ...A } fragment A on Query { asset(id: 1) { history { changes { before } } } }"
        )));
        assert!(!super::is_heavy(&parsed("{ asset(id: 1) { name } }")));
    }

    #[test]
    fn fields_of_unused_fragments_count_as_written() {
        let fields: Vec<String> = (0..1_001).map(|i| format!("f{i}")).collect();
        let query = format!(
            "{{ __typename }} fragment Unused on Query {{ {} }}",
            fields.join(" ")
        );
        assert!(check(&parsed(&query)).is_err());
    }
}
