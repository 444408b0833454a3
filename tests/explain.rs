//! `dockdoc explain` on pasted error text, through the real binary: the catalogue of real error
//! samples (tests/error-samples, format in its README.md), look-alikes, terminal noise (colour,
//! CRLF, `\` continuations, scroll-back), the JSON schema, and, live, real `docker run` failures
//! against a socket nobody listens on and a private dockerd the user may not open.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;
#[path = "common/dockerd.rs"]
mod dockerd;
#[path = "common/samples.rs"]
mod samples;

use std::collections::BTreeSet;
use std::process::Command;

use common::prereq::Need;
use common::{bin, offered};
use dockdoc::catalog::load::load_builtin;
use samples::{Sample, all_samples, samples_dir};
use serde_json::Value as Json;

/// `dockdoc explain <args> -` with `input` on standard input; returns (exit code, stdout).
fn explain_stdin(args: &[&str], input: &[u8]) -> (i32, String) {
    common::explain_stdin(bin(), args, input)
}

fn offline_json(input: &[u8]) -> Json {
    let (code, out) = explain_stdin(&["--offline", "--format", "json"], input);
    assert_eq!(code, 0, "{out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The checks whose `explains` patterns matched (before ranking decides what is offered).
fn matched_ids(doc: &Json) -> Vec<String> {
    doc["recognised"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every sample, with what `dockdoc explain --offline --format json -` made of it (one process
/// per sample, a few at a time; run once for all the tests that read it).
fn explained_samples() -> &'static [(Sample, Json)] {
    static EXPLAINED: std::sync::OnceLock<Vec<(Sample, Json)>> = std::sync::OnceLock::new();
    EXPLAINED.get_or_init(|| {
        let samples = all_samples();
        let docs: Vec<Json> = common::parallel_map(&samples, |s| offline_json(s.text.as_bytes()));
        samples.into_iter().zip(docs).collect()
    })
}

/// A sample with its ASCII quotes typeset: the opening and closing curly quotes GNU tools print
/// in a UTF-8 locale (`‘/var/run/docker.sock’`), the apostrophe a forum renders (`can’t`).
fn typeset(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open = [true, true];
    for c in text.chars() {
        let (slot, opening, closing) = match c {
            '\'' => (0, '\u{2018}', '\u{2019}'),
            '"' => (1, '\u{201C}', '\u{201D}'),
            other => {
                out.push(other);
                continue;
            }
        };
        out.push(if open[slot] { opening } else { closing });
        open[slot] = !open[slot];
    }
    out
}

#[test]
fn a_sample_with_typographic_quotes_matches_what_its_ascii_text_matches() {
    // Those whose ASCII text matches something: a sample that matches nothing either way
    // proves nothing.
    let with_quotes: Vec<&(Sample, Json)> = explained_samples()
        .iter()
        .filter(|(s, doc)| s.text.contains(['\'', '"']) && !matched_ids(doc).is_empty())
        .collect();
    assert!(
        with_quotes.len() >= 20,
        "only {} samples",
        with_quotes.len()
    );
    let typeset_docs: Vec<Json> = common::parallel_map(&with_quotes, |(s, _)| {
        offline_json(typeset(&s.text).as_bytes())
    });
    let mut failures = Vec::new();
    for ((s, doc), typeset_doc) in with_quotes.iter().zip(&typeset_docs) {
        let (ascii, curly) = (matched_ids(doc), matched_ids(typeset_doc));
        if ascii != curly {
            failures.push(format!(
                "{} ({}): {ascii:?} with ASCII quotes, {curly:?} typeset",
                s.file, s.source
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_sample_matches_its_checks_and_no_look_alike_matches_the_wrong_one() {
    let explained = explained_samples();
    assert!(explained.len() >= 80, "only {} samples", explained.len());
    let (samples, results): (Vec<&Sample>, Vec<Vec<String>>) = explained
        .iter()
        .map(|(s, doc)| (s, matched_ids(doc)))
        .unzip();
    let mut failures = Vec::new();
    for (s, ids) in samples.into_iter().zip(&results) {
        for want in &s.must {
            if !ids.contains(want) {
                failures.push(format!(
                    "{} ({}): does not match {want}; matched {ids:?}",
                    s.file, s.source
                ));
            }
        }
        for unwanted in &s.must_not {
            if ids.contains(unwanted) {
                failures.push(format!(
                    "{} ({}): look-alike matches {unwanted}",
                    s.file, s.source
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The goal of `explain`, measured the way a user meets it: for each real paste (the samples
/// of every check, not the look-alikes), is its check (or a cause it follows from) among the
/// candidates offered, among the first two, first; and how many candidates are offered. Run with `--nocapture` to see the
/// numbers and each sample that misses.
#[test]
fn hit_rate_over_the_real_samples() {
    let real: Vec<&(Sample, Json)> = explained_samples()
        .iter()
        .filter(|(s, _)| s.file != "look-alikes.txt")
        .collect();
    let (mut among, mut two, mut first, mut offered_total) = (0usize, 0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    let catalog = dockdoc::catalog::load_builtin().catalog;
    for (s, doc) in &real {
        let ids = offered(doc);
        let own = s.file.trim_end_matches(".txt");
        // The check the sample is filed under, or a cause it follows from (`consequence_of`):
        // offline, a check's possible causes are offered before it (one cause, one fix).
        let causes: &[String] = catalog.get(own).map_or(&[], |c| &c.consequence_of);
        let at = ids.iter().position(|id| id == own || causes.contains(id));
        offered_total += ids.len();
        among += usize::from(at.is_some());
        two += usize::from(at.is_some_and(|i| i < 2));
        first += usize::from(at == Some(0));
        if at.is_none_or(|i| i >= 2) {
            misses.push(format!("{own} ({}): offered {ids:?}", s.source));
        }
    }
    let n = real.len() as f64;
    let pct = |k: usize| 100.0 * k as f64 / n;
    eprintln!(
        "explain over {} real samples: right cause offered {:.1}%, among the first two {:.1}%, first {:.1}%; {:.2} candidates on average",
        real.len(),
        pct(among),
        pct(two),
        pct(first),
        offered_total as f64 / n
    );
    for m in &misses {
        eprintln!("  not in the first two: {m}");
    }
    // Measured 80.6% / 66.7% / 2.58 before the endpoint, specificity and area ranking; a floor
    // against regressions, short of the 95% goal (see the misses printed above).
    assert!(pct(two) >= 87.0, "{}", misses.join("\n"));
    assert!(pct(first) >= 75.0, "{}", misses.join("\n"));
}

#[test]
fn every_explains_pattern_has_a_real_sample_of_its_check() {
    let catalog = load_builtin().catalog;
    let samples = all_samples();
    let known: BTreeSet<&str> = catalog.checks.iter().map(|c| c.id.as_str()).collect();
    let mut failures = Vec::new();
    for s in &samples {
        for id in s.must.iter().chain(&s.must_not) {
            if !known.contains(id.as_str()) {
                failures.push(format!("{} ({}): no check `{id}`", s.file, s.source));
            }
        }
    }
    for check in catalog.checks.iter().filter(|c| !c.explains.is_empty()) {
        if !samples_dir().join(format!("{}.txt", check.id)).exists() {
            failures.push(format!(
                "{}: no tests/error-samples/{}.txt",
                check.id, check.id
            ));
        }
        let own: Vec<String> = samples
            .iter()
            .filter(|s| s.must.contains(&check.id))
            .flat_map(|s| {
                let text = dockdoc::explain::normalise(&s.text);
                let readings = dockdoc::explain::readings(&text);
                std::iter::once(text).chain(readings)
            })
            .collect();
        for re in &check.explains {
            if !own.iter().any(|t| t.lines().any(|l| re.is_match(l))) {
                failures.push(format!("{}: /{re}/ matches none of its samples", check.id));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_ambiguous_unknown_server_os_names_both_causes_and_says_so() {
    let input = b"docker: unknown server OS: .\nSee 'docker run --help'.\n";
    let ids = matched_ids(&offline_json(input));
    assert!(ids.contains(&"docker-socket-missing".to_owned()), "{ids:?}");
    assert!(
        ids.contains(&"docker-socket-permission-denied".to_owned()),
        "{ids:?}"
    );
    let (_, text) = explain_stdin(&["--offline", "--color", "never"], input);
    assert!(
        text.contains("the same message has several possible causes"),
        "{text}"
    );
    assert!(
        text.contains("without --offline this machine would decide"),
        "{text}"
    );
}

#[test]
fn colour_crlf_and_continuations_are_normalised_before_matching() {
    // A coloured, CRLF-terminated paste of a `\`-continued docker run command and its error.
    let input = "$ docker run -it \\\r\n    --device /dev/kvm \\\r\n    sickcodes/docker-osx:latest\r\n\
                 \x1b[31mdocker: Error response from daemon: error gathering device \x1b[1minformation\x1b[0m while adding custom device \"/dev/kvm\": no such file or directory.\x1b[0m\r\n";
    let doc = offline_json(input.as_bytes());
    let first = &doc["matches"][0];
    assert_eq!(first["id"], "cpu-virtualization-missing", "{doc:#}");
    let text = first["text"].as_str().unwrap();
    assert!(!text.contains('\x1b') && !text.contains('\r'), "{text:?}");
    assert!(
        text.starts_with("docker: Error response from daemon: error gathering device information"),
        "{text:?}"
    );
    // The command's three lines are read as one; the error keeps its line number in the paste.
    assert_eq!(first["line"], 4, "{doc:#}");
}

/// The message of moby/moby#39188, hard-wrapped as an 80-column terminal breaks it (inside
/// words) and as a forum breaks it (at spaces): both are rejoined before matching.
#[test]
fn hard_wrapped_pastes_are_rejoined_before_matching() {
    let message = "docker: Error response from daemon: failed to create endpoint blissful_johnson on network bridge: failed to add the host (veth9754872) <=> sandbox (veth6a875bb) pair interfaces: operation not supported.";
    let terminal: String = message
        .as_bytes()
        .chunks(80)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let forum = message.replacen(" pair interfaces", "\npair interfaces", 1);
    for wrapped in [terminal, forum] {
        assert!(wrapped.lines().count() > 1);
        let ids = matched_ids(&offline_json(wrapped.as_bytes()));
        assert!(
            ids.contains(&"running-kernel-modules-missing".to_owned()),
            "{wrapped}: {ids:?}"
        );
        let doc = offline_json(wrapped.as_bytes());
        let text = doc["matches"][0]["text"].as_str().unwrap();
        assert!(text.contains("pair interfaces"), "{doc:#}");
    }
    // A log (over 64 KiB) is scanned as it is read: lines are not rejoined there.
    let log = format!(
        "{}{}\n",
        "chatter\n".repeat(10_000),
        message.replacen(" pair", "\npair", 1)
    );
    assert!(matched_ids(&offline_json(log.as_bytes())).is_empty());
}

/// The paste is tied to this machine's failures in its area: "Job for docker.service failed"
/// brings up the daemon.json that fails here (read from the sysroot, laid out as on Arch), and
/// it is the verdict, since docker.service's own state cannot be read under `--root`.
#[test]
fn a_failed_start_brings_up_the_daemon_json_that_fails_here() {
    let input = b"Job for docker.service failed because the control process exited with error code.\nSee \"systemctl status docker.service\" and \"journalctl -xeu docker.service\" for details.\n";
    let explain = |fixture: &str| -> Json {
        let root = common::sysroot(fixture);
        let root = root.to_str().unwrap();
        let (code, out) = explain_stdin(&["--root", root, "--format", "json"], input);
        assert_eq!(code, 0, "{out}");
        serde_json::from_str(&out).unwrap()
    };
    let broken = explain("daemon-json-broken");
    assert_eq!(broken["verdict"]["id"], "daemon-json-invalid", "{broken:#}");
    let ids = matched_ids(&broken);
    assert!(ids.contains(&"docker-service-failed".to_owned()), "{ids:?}");
    let healthy = explain("healthy-docker-host");
    assert!(
        !matched_ids(&healthy).contains(&"daemon-json-invalid".to_owned()),
        "{healthy:#}"
    );
}

/// Same selection as `check`: "no space left on device" with 30 GiB free is no disk problem for
/// a user who runs Docker (threshold 10 GiB), but is for docker-osx (50 GiB).
#[test]
fn no_space_left_is_judged_with_the_thresholds_of_the_profile_in_use() {
    let out = bin()
        .args(["facts", "--format", "json", "--root"])
        .arg(common::sysroot("healthy-docker-host"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut facts: Json = serde_json::from_slice(&out.stdout).unwrap();
    // The free space is statvfs of whatever filesystem holds the fixture: pinned to 30 GiB, between
    // the two thresholds, so the test does not depend on this machine's disk.
    facts["facts"]["host.data_root_free_bytes"] =
        serde_json::json!({"state": "known", "value": 30u64 << 30});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("facts.json");
    std::fs::write(&file, serde_json::to_vec(&facts).unwrap()).unwrap();
    let input = b"failed to register layer: Error processing tar file(exit status 1): write /usr/share/vim/vim74/syntax/sisu.vim: no space left on device\n";
    let status = |profile: &[&str]| -> String {
        let mut args = vec!["--facts", file.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(profile);
        let (code, out) = explain_stdin(&args, input);
        assert_eq!(code, 0, "{out}");
        let doc: Json = serde_json::from_str(&out).unwrap();
        doc["matches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == "docker-data-root-low-space")
            .map(|m| m["status"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{doc:#}"))
    };
    assert_eq!(status(&[]), "pass");
    assert_eq!(status(&["--profile", "docker-osx"]), "fail");
}

/// The endpoint path ranks, and rules out the fixes of other daemons; the more specific message
/// ranks first (real messages from the threads cited in tests/error-samples).
#[test]
fn the_socket_path_and_the_specific_message_decide_the_ranking() {
    let status_of = |doc: &Json, id: &str| -> String {
        doc["matches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .map(|m| m["status"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    // docker/desktop-linux#20: a Desktop socket. The Desktop check comes first, then the check
    // that holds for any endpoint (nothing answers); no check of the system daemon is offered.
    let desktop = offline_json(
        b"docker: Cannot connect to the Docker daemon at unix:///home/me/.docker/desktop/docker.sock. Is the docker daemon running?.\n",
    );
    assert_eq!(
        offered(&desktop)[..2],
        ["docker-desktop-context", "docker-daemon-unreachable"],
        "{desktop:#}"
    );
    for system in [
        "docker-service-inactive",
        "docker-socket-missing",
        "docker-not-enabled",
    ] {
        assert_eq!(status_of(&desktop, system), "other_endpoint", "{desktop:#}");
    }
    // docker/docker-install#208: DOCKER_HOST built from an unset XDG_RUNTIME_DIR.
    let unset = offline_json(
        b"Cannot connect to the Docker daemon at unix:///docker.sock. Is the docker daemon running?\n",
    );
    let ids = offered(&unset);
    assert_eq!(
        ids.first().map(String::as_str),
        Some("rootless-daemon-not-running"),
        "{unset:#}"
    );
    assert!(
        !ids.contains(&"docker-service-inactive".to_owned()),
        "{ids:?}"
    );
    // A daemon over the network rules out the local socket's and the units' checks.
    let tcp = offline_json(
        b"Cannot connect to the Docker daemon at tcp://10.0.0.5:2375. Is the docker daemon running?\n",
    );
    assert_eq!(
        offered(&tcp).first().map(String::as_str),
        Some("docker-host-unreachable"),
        "{tcp:#}"
    );
    assert_eq!(
        status_of(&tcp, "docker-socket-missing"),
        "other_endpoint",
        "{tcp:#}"
    );
    // The system socket rules out the Desktop and rootless checks.
    let system = offline_json(
        b"Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
    );
    assert!(!offered(&system).contains(&"rootless-daemon-not-running".to_owned()));
    // moby/moby#22339: the directives set twice rank the conflict above the invalid file.
    let both = offline_json(b"dockerd[5375]: unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives are specified both as a flag and in the configuration file: hosts: (from flag: [fd://],\n");
    assert_eq!(
        offered(&both)[..2],
        ["daemon-json-conflicts-with-flags", "daemon-json-invalid"],
        "{both:#}"
    );
}

#[test]
fn an_error_buried_in_a_scroll_back_is_found_with_its_line() {
    let mut input = String::new();
    for i in 0..500 {
        input.push_str(&format!(
            "{i:04} Step {i}/500 : RUN make -j8 permission ok docker daemon socket\n"
        ));
    }
    input.push_str(
        "modprobe: FATAL: Module veth not found in directory /lib/modules/6.10.5-arch1-1\n",
    );
    for i in 0..200 {
        input.push_str(&format!("trailing output {i}\n"));
    }
    let doc = offline_json(input.as_bytes());
    let ids = matched_ids(&doc);
    assert!(
        ids.contains(&"running-kernel-modules-missing".to_owned()),
        "{ids:?}"
    );
    for m in doc["matches"].as_array().unwrap() {
        assert_eq!(m["line"], 501, "{m}");
    }
}

#[test]
fn text_nothing_recognises_says_so_and_suggests_dockdoc_check() {
    let input = b"Error: ENOENT: no such file or directory, open 'package.json'\n";
    let (code, text) = explain_stdin(&["--color", "never"], input);
    assert_eq!(code, 0);
    assert!(text.contains("No check recognises this text."), "{text}");
    assert!(text.contains("dockdoc check"), "{text}");
    let doc = offline_json(input);
    assert_eq!(doc["matches"], Json::Array(Vec::new()));
    assert_eq!(doc["verdict"]["id"], Json::Null);
    assert!(
        doc["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("dockdoc check")
    );
}

#[test]
fn error_flag_and_stdin_agree() {
    let text =
        "Warning: Stopping docker.service, but it can still be activated by:\n  docker.socket";
    let out = bin()
        .args(["explain", "--offline", "--format", "json", "--error", text])
        .output()
        .unwrap();
    assert!(out.status.success());
    let from_flag: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_flag, offline_json(text.as_bytes()));
    assert_eq!(matched_ids(&from_flag), ["docker-socket-without-service"]);
}

#[test]
fn json_follows_the_documented_schema() {
    let doc = offline_json(b"docker: unknown server OS: .\n");
    let keys: BTreeSet<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["schema_version", "recognised", "matches", "verdict"])
    );
    assert_eq!(doc["schema_version"], 1);
    for m in doc["recognised"].as_array().unwrap() {
        let keys: BTreeSet<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["id", "line"]));
    }
    for m in doc["matches"].as_array().unwrap() {
        let keys: BTreeSet<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        let required = BTreeSet::from(["id", "title", "line", "text", "status", "via"]);
        let optional = BTreeSet::from(["signals", "score", "consequence_of"]);
        assert!(keys.is_superset(&required), "{keys:?}");
        assert!(
            keys.difference(&required).all(|k| optional.contains(k)),
            "{keys:?}"
        );
        assert!(
            ["pattern", "signals"].contains(&m["via"].as_str().unwrap()),
            "{m}"
        );
        assert!(m["line"].as_u64().unwrap() >= 1);
        assert_eq!(m["status"], "not_run", "--offline runs nothing");
    }
    let ids = matched_ids(&doc);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "each check once: {ids:?}");
    let verdict: BTreeSet<&str> = doc["verdict"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(verdict, BTreeSet::from(["id", "reason"]));
    // Several candidates offline: no verdict id, and the reason says why.
    assert_eq!(doc["verdict"]["id"], Json::Null);
    let one = offline_json(b"xhost: command not found\n");
    assert_eq!(one["verdict"]["id"], "xhost-missing");
}

// ---- live: real docker CLI failures, explained on this machine

const DEBIAN_DOCKER: &str = "/usr/bin/docker";

/// Runs the Debian docker CLI and returns what it printed on standard error.
fn docker_stderr(prefix: &[&str], args: &[&str]) -> String {
    let (program, rest) = match prefix.split_first() {
        Some((p, rest)) => (*p, rest.to_vec()),
        None => (DEBIAN_DOCKER, Vec::new()),
    };
    let mut cmd = Command::new(program);
    cmd.args(&rest);
    if !prefix.is_empty() {
        cmd.arg(DEBIAN_DOCKER);
    }
    let out = cmd
        .args(args)
        .env("HOME", "/tmp")
        .env("DOCKER_CONFIG", "/nonexistent")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "docker {args:?} unexpectedly succeeded"
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn live_a_stopped_daemon_is_named_first_and_fails_here() {
    if !common::prereq::ready(&[Need::Program("docker")]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}/nobody-listens.sock", dir.path().display());
    // With --device the CLI parses the device against the OS of a ping that failed, and hides
    // the cause behind `unknown server OS`; without it, it names the socket.
    for run in [
        vec![
            "-H",
            host.as_str(),
            "run",
            "--rm",
            "--device",
            "/dev/kvm",
            "alpine",
            "true",
        ],
        vec!["-H", host.as_str(), "run", "--rm", "alpine", "true"],
    ] {
        let stderr = docker_stderr(&[], &run);
        let (code, out) = explain_stdin(
            &["--docker-host", &host, "--format", "json"],
            stderr.as_bytes(),
        );
        assert_eq!(code, 0);
        let doc: Json = serde_json::from_str(&out).unwrap();
        let first = &doc["matches"][0];
        assert_eq!(first["id"], "docker-socket-missing", "{stderr}\n{doc:#}");
        assert_eq!(first["status"], "fail", "{doc:#}");
        assert_eq!(doc["verdict"]["id"], "docker-socket-missing", "{doc:#}");
        if stderr.contains("unknown server OS") {
            let permission = doc["matches"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == "docker-socket-permission-denied")
                .unwrap_or_else(|| panic!("both causes are candidates: {doc:#}"));
            assert_eq!(permission["status"], "pass", "ruled out here: {doc:#}");
        }
    }
}

#[test]
fn live_b_permission_denied_for_an_unprivileged_user_names_its_cause_first() {
    let needs = [
        Need::Program("docker"),
        Need::Program("setpriv"),
        Need::Group("docker"),
    ];
    if !common::prereq::ready(&[dockerd::PRIVATE, &needs].concat()) {
        return;
    }
    let mut daemon = match dockerd::PrivateDockerd::start(std::time::Duration::from_secs(60)) {
        Ok(d) => d,
        Err(e) => panic!("private dockerd did not start: {e}"),
    };
    // The socket: root:docker 0660, as docker.socket makes it, so `nobody` (uid 65534, no
    // supplementary groups, in no group of /etc/group) may reach it but not open it.
    use std::os::unix::fs::PermissionsExt;
    let docker = nix::unistd::Group::from_name("docker").unwrap().unwrap();
    std::fs::set_permissions(daemon.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    nix::unistd::chown(
        &daemon.socket,
        Some(nix::unistd::Uid::from_raw(0)),
        Some(docker.gid),
    )
    .unwrap();
    std::fs::set_permissions(&daemon.socket, std::fs::Permissions::from_mode(0o660)).unwrap();
    let as_nobody = [
        "/usr/bin/setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
    ];
    let host = daemon.uri();
    for run in [
        vec!["-H", host.as_str(), "run", "--rm", "alpine", "true"],
        vec![
            "-H",
            host.as_str(),
            "run",
            "--rm",
            "--device",
            "/dev/kvm",
            "alpine",
            "true",
        ],
    ] {
        let stderr = docker_stderr(&as_nobody, &run);
        let mut cmd = Command::new(as_nobody[0]);
        cmd.args(&as_nobody[1..])
            .arg(env!("CARGO_BIN_EXE_dockdoc"))
            .env_remove("NO_COLOR")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("HOME", "/tmp");
        let (code, out) = common::explain_stdin(
            cmd,
            &["--docker-host", &host, "--format", "json"],
            stderr.as_bytes(),
        );
        assert_eq!(code, 0);
        let doc: Json = serde_json::from_str(&out).unwrap();
        // The cause first, the refused connection listed under it (one cause, one fix).
        let first = &doc["matches"][0];
        assert_eq!(first["id"], "user-not-in-docker-group", "{stderr}\n{doc:#}");
        assert_eq!(first["status"], "fail", "{doc:#}");
        let second = &doc["matches"][1];
        assert_eq!(second["id"], "docker-socket-permission-denied", "{doc:#}");
        assert_eq!(second["status"], "fail", "{doc:#}");
        assert_eq!(
            second["consequence_of"], "user-not-in-docker-group",
            "{doc:#}"
        );
        assert_eq!(doc["verdict"]["id"], "user-not-in-docker-group", "{doc:#}");
    }
    daemon.stop();
}

/// A paste that names another kind of daemon than this run's endpoint says so: the checks judged
/// this run's daemon, not the paste's.
#[test]
fn a_paste_from_another_endpoint_is_pointed_out() {
    let root = common::sysroot("healthy-docker-host");
    let root = root.to_str().unwrap();
    let rootless = b"Cannot connect to the Docker daemon at unix:///run/user/1000/docker.sock. Is the docker daemon running?\n";
    let (code, out) = explain_stdin(&["--root", root, "--format", "json"], rootless);
    assert_eq!(code, 0, "{out}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    let note = doc["endpoint_note"]
        .as_str()
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert!(note.contains("a rootless daemon's socket"), "{note}");
    assert!(note.contains("(system)"), "{note}");
    let system = b"Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n";
    let (_, out) = explain_stdin(&["--root", root, "--format", "json"], system);
    let doc: Json = serde_json::from_str(&out).unwrap();
    assert!(doc.get("endpoint_note").is_none(), "{doc:#}");
}

// ---- signals: what a paste is about (docs/explain.md, "Signals")

/// Words no pattern knows tie the paste to the checks whose cause makes them: the issue's
/// examples, each unlike every sample.
#[test]
fn signals_tie_a_paste_no_pattern_knows_to_its_causes() {
    let mtu = offline_json(
        b"Error response from daemon: failed to set MTU on host interface veth1a2b3c: invalid argument\n",
    );
    assert!(matched_ids(&mtu).is_empty(), "{mtu:#}");
    let ids = offered(&mtu);
    assert!(
        ids.contains(&"running-kernel-modules-missing".to_owned()),
        "{mtu:#}"
    );
    assert_eq!(mtu["matches"][0]["via"], "signals", "{mtu:#}");
    assert!(
        mtu["matches"][0]["signals"]
            .as_array()
            .unwrap()
            .contains(&Json::from("veth")),
        "{mtu:#}"
    );
    let compose = offline_json(
        b"Starting containers\nunknown shorthand flag: 'd' in -d\nSee 'docker --help'.\n",
    );
    assert_eq!(
        offered(&compose).first().map(String::as_str),
        Some("docker-compose-missing"),
        "{compose:#}"
    );
    // The same words far apart say nothing about each other.
    let apart = format!(
        "veth1a2b3c created\n{}the value is an invalid argument\n",
        "unrelated line\n".repeat(10)
    );
    assert!(offered(&offline_json(apart.as_bytes())).is_empty());
    // A paste whose errno the cause does not produce is not tied to it: /dev/kvm missing gives
    // ENOENT, not EACCES.
    let denied = offline_json(b"qemu: /dev/kvm: Permission denied\n");
    assert!(
        !offered(&denied).contains(&"kvm-device-missing".to_owned()),
        "{denied:#}"
    );
}

/// A directory holding one user check file: check `id`, failing when forwarding is off, with
/// `line` (its `signals` or `explains`) added.
fn site_check(id: &str, line: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"schema = 1
area = "site"
title = "Site rules"

[[check]]
id = "{id}"
title = "A site rule"
severity = "error"
profiles = ["docker"]
fails_if = {{ fact = "kernel.ip_forward", is = false }}
summary = "a site rule"
why = "A site rule."
fix = [{{ step = "Look", command = "true" }}]
{line}
"#
    );
    std::fs::write(dir.path().join("site.toml"), text).unwrap();
    dir
}

/// Two objects tie a paste only when each stands on words of its own: `-H fd://` is one word
/// that both the daemon's flags and socket activation read, and ties nothing; `ExecStart=` and
/// `fd://` on one line are two (a user's check listing both signals, so the built-in ranking
/// does not hide what the tie does).
#[test]
fn two_signals_that_read_the_same_words_are_one_object() {
    let dir = site_check(
        "site-activation-flags",
        r#"signals = ["daemon-flags", "socket-activation"]"#,
    );
    let d = dir.path().to_str().unwrap();
    let tied = |paste: &str| {
        let (code, out) = explain_stdin(
            &["--offline", "--format", "json", "--checks-dir", d],
            paste.as_bytes(),
        );
        assert_eq!(code, 0, "{out}");
        let doc: Json = serde_json::from_str(&out).unwrap();
        offered(&doc).contains(&"site-activation-flags".to_owned())
    };
    assert!(!tied("dockerd[812]: started as dockerd -H fd://\n"));
    assert!(tied("ExecStart=/usr/bin/dockerd -H fd://\n"));
}

/// A user's `explains` pattern written with typographic quotes still matches: it is loaded with
/// ASCII ones, as a paste is read. And a log longer than a paste, read in blocks, is read the same
/// way: the error at its end, quoted as a UTF-8 terminal or a forum shows it, is recognised.
#[test]
fn typographic_quotes_in_a_user_pattern_and_at_the_end_of_a_long_log() {
    let dir = site_check(
        "site-proxy-refused",
        r#"explains = ["proxy can\u2019t reach \u201Cregistry\u201D"]"#,
    );
    let d = dir.path().to_str().unwrap();
    let (code, out) = explain_stdin(
        &["--offline", "--format", "json", "--checks-dir", d],
        b"error: proxy can't reach \"registry\"\n",
    );
    assert_eq!(code, 0, "{out}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(matched_ids(&doc), ["site-proxy-refused"], "{doc:#}");

    let mut log = "level=info msg=\"a line of daemon chatter\"\n".repeat(4_000);
    log.push_str("docker: \u{2018}compose\u{2019} is not a docker command.\n");
    assert!(log.len() > 64 * 1024);
    let ascii = offline_json(log.replace(['\u{2018}', '\u{2019}'], "'").as_bytes());
    let typeset = offline_json(log.as_bytes());
    assert!(!matched_ids(&ascii).is_empty(), "{ascii:#}");
    assert_eq!(matched_ids(&typeset), matched_ids(&ascii));
}

/// A paste about something no check covers names nothing, and says what it is about.
#[test]
fn a_paste_about_something_else_names_nothing() {
    let doc = offline_json(
        b"$ docker run --rm myimage\nexec /usr/local/bin/entrypoint.sh: exec format error\n",
    );
    assert!(offered(&doc).is_empty(), "{doc:#}");
    assert_eq!(doc["elsewhere"]["signal"], "image-format", "{doc:#}");
    assert_eq!(doc["verdict"]["id"], Json::Null);
    let (_, text) = explain_stdin(
        &["--offline", "--color", "never"],
        b"exec /usr/local/bin/entrypoint.sh: exec format error\n",
    );
    assert!(text.contains("no check covers that"), "{text}");
    // Each class in the words of the program that prints it (moby, docker-cli, go-yaml).
    for (paste, signal) in [
        (
            "docker: invalid reference format: repository name must be lowercase.",
            "image-reference",
        ),
        (
            "docker: Error response from daemon: invalid mount config for type \"bind\": bind source path does not exist: /srv/data.",
            "mount-spec",
        ),
        ("the input device is not a TTY", "terminal-options"),
        (
            "yaml: line 4: mapping values are not allowed in this context",
            "compose-file",
        ),
        (
            "Error response from daemon: This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.",
            "swarm",
        ),
        (
            "failed to start daemon: pid file found, ensure docker is not running or delete /var/run/docker.pid",
            "second-daemon",
        ),
        (
            "Error response from daemon: No such container: web",
            "missing-object",
        ),
    ] {
        let doc = offline_json(paste.as_bytes());
        assert!(offered(&doc).is_empty(), "{paste}: {doc:#}");
        assert_eq!(doc["elsewhere"]["signal"], signal, "{paste}: {doc:#}");
    }
}

/// A log line its program marks informational reports no failure: dockerd's banner names its
/// graph driver, and ties no storage or kernel check; the error beside it still does.
#[test]
fn an_informational_log_line_is_not_read_for_signals() {
    let banner = "INFO[0000] Docker daemon                                 commit=4d60db4 graphdriver=overlay2 version=18.09.0\n";
    let doc = offline_json(banner.as_bytes());
    assert!(offered(&doc).is_empty(), "{doc:#}");
    let logfmt = "time=\"2024-01-01T00:00:00Z\" level=info msg=\"Docker daemon\" commit=4d60db4 graphdriver=overlay2 version=26.1.0\n";
    let doc = offline_json(logfmt.as_bytes());
    assert!(offered(&doc).is_empty(), "{doc:#}");
    let doc = offline_json(
        format!(
            "{banner}ERRO[0000] failed to mount overlay: no such device storage-driver=overlay2\n"
        )
        .as_bytes(),
    );
    assert!(!offered(&doc).is_empty(), "{doc:#}");
}

/// A refused user bus is said first, with its fix, before any `systemctl --user` advice.
#[test]
fn a_refused_user_bus_is_said_first_with_its_fix() {
    let paste = b"$ su - bob\n$ systemctl --user start docker\nFailed to connect to bus: No medium found\n$ docker ps\nCannot connect to the Docker daemon at unix:///run/user/1000/docker.sock. Is the docker daemon running?\n";
    let doc = offline_json(paste);
    let signals: Vec<&str> = doc["context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["signal"].as_str().unwrap())
        .collect();
    assert!(signals.contains(&"user-bus-refused"), "{doc:#}");
    assert!(signals.contains(&"switched-user"), "{doc:#}");
    let (_, text) = explain_stdin(&["--offline", "--color", "never"], paste);
    let note = text.find("no user bus").unwrap();
    let first_candidate = text.find("rootless-daemon-not-running").unwrap();
    assert!(note < first_candidate, "{text}");
    assert!(text.contains("first, open a real login session"), "{text}");
}
