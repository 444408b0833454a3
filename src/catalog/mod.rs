//! The check catalog: checks as data, loaded from `checks/*.toml` (embedded at build time)
//! and from the user's check directories.

pub mod literals;
pub mod load;
pub mod signals;

use std::fmt;
use std::path::PathBuf;

use regex::Regex;
use serde::Serialize;

use crate::facts::Value;

pub use load::{Loaded, load_builtin, load_dir, load_str};
pub(crate) use load::{line_col, parse_toml};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// Parses `error`, `warning` or `info`.
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The profiles a user can select. A check names the profiles it belongs to; `docker-osx`
/// also runs every `docker` check, and `all` runs everything.
pub const PROFILES: &[&str] = &[
    "docker",
    "docker-osx",
    "kernel-upgrade",
    "rootless",
    "registry",
    "all",
];

/// Whether a check that lists `check_profiles` runs when `selected` profiles are asked for.
pub fn profile_selects(selected: &[String], check_profiles: &[String]) -> bool {
    selected.iter().any(|p| match p.as_str() {
        "all" => true,
        "docker-osx" => check_profiles
            .iter()
            .any(|c| c == "docker" || c == "docker-osx"),
        other => check_profiles.iter().any(|c| c == other),
    })
}

/// A predicate over one fact.
#[derive(Clone, Debug)]
pub enum Test {
    Is(bool),
    Equals(Value),
    Contains(String),
    NotContains(String),
    /// A built-in check's regex is compiled when first used (the test suite compiles them all);
    /// a user's is checked when its file loads.
    Matches(Pattern),
    Present(bool),
    LessThan(i64),
    GreaterThan(i64),
}

#[derive(Clone, Debug)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Fact { key: String, test: Test },
}

impl Condition {
    /// Every fact key the condition reads, in order of first appearance.
    pub fn fact_keys<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| c.fact_keys(out)),
            Condition::Not(c) => c.fact_keys(out),
            Condition::Fact { key, .. } => {
                if !out.contains(&key.as_str()) {
                    out.push(key);
                }
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, cs: &[Condition], op: &str| {
            f.write_str("(")?;
            for (i, c) in cs.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                c.fmt(f)?;
            }
            f.write_str(")")
        };
        match self {
            Condition::All(cs) => join(f, cs, "and"),
            Condition::Any(cs) => join(f, cs, "or"),
            Condition::Not(c) => write!(f, "not {c}"),
            Condition::Fact { key, test } => match test {
                Test::Is(b) => write!(f, "{key} is {b}"),
                Test::Equals(v) => write!(f, "{key} = {v}"),
                Test::Contains(s) => write!(f, "{key} contains {s}"),
                Test::NotContains(s) => write!(f, "{key} does not contain {s}"),
                Test::Matches(r) => write!(f, "{key} matches /{}/", r.as_str()),
                Test::Present(true) => write!(f, "{key} is set"),
                Test::Present(false) => write!(f, "{key} is not set"),
                Test::LessThan(n) => write!(f, "{key} < {n}"),
                Test::GreaterThan(n) => write!(f, "{key} > {n}"),
            },
        }
    }
}

/// How far `dockdoc fix` may take a step on its own (docs/usage.md, "Fixing").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Only reads (grep, cat, journalctl, `systemctl status`): shown in the plan for a person to
    /// read, never run, since it changes nothing.
    Inspect,
    /// Idempotent and reversible, with no effect on running containers: run with `--yes`.
    Safe,
    /// Reversible, but it stops or restarts something people use: run only when asked for.
    Disruptive,
    /// The fix is a reboot: never run; the plan ends with it.
    Reboot,
    /// A person decides (an edit, a choice, anything that relaxes security): never run.
    Manual,
}

impl Tier {
    pub const ALL: &[Tier] = &[
        Tier::Inspect,
        Tier::Safe,
        Tier::Disruptive,
        Tier::Reboot,
        Tier::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Inspect => "inspect",
            Tier::Safe => "safe",
            Tier::Disruptive => "disruptive",
            Tier::Reboot => "reboot",
            Tier::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<Tier> {
        Tier::ALL.iter().copied().find(|t| t.as_str() == text)
    }

    /// Whether `dockdoc fix --apply` may run a step of this tier (with consent).
    pub fn automatable(self) -> bool {
        matches!(self, Tier::Safe | Tier::Disruptive)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a check's fix. The report shows `step` and `command`; the other fields are
/// for `dockdoc fix` (its plan, the undo journal) and are not part of the report's JSON.
#[derive(Clone, Debug, Serialize)]
pub struct FixStep {
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// `None` only in a user's check file that does not say: `dockdoc fix` treats it as manual.
    #[serde(skip)]
    pub tier: Option<Tier>,
    /// What the step changes, in a few words (`docker.socket: enabled and started`).
    #[serde(skip)]
    pub changes: Option<String>,
    /// The command that reverts it, run by `dockdoc fix --undo` after the files in `writes`
    /// are restored.
    #[serde(skip)]
    pub undo: Option<String>,
    /// The files the command writes: backed up before it runs, restored byte for byte (or
    /// removed, when they did not exist) by `--undo`.
    #[serde(skip)]
    pub writes: Vec<String>,
    /// The endpoint kinds this step is for (as a check's `endpoints`); `None`: every kind.
    #[serde(skip)]
    pub endpoints: Option<Vec<String>>,
    /// A precondition: when it is false the step is left out of the fix.
    #[serde(skip)]
    pub when: Option<Condition>,
}

impl FixStep {
    /// A step with only the text a person reads (the other fields unset).
    pub fn text(step: String, command: Option<String>) -> FixStep {
        FixStep {
            step,
            command,
            tier: None,
            changes: None,
            undo: None,
            writes: Vec::new(),
            endpoints: None,
            when: None,
        }
    }

    /// The tier `dockdoc fix` acts on: a step without one is manual.
    pub fn tier(&self) -> Tier {
        self.tier.unwrap_or(Tier::Manual)
    }

    /// The texts that may hold `{area.key}` placeholders.
    pub fn texts(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.step)
            .chain(self.command.as_ref())
            .chain(self.changes.as_ref())
            .chain(self.undo.as_ref())
            .chain(self.writes.iter())
    }
}

/// Where a check was defined, for error messages and `dockdoc list -v`.
#[derive(Clone, Debug, Serialize)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// An `explains` pattern: a user's pattern is parsed when the catalog loads (so a mistake is
/// reported with its place), a built-in one when `explain` first needs it; it is compiled only
/// when error text is matched against it, so `check` never pays for the regex automata.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    /// The parsed pattern, kept so `explain` can draw its literals without parsing it again;
    /// `None` inside if it does not parse.
    hir: std::sync::OnceLock<Option<regex_syntax::hir::Hir>>,
    /// What `explain` draws from the parse; `None` inside if it does not parse.
    shape: std::sync::OnceLock<Option<literals::Shape>>,
    compiled: std::sync::OnceLock<Option<Regex>>,
}

/// The size limit of one compiled pattern (the regex crate's default): a user's pattern over it
/// does not load. A set of patterns is given this much per pattern, so patterns that load one by
/// one always compile together.
pub const REGEX_SIZE_LIMIT: usize = 10 * (1 << 20);

impl Pattern {
    /// A pattern whose syntax `regex_syntax` accepted; the error is the parser's message.
    pub fn new(source: String) -> Result<Pattern, String> {
        let hir = regex_syntax::Parser::new()
            .parse(&source)
            .map_err(|e| e.to_string())?;
        Ok(Pattern {
            source,
            hir: std::sync::OnceLock::from(Some(hir)),
            shape: std::sync::OnceLock::new(),
            compiled: std::sync::OnceLock::new(),
        })
    }

    /// A built-in pattern, taken as it is: the test suite checks that every built-in pattern
    /// parses and compiles (tests/catalog.rs), so a run does not parse hundreds of regexes it
    /// may never use.
    pub fn builtin(source: &str) -> Pattern {
        Pattern {
            source: source.to_owned(),
            hir: std::sync::OnceLock::new(),
            shape: std::sync::OnceLock::new(),
            compiled: std::sync::OnceLock::new(),
        }
    }

    /// A built-in pattern with its shape as build.rs worked it out (`None`: it does not parse).
    pub fn builtin_shaped(source: &str, shape: Option<literals::Shape>) -> Pattern {
        Pattern {
            source: source.to_owned(),
            hir: std::sync::OnceLock::new(),
            shape: std::sync::OnceLock::from(shape),
            compiled: std::sync::OnceLock::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The pattern as `regex_syntax` parses it (the same parse `Regex::new` makes); `None`
    /// when it does not parse.
    pub fn hir(&self) -> Option<&regex_syntax::hir::Hir> {
        self.hir
            .get_or_init(|| regex_syntax::Parser::new().parse(&self.source).ok())
            .as_ref()
    }

    /// Its literals and specificity ([`literals::Shape`]); `None` when it does not parse.
    pub fn shape(&self) -> Option<&literals::Shape> {
        self.shape
            .get_or_init(|| self.hir().map(literals::Shape::of))
            .as_ref()
    }

    /// The compiled regex; `None` only if it exceeds the regex size limits.
    pub fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| {
                regex::RegexBuilder::new(&self.source)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    pub fn is_match(&self, text: &str) -> bool {
        match literal_match(&self.source, text) {
            Some(matched) => matched,
            None => self.regex().is_some_and(|re| re.is_match(text)),
        }
    }
}

/// Whether `text` matches `pattern`, without compiling it, when the pattern is only literals
/// anchored at the start: `^lit`, `^lit$`, `^(a|b|c)` or `^(a|b|c)$`, each literal made of
/// ASCII letters, digits, `-`, `_` and spaces (no character the regex syntax gives a meaning
/// outside a class). `None` for any other pattern. Most `matches` conditions take this shape;
/// compiling them was 1.5 M of the default profile's 18 M instructions (callgrind, dist profile).
fn literal_match(pattern: &str, text: &str) -> Option<bool> {
    let body = pattern.strip_prefix('^')?;
    let (body, whole) = match body.strip_suffix('$') {
        Some(body) => (body, true),
        None => (body, false),
    };
    // Without the group, `|` would split the anchors off (`^a|b$` is `(^a)|(b$)`).
    let (alternatives, grouped) = match body.strip_prefix('(').and_then(|b| b.strip_suffix(')')) {
        Some(group) => (group, true),
        None => (body, false),
    };
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b' ');
    let ok = alternatives
        .bytes()
        .all(|b| plain(b) || (grouped && b == b'|'));
    if !ok {
        return None;
    }
    Some(alternatives.split('|').any(|lit| match whole {
        true => text == lit,
        false => text.starts_with(lit),
    }))
}

/// The source only: what is worked out from it is a cache.
impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[derive(Clone, Debug)]
pub struct Check {
    pub id: String,
    pub area: String,
    pub title: String,
    pub severity: Severity,
    /// A text fact (`error`, `warning` or `info`) whose value replaces `severity` when the
    /// check fails, for a check whose data says how bad each match is; `severity` stays the
    /// listed one and applies when the fact has no such value.
    pub severity_from: Option<String>,
    pub profiles: Vec<String>,
    pub since: Option<String>,
    pub applies_if: Option<Condition>,
    pub fails_if: Condition,
    pub summary: String,
    pub why: String,
    pub fix: Vec<FixStep>,
    pub explains: Vec<Pattern>,
    /// Signals of the vocabulary ([`signals::Vocabulary`]) that tie a pasted error to the check.
    pub signals: Vec<String>,
    pub references: Vec<String>,
    /// The kinds of Docker endpoint the check judges (`docker.endpoint_kind`): system,
    /// rootless, desktop, remote, other. `None`: every kind. Where the CLI talks to another
    /// kind, the check is not applicable.
    pub endpoints: Option<Vec<String>>,
    /// Checks that, when they fail in the same run, are this check's cause: this check is then
    /// listed under that cause as its consequence, not as a problem of its own.
    pub consequence_of: Vec<String>,
    /// What a failure right after `dockdoc fix` ran waits for (`relogin`: group membership
    /// reaches a session only at its next login), instead of being "still failing".
    pub waits_for: Option<String>,
    pub origin: Origin,
    /// [`Check::fact_keys`], worked out on first use and kept, so a check's texts are parsed for
    /// placeholders once a run, not on every evaluation.
    pub reads: Reads,
}

/// The fact keys a check reads, worked out on first use. Shown as nothing in `{:?}`: it
/// follows from the check's other fields.
#[derive(Clone, Default)]
pub struct Reads(std::sync::OnceLock<Vec<String>>);

impl fmt::Debug for Reads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reads")
    }
}

impl Check {
    /// Every fact key the check reads: conditions first, then placeholders.
    pub fn fact_keys(&self) -> Vec<&str> {
        self.reads
            .0
            .get_or_init(|| self.read_keys().into_iter().map(str::to_owned).collect())
            .iter()
            .map(String::as_str)
            .collect()
    }

    fn read_keys(&self) -> Vec<&str> {
        let mut keys = Vec::new();
        if let Some(c) = &self.applies_if {
            c.fact_keys(&mut keys);
        }
        self.fails_if.fact_keys(&mut keys);
        if let Some(key) = &self.severity_from
            && !keys.contains(&key.as_str())
        {
            keys.push(key);
        }
        for text in std::iter::once(&self.summary).chain(self.fix.iter().flat_map(FixStep::texts)) {
            for key in placeholders(text) {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        keys
    }
}

/// The `{area.key}` placeholders in a text. Braces that do not hold a dotted key (shell
/// `${VAR}` or `{}`) are left alone.
pub fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|rest| {
        let key = rest.split('}').next()?;
        let valid = rest.contains('}')
            && key.contains('.')
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        valid.then_some(key)
    })
}

/// Area display order: the order in which a person would fix things.
pub const AREA_ORDER: &[&str] = &[
    "packages",
    "daemon",
    "access",
    "kernel",
    "network",
    "storage",
    "kvm",
    "libvirt",
    "display",
    "docker-osx",
];

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub checks: Vec<Check>,
    /// Area titles from the check files, by area name.
    pub area_titles: Vec<(String, String)>,
}

impl Catalog {
    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    pub fn area_title<'a>(&'a self, area: &'a str) -> &'a str {
        self.area_titles
            .iter()
            .find(|(a, _)| a == area)
            .map_or(area, |(_, t)| t.as_str())
    }

    /// Adds checks from another source; a check whose id already exists replaces it.
    pub fn merge(&mut self, other: Catalog) {
        for check in other.checks {
            match self.checks.iter_mut().find(|c| c.id == check.id) {
                Some(slot) => *slot = check,
                None => self.checks.push(check),
            }
        }
        for (area, title) in other.area_titles {
            if !self.area_titles.iter().any(|(a, _)| *a == area) {
                self.area_titles.push((area, title));
            }
        }
    }

    /// Orders checks by area (in [`AREA_ORDER`], unknown areas last) and keeps file order within.
    pub fn sort(&mut self) {
        let rank = |area: &str| {
            AREA_ORDER
                .iter()
                .position(|a| *a == area)
                .unwrap_or(AREA_ORDER.len())
        };
        self.checks
            .sort_by(|a, b| rank(&a.area).cmp(&rank(&b.area)).then(a.area.cmp(&b.area)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_take_dotted_keys_only() {
        let found: Vec<_> =
            placeholders("kernel {kernel.running_release} ${HOME} {} {x} {user.name}").collect();
        assert_eq!(found, ["kernel.running_release", "user.name"]);
    }

    #[test]
    fn literal_patterns_match_as_their_regex_does() {
        let texts = [
            "",
            "failed",
            "failed ",
            "xfailed",
            "activating",
            "inactive",
            "context default",
            "context",
            "Context x",
            "enabled-runtime",
            "a|b",
            "a",
            "b",
        ];
        let literal = [
            "^failed$",
            "^(failed|activating)$",
            "^(inactive|deactivating)$",
            "^context ",
            "^(enabled|enabled-runtime|linked)$",
            "^(a|b)",
            "^",
            "^$",
            "^()$",
            "^(a||b)$",
        ];
        for pattern in literal {
            let re = regex::Regex::new(pattern).unwrap();
            for text in texts {
                assert_eq!(
                    literal_match(pattern, text),
                    Some(re.is_match(text)),
                    "/{pattern}/ on {text:?}"
                );
                assert_eq!(Pattern::builtin(pattern).is_match(text), re.is_match(text));
            }
        }
        // Anything else is left to the regex: an alternation outside a group, metacharacters,
        // flags, an unanchored or unbalanced pattern.
        for pattern in [
            "^a|b$",
            "^(a)|(b)$",
            "^(1|1[7-9])\\.",
            "^a.c$",
            "(?i)^failed$",
            "failed$",
            "^(a|(b))$",
            "^(a|b",
            "^failed\\$",
        ] {
            assert_eq!(literal_match(pattern, "a"), None, "{pattern}");
        }
        assert!(Pattern::builtin("^a|b$").is_match("xb"));
        assert!(!Pattern::builtin("^(a|b").is_match("a"));
    }

    #[test]
    fn docker_osx_includes_docker_checks() {
        let sel = vec!["docker-osx".to_owned()];
        assert!(profile_selects(&sel, &["docker".to_owned()]));
        assert!(!profile_selects(&sel, &["kernel-upgrade".to_owned()]));
        assert!(profile_selects(
            &["all".to_owned()],
            &["kernel-upgrade".to_owned()]
        ));
        assert!(!profile_selects(
            &["docker".to_owned()],
            &["docker-osx".to_owned()]
        ));
    }
}
