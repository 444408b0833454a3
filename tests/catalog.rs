//! Meta-tests over the built-in catalog: the conventions every check must keep. (Every check
//! failing in one scenario and passing in another is asserted in tests/scenarios.rs.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::path::Path;

use dockdoc::catalog::{self, PROFILES, placeholders};
use dockdoc::facts;

#[test]
fn the_builtin_catalog_loads_without_errors() {
    let loaded = catalog::load_builtin();
    let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        loaded.catalog.checks.len() >= 40,
        "{} checks",
        loaded.catalog.checks.len()
    );
}

#[test]
fn ids_are_unique_kebab_case_and_name_the_bad_state() {
    let loaded = catalog::load_builtin();
    let mut ids: Vec<&str> = loaded
        .catalog
        .checks
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    for id in &ids {
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !id.starts_with('-')
                && !id.ends_with('-')
                && !id.contains("--"),
            "{id} is not kebab-case"
        );
        for prefix in ["check-", "no-", "fix-"] {
            assert!(
                !id.starts_with(prefix),
                "{id}: ids name the bad state, without a {prefix} prefix"
            );
        }
    }
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids");
}

#[test]
fn every_check_is_documented_and_fixable() {
    let loaded = catalog::load_builtin();
    for c in &loaded.catalog.checks {
        assert!(
            !c.title.trim().is_empty() && !c.title.ends_with('.'),
            "{}: title",
            c.id
        );
        assert!(
            c.why.split_whitespace().count() >= 12,
            "{}: why must be full sentences",
            c.id
        );
        assert!(
            c.why.trim_end().ends_with(['.', ')', '`']),
            "{}: why must end a sentence",
            c.id
        );
        assert!(!c.fix.is_empty(), "{}: no fix", c.id);
        for f in &c.fix {
            assert!(!f.step.trim().is_empty(), "{}: empty fix step", c.id);
            if let Some(cmd) = &f.command {
                assert!(
                    !cmd.trim().is_empty() && !cmd.contains('\n'),
                    "{}: fix command must be one line",
                    c.id
                );
            }
        }
        // Summaries are one lowercase line without a trailing period (clippy's message convention).
        // An environment variable name (DISPLAY, DOCKER_HOST) may open it.
        let first_word = c
            .summary
            .split(|ch: char| !ch.is_alphanumeric() && ch != '_')
            .next()
            .unwrap();
        let identifier = first_word.len() > 1
            && first_word
                .chars()
                .all(|ch| ch.is_ascii_uppercase() || ch == '_');
        assert!(
            identifier || !c.summary.chars().next().unwrap().is_uppercase(),
            "{}: summary starts lowercase",
            c.id
        );
        assert!(
            !c.summary.ends_with('.') && !c.summary.contains('\n'),
            "{}: summary is one line, no period",
            c.id
        );
        for r in &c.references {
            assert!(
                r.starts_with("https://"),
                "{}: reference {r} is not an https URL",
                c.id
            );
        }
        assert!(
            c.profiles.iter().all(|p| PROFILES.contains(&p.as_str())),
            "{}: profiles",
            c.id
        );
    }
}

#[test]
fn every_placeholder_and_condition_names_a_known_fact() {
    let loaded = catalog::load_builtin();
    for c in &loaded.catalog.checks {
        for key in c.fact_keys() {
            assert!(
                facts::spec_of(key).is_some(),
                "{}: unknown fact {key}",
                c.id
            );
        }
        for text in
            std::iter::once(&c.summary).chain(c.fix.iter().filter_map(|f| f.command.as_ref()))
        {
            for key in placeholders(text) {
                assert!(facts::spec_of(key).is_some(), "{}: placeholder {key}", c.id);
            }
        }
    }
}

#[test]
fn every_fact_in_the_schema_is_documented_once() {
    let mut keys: Vec<&str> = facts::schema().map(|s| s.key).collect();
    for s in facts::schema() {
        assert!(
            s.key
                .split_once('.')
                .is_some_and(|(a, k)| !a.is_empty() && !k.is_empty()),
            "{}",
            s.key
        );
        assert!(!s.doc.trim().is_empty(), "{}: no doc", s.key);
    }
    let n = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), n, "a fact key is declared twice");
}

/// The sorted id list is a snapshot, so additions and renames show in review.
/// `DOCKDOC_BLESS=1 cargo test --test catalog` rewrites it.
#[test]
fn the_id_list_is_snapshotted() {
    let loaded = catalog::load_builtin();
    let mut ids: Vec<String> = loaded
        .catalog
        .checks
        .iter()
        .map(|c| format!("{} {} {}", c.id, c.area, c.severity))
        .collect();
    ids.sort();
    let actual = ids.join("\n") + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/check-ids.txt");
    if std::env::var_os("DOCKDOC_BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        expected, actual,
        "check ids changed: DOCKDOC_BLESS=1 cargo test --test catalog to accept"
    );
}

/// Built-in `explains` patterns are not parsed when a run loads the catalog; this is where
/// their syntax and size are checked instead.
#[test]
fn every_builtin_explains_pattern_parses_and_compiles() {
    let loaded = catalog::load_builtin();
    let mut bad = Vec::new();
    let mut count = 0;
    for check in &loaded.catalog.checks {
        for pattern in &check.explains {
            count += 1;
            if let Err(e) = catalog::Pattern::new(pattern.as_str().to_owned()) {
                bad.push(format!("{}: /{pattern}/: {e}", check.id));
            } else if pattern.regex().is_none() {
                bad.push(format!(
                    "{}: /{pattern}/ exceeds the regex size limits",
                    check.id
                ));
            }
        }
    }
    assert!(count > 50, "only {count} patterns");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The `matches` regexes of the built-in conditions, compiled when first used at run time:
/// each must parse and compile.
#[test]
fn every_builtin_matches_regex_parses_and_compiles() {
    fn walk(c: &catalog::Condition, out: &mut Vec<catalog::Pattern>) {
        match c {
            catalog::Condition::All(cs) | catalog::Condition::Any(cs) => {
                cs.iter().for_each(|c| walk(c, out));
            }
            catalog::Condition::Not(c) => walk(c, out),
            catalog::Condition::Fact {
                test: catalog::Test::Matches(p),
                ..
            } => out.push(p.clone()),
            catalog::Condition::Fact { .. } => {}
        }
    }
    let loaded = catalog::load_builtin();
    let mut bad = Vec::new();
    let mut count = 0;
    for check in &loaded.catalog.checks {
        let mut patterns = Vec::new();
        check.applies_if.iter().for_each(|c| walk(c, &mut patterns));
        walk(&check.fails_if, &mut patterns);
        for pattern in patterns {
            count += 1;
            if let Err(e) = catalog::Pattern::new(pattern.as_str().to_owned()) {
                bad.push(format!("{}: /{pattern}/: {e}", check.id));
            } else if pattern.regex().is_none() {
                bad.push(format!("{}: /{pattern}/ exceeds the size limits", check.id));
            }
        }
    }
    assert!(count >= 7, "only {count} patterns");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn a_user_check_file_still_reports_a_bad_explains_regex_with_its_place() {
    let text = std::fs::read_to_string("checks/storage.toml").unwrap();
    let broken = text.replacen("explains = [", "explains = [\"(unclosed\", ", 1);
    assert_ne!(broken, text, "checks/storage.toml has no explains to break");
    let loaded = catalog::load_str(Path::new("user.toml"), &broken);
    let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("user.toml:") && e.contains("invalid regex in explains")),
        "{errors:#?}"
    );
}

#[test]
fn consequence_of_names_checks_that_exist_and_never_comes_back() {
    let loaded = catalog::load_builtin();
    let problems: Vec<String> = catalog::load::link_errors(&loaded.catalog)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn endpoint_kinds_are_stated_for_every_check_about_the_system_daemon() {
    // A check that judges the system daemon's units, its config file or its group must say so,
    // or a Docker Desktop or rootless user would get system-daemon advice.
    let loaded = catalog::load_builtin();
    let mut loose = Vec::new();
    for c in &loaded.catalog.checks {
        let keys = c.fact_keys();
        let system_only = keys.iter().any(|k| {
            k.starts_with("systemd.docker_")
                || k.starts_with("docker.daemon_json")
                || *k == "docker.daemon_stale"
        });
        if system_only && c.endpoints.is_none() {
            loose.push(c.id.clone());
        }
    }
    assert!(
        loose.is_empty(),
        "checks about the system daemon without `endpoints`: {loose:?}"
    );
}

/// No fix step ever carries a value the facts do not have: rendered against facts where every
/// value is unknown, skipped, none, an empty list or empty text, no step's words hold
/// `(unknown)` or `(none)`, and no command holds those or an empty quoted word; the step is left
/// out instead.
#[test]
fn no_fix_step_renders_a_value_the_facts_do_not_have() {
    use dockdoc::facts::{Fact, Facts, Value};
    let loaded = catalog::load_builtin();
    let keys: Vec<&str> = facts::schema().map(|s| s.key).collect();
    let all = |fact: Fact| {
        let mut f = Facts::default();
        for k in &keys {
            f.set(k, fact.clone());
        }
        f
    };
    let cases = [
        ("not gathered", Facts::default()),
        ("unknown", all(Fact::unknown("the probe failed"))),
        (
            "skipped",
            all(Fact::Skipped {
                reason: "not contacted".into(),
            }),
        ),
        ("none", all(Fact::known(Value::Null))),
        ("an empty list", all(Fact::known(Vec::<String>::new()))),
        ("empty text", all(Fact::known(""))),
    ];
    let mut problems = Vec::new();
    let mut rendered = 0;
    for (what, facts) in &cases {
        for check in &loaded.catalog.checks {
            for step in dockdoc::eval::fill_fix(check, facts) {
                if step.step.contains("(unknown)") || step.step.contains("(none)") {
                    problems.push(format!("{} (every value {what}): {}", check.id, step.step));
                }
                let Some(cmd) = step.command else { continue };
                rendered += 1;
                if cmd.contains("(unknown)") || cmd.contains("(none)") || cmd.contains("''") {
                    problems.push(format!("{} (every value {what}): {cmd}", check.id));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert!(rendered > 50, "only {rendered} commands rendered");
}

/// `dockdoc fix` acts on the tiers (docs/usage.md, "Fixing"): every step says how far it may be taken.
#[test]
fn every_fix_step_has_a_tier_and_what_changes_can_be_undone() {
    use dockdoc::catalog::Tier;
    let loaded = catalog::load_builtin();
    let mut problems = Vec::new();
    for c in &loaded.catalog.checks {
        for (n, f) in c.fix.iter().enumerate() {
            let at = format!("{} step {}", c.id, n + 1);
            let Some(tier) = f.tier else {
                problems.push(format!(
                    "{at}: no tier (safe, disruptive, reboot, manual or inspect)"
                ));
                continue;
            };
            let command = f.command.as_deref().unwrap_or("");
            if command.is_empty() && tier != Tier::Manual {
                problems.push(format!(
                    "{at}: a step without a command is for a person: manual"
                ));
            }
            if tier == Tier::Reboot && command != "systemctl reboot" {
                problems.push(format!(
                    "{at}: a reboot step's command is `systemctl reboot`"
                ));
            }
            if tier.automatable() {
                if f.changes.is_none() {
                    problems.push(format!("{at}: a {tier} step says what it `changes`"));
                }
                if writes_a_file(command) && f.undo.is_none() && f.writes.is_empty() {
                    problems.push(format!(
                        "{at}: `{command}` writes a file but has no `undo` and no `writes`"
                    ));
                }
                for path in &f.writes {
                    if !path.starts_with('/') || !command.contains(path.as_str()) {
                        problems.push(format!(
                            "{at}: writes {path}: an absolute path the command names"
                        ));
                    }
                    // Editing a person's configuration is theirs to do: dockdoc only adds
                    // files of its own name.
                    let name = path.rsplit('/').next().unwrap_or_default();
                    if !name.contains("dockdoc") {
                        problems.push(format!(
                            "{at}: writes {path}, which is not a file of dockdoc's own name"
                        ));
                    }
                }
                for never in NEVER_AUTOMATED {
                    if command.contains(never) {
                        problems.push(format!(
                            "{at}: `{never}` is never automated; the step is manual"
                        ));
                    }
                }
            } else if f.undo.is_some() || !f.writes.is_empty() {
                problems.push(format!(
                    "{at}: a {tier} step is never run, so it has no `undo` or `writes`"
                ));
            }
            if tier == Tier::Inspect {
                for part in command.split([';', '|', '&']).map(str::trim) {
                    let part = part.strip_prefix("sudo ").unwrap_or(part);
                    if !part.is_empty() && !READ_ONLY.iter().any(|p| part.starts_with(p)) {
                        problems.push(format!(
                            "{at}: an inspect step runs only programs that read; `{part}` is not one of them"
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Commands that write files: a step that runs one needs an `undo` or the `writes` to restore.
fn writes_a_file(command: &str) -> bool {
    [
        "tee ",
        "> ",
        "cp ",
        "mv ",
        "mkdir",
        "install ",
        "sed -i",
        "usermod",
        "gpasswd",
        "systemctl enable",
        "systemctl disable",
        "systemctl mask",
        "systemctl unmask",
        "systemctl edit",
        "systemctl --user enable",
        "pacman -S",
        "pacman -R",
        "pacman -U",
        "loginctl enable-linger",
        "setcap",
        "chmod",
        "chown",
    ]
    .iter()
    .any(|w| command.contains(w))
}

/// What no tier but manual may run, whatever the flags (docs/usage.md, "Fixing").
const NEVER_AUTOMATED: &[&str] = &[
    "chmod 666",
    "chmod a+rw",
    "xhost +",
    "setenforce 0",
    "sudoedit",
    "systemctl edit",
    "unprivileged_userns_clone",
    "max_user_namespaces",
    "setcap",
    "docker system prune",
    "docker rm",
];

/// The programs (with their reading subcommands) an inspect step may run.
const READ_ONLY: &[&str] = &[
    "grep ",
    "cat ",
    "journalctl ",
    "tail ",
    "ls ",
    "systemctl status ",
    "systemctl cat ",
    "docker ps ",
    "docker inspect ",
    "docker info",
    "docker version",
    "docker system df",
    "docker context ls",
    "dockerd --validate ",
    "free ",
    "pacman -Q ",
    "iptables -V",
    "getcap ",
    "networkctl status ",
    "ip -4 route show ",
    "echo \"$DISPLAY\"",
    "ps -o ",
    "command -v ",
];

/// A tier or fix-step field a user's check file gets wrong is an error at its place.
#[test]
fn an_unknown_tier_is_a_located_error() {
    let text = r#"schema = 1
area = "site"
title = "Site"

[[check]]
id = "site-thing-missing"
title = "t"
severity = "error"
profiles = ["docker"]
fails_if = { fact = "kernel.ip_forward", is = false }
summary = "s"
why = "w"
fix = [{ step = "s", command = "true", tier = "sometimes" }]
"#;
    let l = catalog::load_str(Path::new("t.toml"), text);
    assert!(
        l.errors[0].to_string().starts_with("t.toml:13:")
            && l.errors[0].to_string().contains("unknown tier `sometimes`"),
        "{:?}",
        l.errors
    );
}

/// The signal vocabulary parses, every pattern compiles as explain compiles it (one set, bytes,
/// no Unicode classes), and every built-in check lists signals that exist: a check brings its own
/// (docs/explain.md, "Signals").
#[test]
fn every_check_lists_signals_the_vocabulary_defines() {
    use dockdoc::catalog::signals::{BUILTIN, Kind, Vocabulary};
    let vocabulary = Vocabulary::parse(BUILTIN.0, BUILTIN.1).unwrap();
    let patterns: Vec<String> = vocabulary.signals.iter().map(|s| s.pattern()).collect();
    regex::bytes::RegexSetBuilder::new(&patterns)
        .unicode(false)
        .build()
        .unwrap();
    for s in &vocabulary.signals {
        assert!(
            s.note.is_none() || matches!(s.kind, Kind::Context | Kind::Elsewhere),
            "{}: a note belongs to context and elsewhere signals",
            s.name
        );
        assert!(
            s.note.is_some() || s.kind != Kind::Elsewhere,
            "{}: an elsewhere signal says what the paste is about",
            s.name
        );
        assert!(
            s.look.is_none() || s.kind == Kind::Component,
            "{}: only a component says where to look next",
            s.name
        );
    }
    let loaded = catalog::load_builtin();
    let mut problems = Vec::new();
    for c in &loaded.catalog.checks {
        if c.signals.is_empty() {
            problems.push(format!("{}: no signals", c.id));
        }
        for name in &c.signals {
            if vocabulary.index(name).is_none() {
                problems.push(format!("{}: unknown signal {name}", c.id));
            }
        }
        let kinds: Vec<Kind> = c
            .signals
            .iter()
            .filter_map(|n| Some(vocabulary.signals.get(vocabulary.index(n)?)?.kind))
            .collect();
        if !kinds.contains(&Kind::Condition)
            || !kinds
                .iter()
                .any(|k| matches!(k, Kind::Endpoint | Kind::Component | Kind::Object))
        {
            problems.push(format!(
                "{}: signals name no condition, or nothing that fails",
                c.id
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_user_check_file_names_an_unknown_signal_with_its_place() {
    let text = std::fs::read_to_string("checks/storage.toml").unwrap();
    let broken = text.replacen("signals = [", "signals = [\"no-such-signal\", ", 1);
    assert_ne!(broken, text);
    let loaded = catalog::load_str(Path::new("user.toml"), &broken);
    let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("user.toml:") && e.contains("`signals` names `no-such-signal`")),
        "{errors:#?}"
    );
}
