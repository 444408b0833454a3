//! Reading check files. Errors carry file:line:col; unknown keys are rejected; fact keys and
//! predicate types are cross-checked against the fact schema; duplicate ids in one source
//! are reported with both locations.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{
    Catalog, Check, Condition, FixStep, Origin, PROFILES, Pattern, Severity, Test, Tier,
    placeholders,
};
use crate::error::{CatalogError, ProbeError};
use crate::facts::{self, FactKind, Value};

/// The built-in check files, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "checks/packages.toml",
        include_str!("../../checks/packages.toml"),
    ),
    (
        "checks/daemon.toml",
        include_str!("../../checks/daemon.toml"),
    ),
    (
        "checks/access.toml",
        include_str!("../../checks/access.toml"),
    ),
    (
        "checks/kernel.toml",
        include_str!("../../checks/kernel.toml"),
    ),
    (
        "checks/network.toml",
        include_str!("../../checks/network.toml"),
    ),
    (
        "checks/storage.toml",
        include_str!("../../checks/storage.toml"),
    ),
    (
        "checks/nvidia.toml",
        include_str!("../../checks/nvidia.toml"),
    ),
    ("checks/kvm.toml", include_str!("../../checks/kvm.toml")),
    (
        "checks/libvirt.toml",
        include_str!("../../checks/libvirt.toml"),
    ),
    (
        "checks/display.toml",
        include_str!("../../checks/display.toml"),
    ),
    (
        "checks/docker-osx.toml",
        include_str!("../../checks/docker-osx.toml"),
    ),
    (
        "checks/rootless.toml",
        include_str!("../../checks/rootless.toml"),
    ),
];

/// Check files larger than this are refused rather than parsed.
const MAX_CHECK_FILE_BYTES: u64 = 1024 * 1024;

/// What loading produced: the checks that loaded, and an error per check or file that did not.
#[derive(Debug, Default)]
pub struct Loaded {
    pub catalog: Catalog,
    pub errors: Vec<CatalogError>,
}

impl Loaded {
    /// Adds another source; its checks replace same-id checks already loaded.
    pub fn merge(&mut self, other: Loaded) {
        self.catalog.merge(other.catalog);
        self.errors.extend(other.errors);
    }

    /// Checks what can only be checked once every source is merged, as the checks will run:
    /// the `consequence_of` links ([`link_errors`]). Call it once, after the last merge.
    pub fn finish(&mut self) {
        let errors = link_errors(&self.catalog);
        self.errors.extend(errors);
    }
}

/// The `consequence_of` links of a whole catalog: each must name a check that exists, and no
/// chain of them may come back to where it began (a cycle would list each failure under the
/// other). One error per check that names a missing check or starts a cycle, at that check.
pub fn link_errors(catalog: &Catalog) -> Vec<CatalogError> {
    let at = |c: &Check, message: String| {
        located(&c.origin.file, c.origin.line, c.origin.column, message)
    };
    let mut errors = Vec::new();
    for c in &catalog.checks {
        for cause in &c.consequence_of {
            if catalog.get(cause).is_none() {
                errors.push(at(
                    c,
                    format!(
                        "`{}`: `consequence_of` names `{cause}`, which no loaded check has",
                        c.id
                    ),
                ));
            }
        }
        if let Some(path) = cycle_from(catalog, c) {
            errors.push(at(
                c,
                format!(
                    "`{}`: `consequence_of` comes back to it: {}",
                    c.id,
                    path.join(" -> ")
                ),
            ));
        }
    }
    errors
}

/// A chain of `consequence_of` links from `start` back to it, as the ids along it.
fn cycle_from<'a>(catalog: &'a Catalog, start: &'a Check) -> Option<Vec<&'a str>> {
    // Depth first, each check entered once; `path` is the chain to the check on top.
    let mut path: Vec<&str> = vec![&start.id];
    let mut pending: Vec<std::slice::Iter<'a, String>> = vec![start.consequence_of.iter()];
    let mut seen: Vec<&str> = Vec::new();
    while let Some(links) = pending.last_mut() {
        let Some(next) = links.next() else {
            pending.pop();
            path.pop();
            continue;
        };
        if *next == start.id {
            path.push(next);
            return Some(path);
        }
        if seen.contains(&next.as_str()) {
            continue;
        }
        seen.push(next);
        if let Some(check) = catalog.get(next) {
            path.push(&check.id);
            pending.push(check.consequence_of.iter());
        }
    }
    None
}

/// The built-in checks, in the form build.rs embedded them (checked with this loader when
/// dockdoc was built; see [`load_builtin_toml`]).
pub fn load_builtin() -> Loaded {
    crate::builtin::load()
}

/// The built-in check files parsed from their TOML: what build.rs runs, so that any load error
/// fails the build, before it writes the checks out for [`load_builtin`].
pub fn load_builtin_toml() -> Loaded {
    let mut loaded = Loaded::default();
    for (name, text) in BUILTIN {
        let one = load_source(Path::new(name), text, Source::Builtin);
        loaded.catalog.checks.extend(one.catalog.checks);
        loaded.catalog.area_titles.extend(one.catalog.area_titles);
        loaded.errors.extend(one.errors);
    }
    report_duplicates(&mut loaded);
    loaded
}

/// Loads every `*.toml` in a directory, in name order. A missing directory is not an error.
pub fn load_dir(dir: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return loaded,
        Err(e) => {
            loaded.errors.push(located(
                dir,
                0,
                0,
                format!("cannot read the directory: {e}"),
            ));
            return loaded;
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for file in files {
        let text = match read_limited(&file) {
            Ok(t) => t,
            Err(message) => {
                loaded.errors.push(located(&file, 0, 0, message));
                continue;
            }
        };
        let one = load_str(&file, &text);
        loaded.catalog.checks.extend(one.catalog.checks);
        loaded.catalog.area_titles.extend(one.catalog.area_titles);
        loaded.errors.extend(one.errors);
    }
    report_duplicates(&mut loaded);
    loaded
}

fn read_limited(file: &Path) -> Result<String, String> {
    // Opened with O_NONBLOCK and judged by fstat on the open file, so a FIFO swapped in after a
    // look cannot hang the run, and nothing past the limit is read.
    let bytes = crate::facts::sysroot::read_regular_file(file, MAX_CHECK_FILE_BYTES).map_err(
        |e| match e {
            ProbeError::NotAFile { kind, .. } => {
                format!("is {kind}, not a regular file; not reading it")
            }
            ProbeError::TooLarge { limit, .. } => {
                format!("larger than the {limit} bytes a check file may have")
            }
            ProbeError::Io { source, .. } => format!("cannot read the file: {source}"),
            other => other.to_string(),
        },
    )?;
    String::from_utf8(bytes).map_err(|e| format!("the file is not UTF-8: {e}"))
}

fn located(file: &Path, line: usize, column: usize, message: String) -> CatalogError {
    CatalogError {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

/// Parses a TOML file's text into `T`; a syntax error, an unknown key or a wrong type is an
/// error at its file:line:col.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, CatalogError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = line_col(text, e.span().map_or(0, |s| s.start));
        located(file, line, column, e.message().trim().to_owned())
    })
}

/// Where each line of a text starts, to turn the many offsets of one file into lines and
/// columns without scanning from the top each time.
struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> LineIndex<'t> {
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset, as [`line_col`] counts them.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |l| l.chars().count());
        (line, column + 1)
    }
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    // Counted as bytes, which the compiler vectorises; it runs for every check loaded.
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Within one source, a second check with the same id is an error naming both places.
fn report_duplicates(loaded: &mut Loaded) {
    let mut kept: Vec<Check> = Vec::new();
    for check in std::mem::take(&mut loaded.catalog.checks) {
        if let Some(first) = kept.iter().find(|c| c.id == check.id) {
            loaded.errors.push(CatalogError {
                file: check.origin.file.clone(),
                line: check.origin.line,
                column: check.origin.column,
                message: format!(
                    "duplicate check id `{}`, first defined at {}",
                    check.id, first.origin
                ),
            });
        } else {
            kept.push(check);
        }
    }
    loaded.catalog.checks = kept;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: Spanned<u32>,
    area: String,
    title: String,
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: Spanned<String>,
    title: String,
    severity: Severity2,
    severity_from: Option<Spanned<String>>,
    profiles: Spanned<Vec<String>>,
    since: Option<String>,
    applies_if: Option<Spanned<RawCondition>>,
    fails_if: Spanned<RawCondition>,
    summary: Spanned<String>,
    why: String,
    #[serde(default)]
    fix: Vec<RawFix>,
    #[serde(default)]
    explains: Vec<Spanned<String>>,
    /// Signals of the vocabulary (`checks/data/signals.toml`) that tie a paste to the check.
    #[serde(default)]
    signals: Vec<Spanned<String>>,
    #[serde(default)]
    references: Vec<String>,
    /// The kinds of daemon endpoint the check judges; absent: every kind.
    endpoints: Option<Spanned<Vec<String>>>,
    /// Checks whose failure, in the same run, is taken as this one's cause.
    #[serde(default)]
    consequence_of: Vec<Spanned<String>>,
    /// What a failure of this check right after `dockdoc fix` ran waits for: `relogin`.
    waits_for: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Severity2 {
    Error,
    Warning,
    Info,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFix {
    step: String,
    command: Option<String>,
    tier: Option<Spanned<String>>,
    changes: Option<String>,
    undo: Option<String>,
    #[serde(default)]
    writes: Vec<String>,
    endpoints: Option<Spanned<Vec<String>>>,
    when: Option<Spanned<RawCondition>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    all: Option<Vec<Spanned<RawCondition>>>,
    any: Option<Vec<Spanned<RawCondition>>>,
    not: Option<Box<Spanned<RawCondition>>>,
    fact: Option<String>,
    is: Option<bool>,
    equals: Option<toml::Value>,
    contains: Option<String>,
    not_contains: Option<String>,
    matches: Option<String>,
    present: Option<bool>,
    less_than: Option<i64>,
    greater_than: Option<i64>,
}

/// Parses one check file. A syntax or schema error loses the file (reported at its line and
/// column); a semantic error inside one check (unknown fact, bad regex) loses only that check.
/// Where a check file comes from, which decides how much is checked at load.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    /// Embedded in dockdoc; its regex syntax is checked by the test suite instead.
    Builtin,
    /// A user's check file: everything is checked, so a mistake is reported with its place.
    User,
}

/// Loads one user check file's text; `file` names it in errors.
pub fn load_str(file: &Path, text: &str) -> Loaded {
    load_source(file, text, Source::User)
}

fn load_source(file: &Path, text: &str, source: Source) -> Loaded {
    let mut loaded = Loaded::default();
    let lines = LineIndex::new(text);
    let at = |offset: usize, message: String| {
        let (line, column) = lines.line_col(offset);
        located(file, line, column, message)
    };
    let raw: RawFile = match parse_toml(file, text) {
        Ok(r) => r,
        Err(e) => {
            loaded.errors.push(e);
            return loaded;
        }
    };
    if *raw.schema.get_ref() != 1 {
        loaded.errors.push(at(
            raw.schema.span().start,
            format!(
                "unsupported schema {}, this dockdoc reads schema 1",
                raw.schema.get_ref()
            ),
        ));
        return loaded;
    }
    loaded
        .catalog
        .area_titles
        .push((raw.area.clone(), raw.title.clone()));
    for raw_check in raw.check {
        match build_check(raw_check.into_inner(), &raw.area, file, &lines, source) {
            Ok(check) => loaded.catalog.checks.push(check),
            Err((offset, message)) => loaded.errors.push(at(offset, message)),
        }
    }
    loaded
}

type Located<T> = Result<T, (usize, String)>;

fn build_check(
    rc: RawCheck,
    area: &str,
    file: &Path,
    lines: &LineIndex<'_>,
    source: Source,
) -> Located<Check> {
    let id_at = rc.id.span().start;
    let id = rc.id.get_ref().clone();
    if !is_kebab(&id) {
        return Err((
            id_at,
            format!("check id `{id}` is not kebab-case (a-z, 0-9, single dashes)"),
        ));
    }
    for p in rc.profiles.get_ref() {
        if !PROFILES.contains(&p.as_str()) || p == "all" {
            return Err((
                rc.profiles.span().start,
                format!(
                    "unknown profile `{p}` (known: {})",
                    PROFILES
                        .iter()
                        .filter(|k| **k != "all")
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    if rc.profiles.get_ref().is_empty() {
        return Err((
            rc.profiles.span().start,
            "a check needs at least one profile".into(),
        ));
    }
    let applies_if = rc
        .applies_if
        .map(|c| build_condition(c, source))
        .transpose()?;
    let fails_if = build_condition(rc.fails_if, source)?;
    let summary_at = rc.summary.span().start;
    let summary = rc.summary.into_inner();
    let mut fix: Vec<FixStep> = Vec::with_capacity(rc.fix.len());
    for f in rc.fix {
        fix.push(build_fix_step(f, source)?);
    }
    for text in std::iter::once(&summary).chain(fix.iter().flat_map(FixStep::texts)) {
        for key in placeholders(text) {
            if facts::spec_of(key).is_none() {
                return Err((
                    summary_at,
                    format!("placeholder {{{key}}} names no known fact"),
                ));
            }
        }
    }
    let severity_from = match rc.severity_from {
        Some(key) => {
            let at = key.span().start;
            let key = key.into_inner();
            match facts::spec_of(&key) {
                Some(spec) if spec.kind == FactKind::Text => Some(key),
                Some(spec) => {
                    return Err((
                        at,
                        format!("severity_from: the fact {key} is a {}, not text", spec.kind),
                    ));
                }
                None => return Err((at, format!("severity_from names no known fact: {key}"))),
            }
        }
        None => None,
    };
    let mut explains = Vec::new();
    for pattern in rc.explains {
        let start = pattern.span().start;
        let re = match source {
            Source::Builtin => Pattern::builtin(pattern.get_ref()),
            // Every check's patterns are matched as one set: one over the limits would leave
            // explain recognising nothing at all.
            Source::User => {
                let pattern = ascii_quotes(pattern.into_inner().into()).into_owned();
                user_pattern(pattern, "explains").map_err(|e| (start, e))?
            }
        };
        explains.push(re);
    }
    let mut signals = Vec::new();
    for name in rc.signals {
        // A built-in check's names are held to the vocabulary by the catalog test; a user's
        // are checked here, so a misspelt one is reported with its place.
        if source == Source::User
            && super::signals::Vocabulary::builtin()
                .index(name.get_ref())
                .is_none()
        {
            return Err((
                name.span().start,
                format!(
                    "`signals` names `{}`, which checks/data/signals.toml does not define",
                    name.get_ref()
                ),
            ));
        }
        signals.push(name.into_inner());
    }
    let endpoints = rc.endpoints.map(endpoint_kinds).transpose()?;
    let waits_for = match rc.waits_for {
        None => None,
        Some(w) if WAITS_FOR.contains(&w.get_ref().as_str()) => Some(w.into_inner()),
        Some(w) => {
            return Err((
                w.span().start,
                format!(
                    "unknown `waits_for` `{}` (known: {})",
                    w.get_ref(),
                    WAITS_FOR.join(", ")
                ),
            ));
        }
    };
    let mut consequence_of = Vec::new();
    for cause in rc.consequence_of {
        let at = cause.span().start;
        let cause = cause.into_inner();
        if !is_kebab(&cause) || cause == id {
            return Err((
                at,
                format!("`consequence_of` names `{cause}`, not another check's id"),
            ));
        }
        consequence_of.push(cause);
    }
    let (line, column) = lines.line_col(id_at);
    Ok(Check {
        endpoints,
        consequence_of,
        waits_for,
        id,
        area: area.to_owned(),
        title: rc.title,
        severity: match rc.severity {
            Severity2::Error => Severity::Error,
            Severity2::Warning => Severity::Warning,
            Severity2::Info => Severity::Info,
        },
        severity_from,
        profiles: rc.profiles.into_inner(),
        since: rc.since,
        applies_if,
        fails_if,
        summary,
        why: rc.why.trim().to_owned(),
        fix,
        explains,
        signals,
        references: rc.references,
        origin: Origin {
            file: file.to_owned(),
            line,
            column,
        },
        reads: Default::default(),
    })
}

/// What a check may wait for after a fix (`waits_for`).
const WAITS_FOR: &[&str] = &["relogin"];

/// An `endpoints` list: known kinds, at least one.
fn endpoint_kinds(list: Spanned<Vec<String>>) -> Located<Vec<String>> {
    let at = list.span().start;
    let list = list.into_inner();
    if let Some(bad) = list
        .iter()
        .find(|k| !crate::facts::docker::endpoint::KINDS.contains(&k.as_str()))
    {
        return Err((
            at,
            format!(
                "unknown endpoint kind `{bad}` (known: {})",
                crate::facts::docker::endpoint::KINDS.join(", ")
            ),
        ));
    }
    if list.is_empty() {
        return Err((at, "`endpoints` needs at least one kind".into()));
    }
    Ok(list)
}

/// One fix step: its tier (when given) must be a known one, its `when` a valid condition.
fn build_fix_step(f: RawFix, source: Source) -> Located<FixStep> {
    let tier = match f.tier {
        None => None,
        Some(t) => match Tier::parse(t.get_ref()) {
            Some(tier) => Some(tier),
            None => {
                return Err((
                    t.span().start,
                    format!(
                        "unknown tier `{}` (known: {})",
                        t.get_ref(),
                        Tier::ALL
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        },
    };
    Ok(FixStep {
        step: f.step,
        command: f.command,
        tier,
        changes: f.changes,
        undo: f.undo,
        writes: f.writes,
        endpoints: f.endpoints.map(endpoint_kinds).transpose()?,
        when: f.when.map(|c| build_condition(c, source)).transpose()?,
    })
}

/// A regex from a user's check file, for `field`: it must parse and compile within the regex
/// size limits.
/// `text` with the typographic single and double quotes (U+2018, U+2019, U+201C, U+201D) made
/// ASCII; borrowed when it has none. Explain reads a paste this way, and a user's `explains`
/// pattern is loaded this way, so that one written with those quotes still matches. Each is three bytes in UTF-8, E2 80 then 98, 99, 9C or 9D,
/// and no other character's encoding holds that sequence, so the bytes are replaced where found.
pub fn ascii_quotes(text: std::borrow::Cow<'_, str>) -> std::borrow::Cow<'_, str> {
    let quote = |tail: &[u8]| match tail {
        [0xE2, 0x80, 0x98 | 0x99, ..] => Some(b'\''),
        [0xE2, 0x80, 0x9C | 0x9D, ..] => Some(b'"'),
        _ => None,
    };
    let bytes = text.as_bytes();
    let mut found = memchr::memchr_iter(0xE2, bytes)
        .filter(|&i| quote(bytes.get(i..).unwrap_or_default()).is_some())
        .peekable();
    if found.peek().is_none() {
        return text;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut from = 0;
    for i in found {
        out.extend_from_slice(bytes.get(from..i).unwrap_or_default());
        out.extend(quote(bytes.get(i..).unwrap_or_default()));
        from = i + 3;
    }
    out.extend_from_slice(bytes.get(from..).unwrap_or_default());
    // Three bytes of one character became one ASCII byte: still UTF-8.
    std::borrow::Cow::Owned(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

fn user_pattern(source: String, field: &str) -> Result<Pattern, String> {
    let p = Pattern::new(source).map_err(|e| format!("invalid regex in {field}: {e}"))?;
    if p.regex().is_none() {
        return Err(format!("the regex in {field} exceeds the size limits"));
    }
    Ok(p)
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn build_condition(raw: Spanned<RawCondition>, source: Source) -> Located<Condition> {
    let at = raw.span().start;
    let raw = raw.into_inner();
    let combinators = [
        raw.all.is_some(),
        raw.any.is_some(),
        raw.not.is_some(),
        raw.fact.is_some(),
    ];
    if combinators.iter().filter(|b| **b).count() != 1 {
        return Err((
            at,
            "a condition needs exactly one of `all`, `any`, `not` or `fact`".into(),
        ));
    }
    if let Some(list) = raw.all {
        return Ok(Condition::All(
            list.into_iter()
                .map(|c| build_condition(c, source))
                .collect::<Result<_, _>>()?,
        ));
    }
    if let Some(list) = raw.any {
        return Ok(Condition::Any(
            list.into_iter()
                .map(|c| build_condition(c, source))
                .collect::<Result<_, _>>()?,
        ));
    }
    if let Some(inner) = raw.not {
        return Ok(Condition::Not(Box::new(build_condition(*inner, source)?)));
    }
    let key = raw.fact.unwrap_or_default();
    let Some(spec) = facts::spec_of(&key) else {
        return Err((
            at,
            format!("unknown fact `{key}` (see `dockdoc facts --list`)"),
        ));
    };
    let mut tests = Vec::new();
    if let Some(b) = raw.is {
        tests.push((Test::Is(b), &[FactKind::Bool][..]));
    }
    if let Some(v) = raw.equals {
        let value = match v {
            toml::Value::String(s) => Value::Text(s),
            toml::Value::Integer(i) => Value::Int(i),
            toml::Value::Boolean(b) => Value::Bool(b),
            other => {
                return Err((
                    at,
                    format!(
                        "`equals` takes a string, integer or boolean, not {}",
                        other.type_str()
                    ),
                ));
            }
        };
        let kinds: &[FactKind] = match value {
            Value::Int(_) => &[FactKind::Int],
            Value::Bool(_) => &[FactKind::Bool],
            _ => &[FactKind::Text],
        };
        tests.push((Test::Equals(value), kinds));
    }
    if let Some(s) = raw.contains {
        tests.push((Test::Contains(s), &[FactKind::List, FactKind::Text][..]));
    }
    if let Some(s) = raw.not_contains {
        tests.push((Test::NotContains(s), &[FactKind::List, FactKind::Text][..]));
    }
    if let Some(s) = raw.matches {
        let pattern = match source {
            Source::Builtin => Pattern::builtin(&s),
            Source::User => user_pattern(s, "`matches`").map_err(|e| (at, e))?,
        };
        tests.push((Test::Matches(pattern), &[FactKind::Text][..]));
    }
    if let Some(b) = raw.present {
        tests.push((
            Test::Present(b),
            &[
                FactKind::Bool,
                FactKind::Int,
                FactKind::Text,
                FactKind::List,
            ][..],
        ));
    }
    if let Some(n) = raw.less_than {
        tests.push((Test::LessThan(n), &[FactKind::Int, FactKind::List][..]));
    }
    if let Some(n) = raw.greater_than {
        tests.push((Test::GreaterThan(n), &[FactKind::Int, FactKind::List][..]));
    }
    if tests.len() != 1 {
        return Err((
            at,
            format!(
                "a fact condition on `{key}` needs exactly one of is, equals, contains, not_contains, matches, present, less_than, greater_than"
            ),
        ));
    }
    let Some((test, kinds)) = tests.pop() else {
        return Err((at, "empty condition".into()));
    };
    if !kinds.contains(&spec.kind) {
        return Err((
            at,
            format!(
                "fact `{key}` is a {}, which this test cannot compare",
                spec.kind
            ),
        ));
    }
    Ok(Condition::Fact { key, test })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"schema = 1
area = "kernel"
title = "Kernel"

[[check]]
id = "ip-forwarding-disabled"
title = "t"
severity = "error"
profiles = ["docker"]
fails_if = { fact = "kernel.ip_forward", is = false }
summary = "release {kernel.running_release}"
why = "w"
fix = [{ step = "s", command = "c" }]
explains = ["(?i)forward"]
"#;

    #[test]
    fn the_line_index_agrees_with_counting_from_the_top() {
        let text = "a\nbé\n\nxyz\n";
        let lines = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            if text.is_char_boundary(offset.min(text.len())) {
                assert_eq!(lines.line_col(offset), line_col(text, offset), "{offset}");
            }
        }
    }

    fn load(text: &str) -> Loaded {
        load_str(Path::new("t.toml"), text)
    }

    #[test]
    fn loads_a_valid_file() {
        let l = load(GOOD);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let c = &l.catalog.checks[0];
        assert_eq!(c.id, "ip-forwarding-disabled");
        assert_eq!((c.origin.line, c.origin.column), (6, 6));
        assert_eq!(
            c.fact_keys(),
            ["kernel.ip_forward", "kernel.running_release"]
        );
    }

    #[test]
    fn unknown_key_is_located() {
        let l = load(&GOOD.replace("why = \"w\"", "why = \"w\"\nwhy_not = 1"));
        assert!(l.catalog.checks.is_empty());
        let e = l.errors[0].to_string();
        assert!(e.starts_with("t.toml:13:1: unknown field `why_not`"), "{e}");
    }

    #[test]
    fn unknown_fact_and_wrong_type_are_located() {
        let l = load(&GOOD.replace("kernel.ip_forward\", is", "kernel.nope\", is"));
        assert!(
            l.errors[0]
                .to_string()
                .contains("t.toml:10:12: unknown fact `kernel.nope`"),
            "{}",
            l.errors[0]
        );
        let l = load(&GOOD.replace("is = false", "less_than = 3"));
        assert!(
            l.errors[0].to_string().contains("is a bool"),
            "{}",
            l.errors[0]
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let l = load("schema = 1\narea = \"a\"\ntitle = \"t\"\n[[check]\n");
        assert_eq!(l.errors[0].line, 4, "{}", l.errors[0]);
    }

    #[test]
    fn bad_regex_and_duplicates_are_reported() {
        let l = load(&GOOD.replace("(?i)forward", "(unclosed"));
        assert!(
            l.errors[0]
                .to_string()
                .contains("t.toml:14:13: invalid regex"),
            "{}",
            l.errors[0]
        );
        let (_, from_check) = GOOD.split_once("[[check]]").unwrap();
        let twice = format!("{GOOD}\n[[check]]{from_check}");
        let mut l = load(&twice);
        report_duplicates(&mut l);
        assert_eq!(l.catalog.checks.len(), 1);
        assert!(
            l.errors[0]
                .to_string()
                .contains("first defined at t.toml:6:6"),
            "{}",
            l.errors[0]
        );
    }
}
