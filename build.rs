//! Loads the built-in catalog (`checks/*.toml`) with dockdoc's own loader (src/catalog/load.rs,
//! compiled into this script) and writes it out as Rust statics for src/builtin.rs: a run
//! starts from checks that are already parsed and checked, and a check file that does not
//! load fails the build, with each error at its file:line:col.
//!
//! The loader checks fact keys and types against the fact schema. That schema is Rust code
//! spread over src/facts, which this script cannot link, so it reads the `spec("key", Kind, …)`
//! entries from the sources; src/builtin.rs's tests compare what it read with the schema the
//! crate compiles, so a fact declared in another form cannot slip past.

#![allow(dead_code, unused_imports)]

use std::fmt::Write as _;
use std::path::Path;

#[path = "src/catalog/mod.rs"]
mod catalog;
#[path = "src/error.rs"]
mod error;

/// The embedded form is what this script writes; the loader's `load_builtin` is not used here.
mod builtin {
    pub fn load() -> crate::catalog::Loaded {
        crate::catalog::Loaded::default()
    }

    /// The script works the literals out itself (`Signal::literals`).
    pub fn signal_literals() -> impl Iterator<Item = (&'static str, Option<Vec<Vec<u8>>>)> {
        std::iter::empty()
    }
}

/// The parts of src/facts the loader uses, as this script knows them.
mod facts {
    use std::fmt;
    use std::sync::OnceLock;

    #[derive(Clone, Debug, PartialEq)]
    pub enum Value {
        Null,
        Bool(bool),
        Int(i64),
        Text(String),
        List(Vec<String>),
    }

    impl fmt::Display for Value {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{self:?}")
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum FactKind {
        Bool,
        Int,
        Text,
        List,
    }

    impl FactKind {
        pub fn parse(name: &str) -> Option<FactKind> {
            match name {
                "Bool" => Some(FactKind::Bool),
                "Int" => Some(FactKind::Int),
                "Text" => Some(FactKind::Text),
                "List" => Some(FactKind::List),
                _ => None,
            }
        }
    }

    /// As src/facts names the kinds in messages: `bool`, `int`, `text`, `list`.
    impl fmt::Display for FactKind {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&format!("{self:?}").to_lowercase())
        }
    }

    pub struct FactSpec {
        pub key: String,
        pub kind: FactKind,
    }

    /// The schema read from the sources (`main` fills it before loading).
    pub static SCHEMA: OnceLock<Vec<FactSpec>> = OnceLock::new();

    pub fn spec_of(key: &str) -> Option<&'static FactSpec> {
        SCHEMA.get()?.iter().find(|s| s.key == key)
    }

    pub mod docker {
        pub mod endpoint {
            /// Read from src/facts/docker/endpoint.rs (`main` fills it before loading).
            pub static KINDS: std::sync::LazyLock<Vec<&'static str>> =
                std::sync::LazyLock::new(|| {
                    super::super::ENDPOINT_KINDS
                        .get()
                        .map_or_else(Vec::new, |k| k.iter().map(String::as_str).collect())
                });
        }
    }

    pub static ENDPOINT_KINDS: OnceLock<Vec<String>> = OnceLock::new();

    pub mod sysroot {
        /// Only user check directories are read through it, which this script never loads.
        pub fn read_regular_file(
            path: &std::path::Path,
            _limit: u64,
        ) -> Result<Vec<u8>, crate::error::ProbeError> {
            Err(crate::error::ProbeError::Other(format!(
                "{}: not read at build time",
                path.display()
            )))
        }
    }
}

use catalog::{Check, Condition, FixStep, Test};
use facts::{FactKind, FactSpec, Value};

fn main() {
    println!("cargo:rerun-if-changed=checks");
    println!("cargo:rerun-if-changed=src/catalog");
    println!("cargo:rerun-if-changed=src/facts");
    println!("cargo:rerun-if-changed=src/error.rs");
    let mut sources = Vec::new();
    if let Err(e) = rust_files(Path::new("src/facts"), &mut sources) {
        fail(&format!("cannot read src/facts: {e}"));
    }
    sources.sort();
    let mut schema = Vec::new();
    for file in &sources {
        match std::fs::read_to_string(file) {
            Ok(text) => schema.extend(specs(&text)),
            Err(e) => fail(&format!("cannot read {}: {e}", file.display())),
        }
    }
    let kinds = match std::fs::read_to_string("src/facts/docker/endpoint.rs") {
        Ok(text) => endpoint_kinds(&text),
        Err(e) => fail(&format!("cannot read src/facts/docker/endpoint.rs: {e}")),
    };
    let built_schema: Vec<(String, FactKind)> =
        schema.iter().map(|s| (s.key.clone(), s.kind)).collect();
    let _ = facts::SCHEMA.set(schema);
    let _ = facts::ENDPOINT_KINDS.set(kinds.clone());

    let mut loaded = catalog::load::load_builtin_toml();
    loaded
        .errors
        .extend(catalog::load::link_errors(&loaded.catalog));
    if !loaded.errors.is_empty() {
        let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        fail(&format!(
            "the built-in checks do not load:\n{}",
            errors.join("\n")
        ));
    }

    let mut out = String::new();
    out.push_str("static CHECKS: &[CheckDef] = &[\n");
    let mut literals = LiteralBytes::default();
    for check in &loaded.catalog.checks {
        write_check(&mut out, check, &mut literals);
    }
    out.push_str("];\n\nstatic AREA_TITLES: &[(&str, &str)] = &[\n");
    for (area, title) in &loaded.catalog.area_titles {
        let _ = writeln!(out, "    ({area:?}, {title:?}),");
    }
    out.push_str("];\n\nstatic SIGNAL_LITERALS: &[(&str, Option<(u32, u32)>)] = &[\n");
    for signal in &catalog::signals::Vocabulary::builtin().signals {
        let _ = writeln!(
            out,
            "    ({:?}, {}),",
            signal.name,
            literals.add(signal.literals())
        );
    }
    let _ = write!(
        out,
        "];\n\nstatic LITERAL_BYTES: &[u8] = &{:?};\n",
        literals.0
    );
    out.push_str("\n#[cfg(test)]\nstatic BUILD_SCHEMA: &[(&str, &str)] = &[\n");
    for (key, kind) in &built_schema {
        let _ = writeln!(out, "    ({key:?}, {:?}),", format!("{kind:?}"));
    }
    out.push_str("];\n\n#[cfg(test)]\nstatic BUILD_ENDPOINT_KINDS: &[&str] = &[");
    for kind in &kinds {
        let _ = write!(out, "{kind:?}, ");
    }
    out.push_str("];\n");

    let Some(dir) = std::env::var_os("OUT_DIR") else {
        fail("OUT_DIR is not set");
    };
    let path = Path::new(&dir).join("builtin_catalog.rs");
    if let Err(e) = std::fs::write(&path, out) {
        fail(&format!("cannot write {}: {e}", path.display()));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The `spec("key", Kind, …)` entries of one source file (rustfmt puts them on one line or
/// over several; a kind may be written `FactKind::Kind`).
fn specs(text: &str) -> Vec<FactSpec> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("spec(") {
        let before = rest.get(..at).and_then(|b| b.chars().next_back());
        rest = rest.get(at + "spec(".len()..).unwrap_or_default();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(after_quote) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some((key, after_key)) = after_quote.split_once('"') else {
            continue;
        };
        let Some(after_comma) = after_key.trim_start().strip_prefix(',') else {
            continue;
        };
        let kind: String = after_comma
            .trim_start()
            .trim_start_matches("FactKind::")
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .collect();
        if let Some(kind) = FactKind::parse(&kind) {
            found.push(FactSpec {
                key: key.to_owned(),
                kind,
            });
        }
    }
    found
}

/// The strings of `pub const KINDS: &[&str] = &[…];`.
fn endpoint_kinds(text: &str) -> Vec<String> {
    let Some((_, list)) = text.split_once("pub const KINDS: &[&str] = &[") else {
        fail("src/facts/docker/endpoint.rs has no `pub const KINDS: &[&str] = &[`");
    };
    let list = list.split(']').next().unwrap_or_default();
    list.split(',')
        .map(|k| k.trim().trim_matches('"').to_owned())
        .filter(|k| !k.is_empty())
        .collect()
}

fn string_list(list: &[String]) -> String {
    let items: Vec<String> = list.iter().map(|s| format!("{s:?}")).collect();
    format!("&[{}]", items.join(", "))
}

fn optional(text: Option<&String>) -> String {
    text.map_or_else(|| "None".to_owned(), |s| format!("Some({s:?})"))
}

fn condition(c: &Condition) -> String {
    let list = |cs: &[Condition]| {
        let items: Vec<String> = cs.iter().map(condition).collect();
        items.join(", ")
    };
    match c {
        Condition::All(cs) => format!("CondDef::All(&[{}])", list(cs)),
        Condition::Any(cs) => format!("CondDef::Any(&[{}])", list(cs)),
        Condition::Not(inner) => format!("CondDef::Not(&{})", condition(inner)),
        Condition::Fact { key, test } => {
            let test = match test {
                Test::Is(b) => format!("TestDef::Is({b})"),
                Test::Equals(Value::Bool(b)) => format!("TestDef::EqualsBool({b})"),
                Test::Equals(Value::Int(i)) => format!("TestDef::EqualsInt({i})"),
                Test::Equals(Value::Text(s)) => format!("TestDef::EqualsText({s:?})"),
                Test::Equals(other) => fail(&format!("`equals` {other} cannot be embedded")),
                Test::Contains(s) => format!("TestDef::Contains({s:?})"),
                Test::NotContains(s) => format!("TestDef::NotContains({s:?})"),
                Test::Matches(p) => format!("TestDef::Matches({:?})", p.as_str()),
                Test::Present(b) => format!("TestDef::Present({b})"),
                Test::LessThan(n) => format!("TestDef::LessThan({n})"),
                Test::GreaterThan(n) => format!("TestDef::GreaterThan({n})"),
            };
            format!("CondDef::Fact({key:?}, {test})")
        }
    }
}

fn optional_condition(c: Option<&Condition>) -> String {
    c.map_or_else(|| "None".to_owned(), |c| format!("Some({})", condition(c)))
}

fn fix_step(f: &FixStep) -> String {
    format!(
        "FixDef {{ step: {:?}, command: {}, tier: {}, changes: {}, undo: {}, writes: {}, endpoints: {}, when: {} }}",
        f.step,
        optional(f.command.as_ref()),
        f.tier
            .map_or_else(|| "None".to_owned(), |t| format!("Some(Tier::{t:?})")),
        optional(f.changes.as_ref()),
        optional(f.undo.as_ref()),
        string_list(&f.writes),
        f.endpoints.as_ref().map_or_else(
            || "None".to_owned(),
            |e| format!("Some({})", string_list(e))
        ),
        optional_condition(f.when.as_ref()),
    )
}

/// The literal sets of the patterns and signals, in one byte string (each literal its length
/// in two bytes, little-endian, then its bytes), so that a set is two offsets: a set of slices
/// would be a pointer each that the dynamic loader relocates at every start, of every command.
#[derive(Default)]
struct LiteralBytes(Vec<u8>);

impl LiteralBytes {
    /// `Some((start, end))` of the set in the bytes, or `None`, as the statics take it.
    fn add(&mut self, set: Option<&[Vec<u8>]>) -> String {
        let Some(set) = set else {
            return "None".to_owned();
        };
        let start = self.0.len();
        for literal in set {
            let Ok(len) = u16::try_from(literal.len()) else {
                fail(&format!("a literal of {} bytes", literal.len()));
            };
            self.0.extend_from_slice(&len.to_le_bytes());
            self.0.extend_from_slice(literal);
        }
        format!("Some(({start}, {}))", self.0.len())
    }
}

fn write_check(out: &mut String, c: &Check, literals: &mut LiteralBytes) {
    let fix: Vec<String> = c.fix.iter().map(fix_step).collect();
    let explains: Vec<String> = c
        .explains
        .iter()
        .map(|p| {
            let shape = p.shape().map_or_else(
                || "None".to_owned(),
                |s| {
                    format!(
                        "Some(({}, {}))",
                        literals.add(s.literals.as_deref()),
                        s.specificity
                    )
                },
            );
            format!("PatternDef {{ source: {:?}, shape: {shape} }}", p.as_str())
        })
        .collect();
    let _ = writeln!(
        out,
        "    CheckDef {{\n        id: {:?},\n        area: {:?},\n        title: {:?},\n        \
         severity: Severity::{:?},\n        severity_from: {},\n        profiles: {},\n        \
         since: {},\n        applies_if: {},\n        fails_if: {},\n        summary: {:?},\n        \
         why: {:?},\n        fix: &[{}],\n        explains: &[{}],\n        signals: {},\n        references: {},\n        \
         endpoints: {},\n        consequence_of: {},\n        waits_for: {},\n        file: {:?},\n        \
         line: {},\n        column: {},\n    }},",
        c.id,
        c.area,
        c.title,
        c.severity,
        optional(c.severity_from.as_ref()),
        string_list(&c.profiles),
        optional(c.since.as_ref()),
        optional_condition(c.applies_if.as_ref()),
        condition(&c.fails_if),
        c.summary,
        c.why,
        fix.join(", "),
        explains.join(", "),
        string_list(&c.signals),
        string_list(&c.references),
        c.endpoints.as_ref().map_or_else(
            || "None".to_owned(),
            |e| format!("Some({})", string_list(e))
        ),
        string_list(&c.consequence_of),
        optional(c.waits_for.as_ref()),
        c.origin.file.display().to_string(),
        c.origin.line,
        c.origin.column,
    );
}
