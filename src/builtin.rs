//! The built-in catalog as the build left it: build.rs loads `checks/*.toml` with the loader
//! of [`crate::catalog::load`] (a load error fails the build), and writes the checks out as
//! the statics below, which a run turns into a [`Catalog`] without parsing anything.

use std::path::PathBuf;

use crate::catalog::{
    Catalog, Check, Condition, FixStep, Loaded, Origin, Pattern, Severity, Test, Tier,
};
use crate::facts::Value;

/// A built-in check as build.rs wrote it; the fields are [`Check`]'s.
struct CheckDef {
    id: &'static str,
    area: &'static str,
    title: &'static str,
    severity: Severity,
    severity_from: Option<&'static str>,
    profiles: &'static [&'static str],
    since: Option<&'static str>,
    applies_if: Option<CondDef>,
    fails_if: CondDef,
    summary: &'static str,
    why: &'static str,
    fix: &'static [FixDef],
    explains: &'static [PatternDef],
    signals: &'static [&'static str],
    references: &'static [&'static str],
    endpoints: Option<&'static [&'static str]>,
    consequence_of: &'static [&'static str],
    waits_for: Option<&'static str>,
    file: &'static str,
    line: usize,
    column: usize,
}

/// A built-in `explains` pattern and its shape ([`crate::catalog::literals::Shape`]) as
/// build.rs worked it out: its required literals and specificity; `None` if it does not parse.
struct PatternDef {
    source: &'static str,
    /// `(literals, specificity)`; the literals as a span of [`LITERAL_BYTES`].
    shape: Option<(Option<(u32, u32)>, usize)>,
}

impl PatternDef {
    fn pattern(&self) -> Pattern {
        let shape = self
            .shape
            .map(|(literals, specificity)| crate::catalog::literals::Shape {
                literals: literals.map(literal_set),
                specificity,
            });
        Pattern::builtin_shaped(self.source, shape)
    }
}

/// The literals in `LITERAL_BYTES[start..end]`: each its length in two bytes (little-endian),
/// then its bytes (build.rs, `LiteralBytes`).
fn literal_set((start, end): (u32, u32)) -> Vec<Vec<u8>> {
    let mut bytes = LITERAL_BYTES
        .get(start as usize..end as usize)
        .unwrap_or_default();
    let mut set = Vec::new();
    while let [lo, hi, rest @ ..] = bytes {
        let len = usize::from(u16::from_le_bytes([*lo, *hi]));
        let Some((literal, rest)) = rest.split_at_checked(len) else {
            break;
        };
        set.push(literal.to_vec());
        bytes = rest;
    }
    set
}

/// The required literals of each built-in signal (`checks/data/signals.toml`), by name, as
/// build.rs worked them out; `None` where there is no such set.
pub fn signal_literals() -> impl Iterator<Item = (&'static str, Option<Vec<Vec<u8>>>)> {
    SIGNAL_LITERALS
        .iter()
        .map(|(name, set)| (*name, set.map(literal_set)))
}

enum CondDef {
    All(&'static [CondDef]),
    Any(&'static [CondDef]),
    Not(&'static CondDef),
    Fact(&'static str, TestDef),
}

enum TestDef {
    Is(bool),
    // No built-in check says `equals = true` (they say `is`), but the loader takes it.
    #[allow(dead_code)]
    EqualsBool(bool),
    EqualsInt(i64),
    EqualsText(&'static str),
    Contains(&'static str),
    NotContains(&'static str),
    Matches(&'static str),
    Present(bool),
    LessThan(i64),
    GreaterThan(i64),
}

struct FixDef {
    step: &'static str,
    command: Option<&'static str>,
    tier: Option<Tier>,
    changes: Option<&'static str>,
    undo: Option<&'static str>,
    writes: &'static [&'static str],
    endpoints: Option<&'static [&'static str]>,
    when: Option<CondDef>,
}

// CHECKS: &[CheckDef] and AREA_TITLES: &[(&str, &str)], in the order the files load;
// SIGNAL_LITERALS: &[(&str, Option<(u32, u32)>)], in the order of the vocabulary, and the
// LITERAL_BYTES their spans and the patterns' index.
include!(concat!(env!("OUT_DIR"), "/builtin_catalog.rs"));

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_owned)
}

impl CondDef {
    fn condition(&self) -> Condition {
        match self {
            CondDef::All(list) => Condition::All(list.iter().map(CondDef::condition).collect()),
            CondDef::Any(list) => Condition::Any(list.iter().map(CondDef::condition).collect()),
            CondDef::Not(inner) => Condition::Not(Box::new(inner.condition())),
            CondDef::Fact(key, test) => Condition::Fact {
                key: (*key).to_owned(),
                test: match test {
                    TestDef::Is(b) => Test::Is(*b),
                    TestDef::EqualsBool(b) => Test::Equals(Value::Bool(*b)),
                    TestDef::EqualsInt(i) => Test::Equals(Value::Int(*i)),
                    TestDef::EqualsText(s) => Test::Equals(Value::Text((*s).to_owned())),
                    TestDef::Contains(s) => Test::Contains((*s).to_owned()),
                    TestDef::NotContains(s) => Test::NotContains((*s).to_owned()),
                    TestDef::Matches(s) => Test::Matches(Pattern::builtin(s)),
                    TestDef::Present(b) => Test::Present(*b),
                    TestDef::LessThan(n) => Test::LessThan(*n),
                    TestDef::GreaterThan(n) => Test::GreaterThan(*n),
                },
            },
        }
    }
}

impl FixDef {
    fn step(&self) -> FixStep {
        FixStep {
            step: self.step.to_owned(),
            command: owned(self.command),
            tier: self.tier,
            changes: owned(self.changes),
            undo: owned(self.undo),
            writes: strings(self.writes),
            endpoints: self.endpoints.map(strings),
            when: self.when.as_ref().map(CondDef::condition),
        }
    }
}

impl CheckDef {
    fn check(&self) -> Check {
        Check {
            id: self.id.to_owned(),
            area: self.area.to_owned(),
            title: self.title.to_owned(),
            severity: self.severity,
            severity_from: owned(self.severity_from),
            profiles: strings(self.profiles),
            since: owned(self.since),
            applies_if: self.applies_if.as_ref().map(CondDef::condition),
            fails_if: self.fails_if.condition(),
            summary: self.summary.to_owned(),
            why: self.why.to_owned(),
            fix: self.fix.iter().map(FixDef::step).collect(),
            explains: self.explains.iter().map(PatternDef::pattern).collect(),
            signals: strings(self.signals),
            references: strings(self.references),
            endpoints: self.endpoints.map(strings),
            consequence_of: strings(self.consequence_of),
            waits_for: owned(self.waits_for),
            origin: Origin {
                file: PathBuf::from(self.file),
                line: self.line,
                column: self.column,
            },
            reads: Default::default(),
        }
    }
}

/// The built-in checks, as `checks/*.toml` loaded at build time: no errors, by construction.
pub fn load() -> Loaded {
    Loaded {
        catalog: Catalog {
            checks: CHECKS.iter().map(CheckDef::check).collect(),
            area_titles: AREA_TITLES
                .iter()
                .map(|(area, title)| ((*area).to_owned(), (*title).to_owned()))
                .collect(),
        },
        errors: Vec::new(),
    }
}

/// The fact schema and endpoint kinds build.rs read from the sources to check the catalog
/// with, compared with the crate's own below: a fact declared in a form the build's reading
/// misses fails here.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_checked_the_catalog_against_the_whole_fact_schema() {
        let mut ours: Vec<(String, String)> = crate::facts::schema()
            .map(|s| (s.key.to_owned(), s.kind.to_string()))
            .collect();
        let mut built: Vec<(String, String)> = BUILD_SCHEMA
            .iter()
            .map(|(k, kind)| ((*k).to_owned(), (*kind).to_lowercase()))
            .collect();
        ours.sort();
        built.sort();
        built.dedup();
        assert_eq!(built, ours);
        assert_eq!(BUILD_ENDPOINT_KINDS, crate::facts::docker::endpoint::KINDS);
    }

    #[test]
    fn the_embedded_catalog_is_the_one_the_check_files_load_to() {
        let embedded = load();
        let parsed = crate::catalog::load::load_builtin_toml();
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(
            format!("{:#?}", embedded.catalog),
            format!("{:#?}", parsed.catalog)
        );
    }

    #[test]
    fn the_embedded_shapes_are_the_ones_the_patterns_parse_to() {
        let embedded = load();
        let parsed = crate::catalog::load::load_builtin_toml();
        let mut n = 0;
        for (e, p) in embedded.catalog.checks.iter().zip(&parsed.catalog.checks) {
            for (e, p) in e.explains.iter().zip(&p.explains) {
                assert_eq!(e.shape(), p.shape(), "{p}");
                assert!(p.shape().is_some(), "{p} does not parse");
                n += 1;
            }
        }
        assert!(n > 100, "{n} patterns");
        let vocabulary = crate::catalog::signals::Vocabulary::parse_unchecked(
            crate::catalog::signals::BUILTIN.0,
            crate::catalog::signals::BUILTIN.1,
        )
        .unwrap();
        let embedded: Vec<_> = signal_literals().collect();
        assert_eq!(embedded.len(), vocabulary.signals.len());
        for ((name, literals), signal) in embedded.iter().zip(&vocabulary.signals) {
            assert_eq!(*name, signal.name);
            assert_eq!(literals.as_deref(), signal.literals(), "{name}");
        }
    }
}
