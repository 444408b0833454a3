//! Pure evaluation of checks over facts: applicability, then the failing condition, then the
//! finding. Three-valued: a condition that reads an unknown fact is unknown unless the known
//! facts already decide it (`all` with one false member is false whatever the others are).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::catalog::{
    Catalog, Check, Condition, FixStep, Severity, Test, placeholders, profile_selects,
};
use crate::facts::{Fact, Facts, Value};
use crate::finding::{Evidence, Finding, Status};

/// Which checks run, and which are demoted to skipped.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub profiles: Vec<String>,
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

/// The profiles a run selects: those asked for with `--profile`, or `docker` by default, to
/// which a default run adds `rootless` when the CLI talks to a rootless daemon
/// (`docker.mode`, from the endpoint). `check` and `explain` select alike.
pub fn profiles(asked: &[String], facts: Option<&Facts>) -> Vec<String> {
    if !asked.is_empty() {
        return asked.to_vec();
    }
    let mut profiles = vec!["docker".to_owned()];
    if facts.is_some_and(|f| f.text("docker.mode") == Some("rootless")) {
        profiles.push("rootless".to_owned());
    }
    profiles
}

impl Selection {
    pub fn includes(&self, check: &Check) -> bool {
        if !self.only.is_empty() {
            return self.only.contains(&check.id);
        }
        profile_selects(&self.profiles, &check.profiles)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Truth {
    True,
    False,
    /// Unknown, with the reasons of the facts that made it so.
    Unknown(Vec<String>),
    Skipped(Vec<String>),
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            other => other,
        }
    }
}

/// Folds members: `decisive` short-circuits (false for `all`, true for `any`).
fn fold(members: impl Iterator<Item = Truth>, decisive: Truth, otherwise: Truth) -> Truth {
    let mut unknown = Vec::new();
    let mut skipped = Vec::new();
    for t in members {
        match t {
            t if t == decisive => return decisive,
            Truth::Unknown(r) => unknown.extend(r),
            Truth::Skipped(r) => skipped.extend(r),
            _ => {}
        }
    }
    if !unknown.is_empty() {
        Truth::Unknown(unknown)
    } else if !skipped.is_empty() {
        Truth::Skipped(skipped)
    } else {
        otherwise
    }
}

fn truth(b: bool) -> Truth {
    if b { Truth::True } else { Truth::False }
}

fn evaluate(cond: &Condition, facts: &Facts) -> Truth {
    match cond {
        Condition::All(cs) => fold(
            cs.iter().map(|c| evaluate(c, facts)),
            Truth::False,
            Truth::True,
        ),
        Condition::Any(cs) => fold(
            cs.iter().map(|c| evaluate(c, facts)),
            Truth::True,
            Truth::False,
        ),
        Condition::Not(c) => evaluate(c, facts).not(),
        Condition::Fact { key, test } => match &*lookup(facts, key) {
            Fact::Unknown { reason } => Truth::Unknown(vec![format!("{key}: {reason}")]),
            Fact::Skipped { reason } => Truth::Skipped(vec![reason.clone()]),
            Fact::Known { value } => test_value(test, value),
        },
    }
}

/// The fact, borrowed where it was gathered: a condition reads it without copying it.
fn lookup<'a>(facts: &'a Facts, key: &str) -> std::borrow::Cow<'a, Fact> {
    match facts.facts.get(key) {
        Some(fact) => std::borrow::Cow::Borrowed(fact),
        None => std::borrow::Cow::Owned(facts.get(key)),
    }
}

fn test_value(test: &Test, value: &Value) -> Truth {
    match (test, value) {
        (Test::Present(want), v) => truth((*v != Value::Null) == *want),
        // A fact that is known to have no value fails every comparison.
        (_, Value::Null) => Truth::False,
        (Test::Is(want), Value::Bool(b)) => truth(b == want),
        (Test::Equals(want), v) => truth(v == want),
        (Test::Contains(s), Value::List(l)) => truth(l.iter().any(|x| x == s)),
        (Test::Contains(s), Value::Text(t)) => truth(t.contains(s.as_str())),
        (Test::NotContains(s), Value::List(l)) => truth(!l.iter().any(|x| x == s)),
        (Test::NotContains(s), Value::Text(t)) => truth(!t.contains(s.as_str())),
        (Test::Matches(re), Value::Text(t)) => truth(re.is_match(t)),
        (Test::LessThan(n), Value::Int(i)) => truth(i < n),
        (Test::GreaterThan(n), Value::Int(i)) => truth(i > n),
        // On a list, the comparisons count its members: `greater_than = 0` means "not empty".
        (Test::LessThan(n), Value::List(l)) => {
            truth(i64::try_from(l.len()).is_ok_and(|len| len < *n))
        }
        (Test::GreaterThan(n), Value::List(l)) => {
            truth(i64::try_from(l.len()).is_ok_and(|len| len > *n))
        }
        (_, v) => Truth::Unknown(vec![format!(
            "the value `{v}` has the wrong type for this test"
        )]),
    }
}

/// Fills `{area.key}` placeholders from the facts.
pub fn fill(text: &str, facts: &Facts) -> String {
    let mut out = text.to_owned();
    for key in placeholders(text) {
        out = out.replace(&format!("{{{key}}}"), &shown(facts, key));
    }
    out
}

fn shown(facts: &Facts, key: &str) -> String {
    match &*lookup(facts, key) {
        Fact::Known { value } => value.to_string(),
        _ => "(unknown)".to_owned(),
    }
}

/// Fills the placeholders of a fix `command` so the result is safe to paste: a value that is
/// not a plain word (a user name with a space or `;`, a path with `$`) is quoted for the
/// place it lands in: single-quoted outside quotes, escaped inside `'…'` or `"…"`. A key
/// ending in `_args` holds several words, each quoted on its own.
pub fn fill_command(text: &str, facts: &Facts) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '{'
            && let Some(key) = placeholders(rest).next()
            && rest.starts_with(&format!("{{{key}}}"))
        {
            let value = shown(facts, key);
            match quote {
                Some('\'') => out.push_str(&value.replace('\'', r"'\''")),
                Some(_) => {
                    for ch in value.chars() {
                        if matches!(ch, '\\' | '"' | '$' | '`') {
                            out.push('\\');
                        }
                        out.push(ch);
                    }
                }
                None if key.ends_with("_args") => {
                    let words: Vec<String> = value.split_whitespace().map(shell_quote).collect();
                    out.push_str(&words.join(" "));
                }
                None => out.push_str(&shell_quote(&value)),
            }
            rest = rest.get(key.len() + 2..).unwrap_or_default();
            continue;
        }
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        out.push(c);
        rest = rest.get(c.len_utf8()..).unwrap_or_default();
    }
    out
}

/// A check's fix steps with their placeholders filled from the facts. A step whose words or
/// command need a value the facts do not have (unknown, skipped, none, an empty list or text)
/// is left out: a command is something to paste, and `sudo pacman -S '(unknown)'` is not; nor
/// is "restore the rule files pacman set aside ((none))" advice. A step that still has
/// something to say without the value says it in a step of its own.
///
/// A step is also left out when it is for other endpoint kinds than the one the CLI talks to
/// (its `endpoints`), or when its `when` condition is false; an unknown kind or condition keeps
/// it, so no advice is lost to a fact that could not be read.
pub fn fill_fix(check: &Check, facts: &Facts) -> Vec<FixStep> {
    let kind = facts.text(ENDPOINT_KIND);
    check
        .fix
        .iter()
        .filter(|f| {
            placeholders(&f.step).all(|key| has_value(facts, key))
                && f.command
                    .iter()
                    .chain(&f.undo)
                    .chain(&f.changes)
                    .chain(&f.writes)
                    .all(|c| placeholders(c).all(|key| has_value(facts, key)))
        })
        .filter(|f| match (&f.endpoints, kind) {
            (Some(kinds), Some(kind)) => kinds.iter().any(|k| k == kind),
            _ => true,
        })
        .filter(|f| {
            f.when
                .as_ref()
                .is_none_or(|c| evaluate(c, facts) != Truth::False)
        })
        .map(|f| FixStep {
            step: fill(&f.step, facts),
            command: f.command.as_deref().map(|c| fill_command(c, facts)),
            tier: f.tier,
            changes: f.changes.as_deref().map(|c| fill(c, facts)),
            undo: f.undo.as_deref().map(|c| fill_command(c, facts)),
            // A path is one word in the journal, never a shell word: filled as it is.
            writes: f.writes.iter().map(|w| fill(w, facts)).collect(),
            endpoints: f.endpoints.clone(),
            when: None,
        })
        .collect()
}

/// Whether the fact holds something to put in a command.
fn has_value(facts: &Facts, key: &str) -> bool {
    match &*lookup(facts, key) {
        Fact::Known { value } => match value {
            Value::Null => false,
            Value::Text(t) => !t.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Bool(_) | Value::Int(_) => true,
        },
        Fact::Unknown { .. } | Fact::Skipped { .. } => false,
    }
}

/// `word` as one shell word: unchanged when it holds only characters no shell treats
/// specially, otherwise in single quotes (an embedded `'` becomes `'\''`).
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Evaluates one check. Pure: the same facts always give the same finding.
/// The fact that says which kind of daemon the CLI talks to (`endpoints` in a check).
const ENDPOINT_KIND: &str = "docker.endpoint_kind";

pub fn evaluate_check(check: &Check, facts: &Facts, skipped_by_user: bool) -> Finding {
    let mut keys = check.fact_keys();
    if check.endpoints.is_some() && !keys.contains(&ENDPOINT_KIND) {
        keys.push(ENDPOINT_KIND);
    }
    let evidence: Vec<Evidence> = keys
        .into_iter()
        .map(|key| Evidence {
            fact: key.to_owned(),
            state: facts.get(key),
        })
        .collect();
    let Verdict {
        status,
        summary,
        fix,
        severity,
    } = judge(check, facts, skipped_by_user);
    Finding {
        id: check.id.clone(),
        area: check.area.clone(),
        title: check.title.clone(),
        severity: severity.unwrap_or(check.severity),
        status,
        summary,
        evidence,
        fix,
        consequence_of: None,
        waiver: None,
    }
}

/// What a check says of the facts, before its evidence is attached.
struct Verdict {
    status: Status,
    summary: String,
    fix: Vec<FixStep>,
    /// The severity a failure takes from its `severity_from` fact, when it names one.
    severity: Option<Severity>,
}

fn judge(check: &Check, facts: &Facts, skipped_by_user: bool) -> Verdict {
    let finding = |status: Status, summary: String, fix: Vec<FixStep>| Verdict {
        status,
        summary,
        fix,
        severity: None,
    };
    if skipped_by_user {
        return finding(Status::Skipped, "skipped with --skip".into(), Vec::new());
    }
    if let Some(kinds) = &check.endpoints {
        match &*lookup(facts, ENDPOINT_KIND) {
            Fact::Known {
                value: Value::Text(kind),
            } if !kinds.contains(kind) => {
                return finding(
                    Status::NotApplicable,
                    format!(
                        "does not apply: this check judges {} daemons, and the CLI talks to a {kind} one ({})",
                        kinds.join(" and "),
                        shown(facts, "docker.endpoint")
                    ),
                    Vec::new(),
                );
            }
            Fact::Unknown { reason } => {
                return finding(
                    Status::Unknown,
                    format!("unknown, because {ENDPOINT_KIND}: {reason}"),
                    Vec::new(),
                );
            }
            _ => {}
        }
    }
    let undecided = |t: Truth| match t {
        Truth::Unknown(reasons) => Some(finding(
            Status::Unknown,
            format!("unknown, because {}", reasons.join("; ")),
            Vec::new(),
        )),
        Truth::Skipped(reasons) => Some(finding(
            Status::Skipped,
            dedup(reasons).join("; "),
            Vec::new(),
        )),
        _ => None,
    };
    if let Some(cond) = &check.applies_if {
        match evaluate(cond, facts) {
            Truth::False => {
                return finding(
                    Status::NotApplicable,
                    format!("does not apply: {cond} is false"),
                    Vec::new(),
                );
            }
            Truth::True => {}
            other => {
                if let Some(f) = undecided(other) {
                    return f;
                }
            }
        }
    }
    match evaluate(&check.fails_if, facts) {
        Truth::True => {
            let fix = fill_fix(check, facts);
            let mut found = finding(Status::Fail, fill(&check.summary, facts), fix);
            found.severity = check
                .severity_from
                .as_deref()
                .and_then(|key| facts.text(key))
                .and_then(Severity::parse);
            found
        }
        Truth::False => finding(
            Status::Pass,
            format!("ruled out: {}", check.title),
            Vec::new(),
        ),
        other => undecided(other)
            .unwrap_or_else(|| finding(Status::Unknown, "undecided".into(), Vec::new())),
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    v.retain(|s| {
        let new = !seen.contains(s);
        if new {
            seen.push(s.clone());
        }
        new
    });
    v
}

/// Evaluates every selected check, then lists each failure that another failure causes under
/// that cause ([`link_consequences`]). A check that panics becomes an unknown finding that asks
/// for a bug report; the others still run.
pub fn run(catalog: &Catalog, facts: &Facts, selection: &Selection) -> Vec<Finding> {
    let mut findings = evaluate_all(catalog, facts, selection);
    link_consequences(catalog, facts, &mut findings);
    findings
}

/// The fact that holds dockerd's last error from the journal, and the fact a check reads when it
/// is about docker.service's failure: such a check's cause is, first, the failing check whose
/// `explains` patterns recognise what dockerd said.
const LAST_WORDS: &str = "journal.docker_last_error";
const SERVICE_FAILURE: &str = "systemd.docker_service_failure";

/// One cause, one fix: a failing check whose `consequence_of` names a check that also fails is
/// marked as that check's consequence (followed to the root of the chain). A check about
/// docker.service's failure is tied first to the failing check that explains dockerd's last
/// journal line; when the journal names an error that no failing check explains, the list is
/// not guessed from.
pub fn link_consequences(catalog: &Catalog, facts: &Facts, findings: &mut [Finding]) {
    let failing = |id: &str, findings: &[Finding]| {
        findings
            .iter()
            .any(|f| f.id == id && f.status == Status::Fail)
    };
    let last_words = facts.text(LAST_WORDS).map(str::to_owned);
    let mut direct: Vec<(usize, String)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if f.status != Status::Fail {
            continue;
        }
        let Some(check) = catalog.get(&f.id) else {
            continue;
        };
        let about_the_service = f.evidence.iter().any(|e| e.fact == SERVICE_FAILURE);
        let cause = match (&last_words, about_the_service) {
            (Some(line), true) => catalog
                .checks
                .iter()
                .filter(|c| c.id != f.id && failing(&c.id, findings))
                .find(|c| c.explains.iter().any(|p| p.is_match(line)))
                .map(|c| c.id.clone()),
            _ => check
                .consequence_of
                .iter()
                .find(|id| failing(id, findings))
                .cloned(),
        };
        if let Some(cause) = cause {
            direct.push((i, cause));
        }
    }
    let cause_of = |id: &str| {
        direct
            .iter()
            .find(|(i, _)| findings.get(*i).is_some_and(|f| f.id == id))
            .map(|(_, c)| c.clone())
    };
    let mut roots = Vec::new();
    for (i, cause) in &direct {
        let me = findings.get(*i).map(|f| f.id.clone()).unwrap_or_default();
        let mut root = cause.clone();
        let mut seen = vec![root.clone()];
        let mut cycle = false;
        // Follow the chain to its root. A chain that comes back to this check is a cycle in
        // the catalog: then nothing in it is hidden (tests/catalog.rs forbids cycles).
        while let Some(next) = cause_of(&root) {
            if next == me {
                cycle = true;
                break;
            }
            if seen.contains(&next) {
                break;
            }
            seen.push(next.clone());
            root = next;
        }
        if !cycle {
            roots.push((*i, root));
        }
    }
    for (i, root) in roots {
        if let Some(f) = findings.get_mut(i) {
            f.consequence_of = Some(root);
        }
    }
}

fn evaluate_all(catalog: &Catalog, facts: &Facts, selection: &Selection) -> Vec<Finding> {
    // The checks read the selected profiles as `run.profiles`. Facts that already hold them are
    // read as they are: a copy of every fact costs more than evaluating the checks.
    let copy;
    let facts = if facts.list("run.profiles") == Some(selection.profiles.as_slice()) {
        facts
    } else {
        let mut with = facts.clone();
        with.set("run.profiles", Fact::known(selection.profiles.clone()));
        copy = with;
        &copy
    };
    catalog
        .checks
        .iter()
        .filter(|c| selection.includes(c))
        .map(|check| {
            let skipped = selection.skip.contains(&check.id);
            catch_unwind(AssertUnwindSafe(|| {
                #[cfg(debug_assertions)]
                test_panic_hook(&check.id);
                evaluate_check(check, facts, skipped)
            }))
            .unwrap_or_else(|payload| {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Finding {
                    id: check.id.clone(),
                    area: check.area.clone(),
                    title: check.title.clone(),
                    severity: check.severity,
                    status: Status::Unknown,
                    summary: format!(
                        "this check crashed ({what}); this is a bug in dockdoc, please report it"
                    ),
                    evidence: Vec::new(),
                    fix: Vec::new(),
                    consequence_of: None,
                    waiver: None,
                }
            })
        })
        .collect()
}

/// Debug builds only: the check named by `DOCKDOC_TEST_PANIC` panics, so the tests can show
/// that a crashing check becomes an unknown finding and the run goes on.
#[cfg(debug_assertions)]
#[allow(clippy::panic)]
fn test_panic_hook(id: &str) {
    if std::env::var_os("DOCKDOC_TEST_PANIC").is_some_and(|v| v == id) {
        panic!("DOCKDOC_TEST_PANIC={id}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::load_str;
    use std::path::Path;

    fn check(fails_if: &str, applies_if: Option<&str>) -> Check {
        let text = format!(
            "schema = 1\narea = \"access\"\ntitle = \"t\"\n[[check]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"error\"\nprofiles = [\"docker\"]\n{}fails_if = {fails_if}\nsummary = \"{{user.name}} lacks it\"\nwhy = \"w\"\nfix = [{{ step = \"add {{user.name}}\", command = \"usermod -aG docker {{user.name}}\" }}]\n",
            applies_if
                .map(|a| format!("applies_if = {a}\n"))
                .unwrap_or_default()
        );
        let l = load_str(Path::new("t.toml"), &text);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        l.catalog.checks.into_iter().next().unwrap()
    }

    fn facts(pairs: &[(&str, Fact)]) -> Facts {
        let mut f = Facts::default();
        for (k, v) in pairs {
            f.set(k, v.clone());
        }
        f
    }

    #[test]
    fn severity_from_replaces_the_severity_of_a_failure_only() {
        let text = "schema = 1\narea = \"packages\"\ntitle = \"t\"\n[[check]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"error\"\nseverity_from = \"pacman.known_bad_severity\"\nprofiles = [\"docker\"]\nfails_if = { fact = \"pacman.known_bad_versions\", greater_than = 0 }\nsummary = \"s\"\nwhy = \"w\"\n";
        let l = load_str(Path::new("t.toml"), text);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let c = l.catalog.checks.into_iter().next().unwrap();
        let bad = |list: Vec<String>, severity: Option<&str>| {
            facts(&[
                ("pacman.known_bad_versions", Fact::known(list)),
                ("pacman.known_bad_severity", Fact::known(severity)),
            ])
        };
        let f = evaluate_check(
            &c,
            &bad(vec!["iptables-nft 1:1.8.11-1".into()], Some("warning")),
            false,
        );
        assert_eq!((f.status, f.severity), (Status::Fail, Severity::Warning));
        let f = evaluate_check(&c, &bad(Vec::new(), None), false);
        assert_eq!((f.status, f.severity), (Status::Pass, Severity::Error));
        // Only a text fact may name the severity.
        let l = load_str(
            Path::new("t.toml"),
            &text.replace("pacman.known_bad_severity", "pacman.known_bad_versions"),
        );
        assert!(
            l.errors[0].message.contains("is a list, not text"),
            "{:?}",
            l.errors
        );
    }

    #[test]
    fn list_comparisons_count_members() {
        let c = check(
            r#"{ fact = "docker.flag_conflicts", greater_than = 0 }"#,
            None,
        );
        let list = |v: &[&str]| Fact::known(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        for (fact, want) in [
            (list(&["hosts"]), Status::Fail),
            (list(&[]), Status::Pass),
            (Fact::known(Value::Null), Status::Pass),
        ] {
            let f = facts(&[("docker.flag_conflicts", fact)]);
            assert_eq!(evaluate_check(&c, &f, false).status, want);
        }
    }

    #[test]
    fn table_of_outcomes() {
        let c = check(
            r#"{ all = [{ fact = "user.groups_configured", contains = "docker" }, { fact = "user.groups_session", not_contains = "docker" }] }"#,
            Some(r#"{ fact = "user.is_root", is = false }"#),
        );
        let list = |v: &[&str]| Fact::known(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let cases: &[(&[(&str, Fact)], Status)] = &[
            (
                &[
                    ("user.is_root", Fact::known(false)),
                    ("user.groups_configured", list(&["docker"])),
                    ("user.groups_session", list(&["wheel"])),
                ],
                Status::Fail,
            ),
            (
                &[
                    ("user.is_root", Fact::known(false)),
                    ("user.groups_configured", list(&["docker"])),
                    ("user.groups_session", list(&["docker"])),
                ],
                Status::Pass,
            ),
            (
                &[("user.is_root", Fact::known(true))],
                Status::NotApplicable,
            ),
            (
                &[
                    ("user.is_root", Fact::known(false)),
                    ("user.groups_configured", list(&[])),
                    ("user.groups_session", Fact::unknown("no /proc")),
                ],
                Status::Pass,
            ),
            (
                &[
                    ("user.is_root", Fact::known(false)),
                    ("user.groups_configured", list(&["docker"])),
                    ("user.groups_session", Fact::unknown("no /proc")),
                ],
                Status::Unknown,
            ),
            (
                &[("user.is_root", Fact::skipped("under --root"))],
                Status::Skipped,
            ),
        ];
        for (pairs, want) in cases {
            let f = evaluate_check(&c, &facts(pairs), false);
            assert_eq!(f.status, *want, "{pairs:?} -> {}", f.summary);
        }
    }

    #[test]
    fn failure_fills_placeholders_and_unknown_names_the_reason() {
        let c = check(r#"{ fact = "user.is_root", is = false }"#, None);
        let f = evaluate_check(
            &c,
            &facts(&[
                ("user.is_root", Fact::known(false)),
                ("user.name", Fact::known("alice")),
            ]),
            false,
        );
        assert_eq!(f.summary, "alice lacks it");
        assert_eq!(
            f.fix[0].command.as_deref(),
            Some("usermod -aG docker alice")
        );
        let f = evaluate_check(
            &c,
            &facts(&[("user.is_root", Fact::unknown("/proc/self/status: gone"))]),
            false,
        );
        assert_eq!(f.status, Status::Unknown);
        assert!(
            f.summary.contains("/proc/self/status: gone"),
            "{}",
            f.summary
        );
        assert_eq!(
            evaluate_check(&c, &Facts::default(), true).status,
            Status::Skipped
        );
    }
}
