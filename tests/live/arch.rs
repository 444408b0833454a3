//! Arch's docker.service and docker.socket as shipped (tests/live/units/arch: moby's
//! contrib/init/systemd units, which Arch's PKGBUILD installs unchanged; the test-only
//! deviations are drop-ins, each with its reason), run by systemd 252 in a namespace with the
//! real `/usr/sbin/dockerd`, Debian's real containerd and journald. dockdoc runs INSIDE the
//! namespace with no endpoint given, as on a real machine: it finds the system bus, the socket
//! systemd holds at /run/docker.sock, dockerd's pid file and the journal where Arch has them.

use crate::harness::Booted;
use crate::support::{self, Run};

/// The namespace's own daemon.json: the real dockerd keeps its data in the namespace's private
/// /run and leaves the host's iptables and bridges alone. Not Arch's default (Arch ships no
/// daemon.json); it changes where dockerd keeps state, not how systemd runs it.
pub(crate) const TEST_DAEMON_JSON: &str = r#"{
  "data-root": "/run/docker-data",
  "iptables": false,
  "ip-masq": false,
  "bridge": "none",
  "storage-driver": "vfs"
}
"#;

async fn boot(scenario: &str) -> Option<Booted> {
    use crate::common::prereq::{Need, ready};
    // Arch's units run the real dockerd, which starts Debian's containerd.
    if !ready(&[
        Need::Root,
        Need::Program("dockerd"),
        Need::Program("containerd"),
    ]) {
        return None;
    }
    let booted = match Booted::boot_parts(scenario, &["arch"]).await {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    }?;
    // The namespace's /run/docker.sock is served by the real dockerd (Debian's, with Arch's
    // arguments) whenever docker.service runs.
    crate::common::evidence::register_real(
        &format!("unix:///proc/{}/root/run/docker.sock", booted.pid()),
        "real dockerd",
    );
    Some(booted)
}

/// The `arch-activation` state with the namespace's daemon.json: docker.socket enabled and
/// listening, docker.service not started.
async fn boot_listening() -> Option<Booted> {
    let booted = boot("arch-activation").await?;
    booted
        .write_inside("/etc/docker/daemon.json", TEST_DAEMON_JSON)
        .unwrap();
    booted
        .wait_unit("docker.socket", |s| s.sub_state == "listening")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Some(booted)
}

/// `dockdoc check --profile docker --format json` inside the namespace, plus `extra`.
fn inside(booted: &Booted, extra: &[&str]) -> Run {
    let mut cmd = booted.dockdoc();
    cmd.args(["check", "--profile", "docker", "--format", "json"])
        .args(extra);
    support::run(cmd)
}

/// Asserts that the failing check `id` is listed under `cause` (its `consequence_of`).
fn listed_under(run: &Run, id: &str, cause: &str) {
    assert_eq!(run.check(id)["consequence_of"], cause, "{}", run.json);
}

fn fact(run: &Run, id: &str, key: &str) -> serde_json::Value {
    run.evidence(id, key)["value"].clone()
}

/// The state right after `pacman -S docker && systemctl enable --now docker.socket`: the socket
/// listens, the service is inactive. dockdoc's own connection starts the daemon, and it must
/// never report the start it caused as a failure. Twenty runs, each on a fresh activation-only
/// state (the service is stopped again between runs, the socket keeps listening).
#[tokio::test]
async fn activation_only_is_judged_before_the_run_starts_the_daemon() {
    let Some(booted) = boot_listening().await else {
        return;
    };
    for round in 0..20 {
        let service = booted.unit("docker.service").await.unwrap();
        assert_eq!(service.active_state, "inactive", "round {round}");
        let run = inside(&booted, &["--timeout", "10s"]);
        for id in [
            "docker-service-inactive",
            "docker-service-failed",
            "docker-socket-without-service",
            "docker-socket-activation-broken",
            "docker-not-enabled",
            "docker-socket-missing",
            "docker-daemon-unreachable",
        ] {
            assert_eq!(
                run.status(id),
                "pass",
                "round {round}: {id}: {}\nevidence: {}\nstderr: {}",
                run.summary(id),
                run.check(id)["evidence"],
                run.stderr
            );
        }
        // The snapshot saw the service as it was; the connection then started it.
        assert_eq!(
            fact(
                &run,
                "docker-service-inactive",
                "systemd.docker_service_active_state"
            ),
            "inactive",
            "round {round}"
        );
        let failure = run.evidence("docker-service-failed", "systemd.docker_service_failure");
        assert_eq!(
            failure["value"],
            serde_json::Value::Null,
            "round {round}: {failure}"
        );
        let activation = fact(&run, "docker-daemon-unreachable", "docker.reachable");
        assert_eq!(activation, true, "round {round}");
        // Arch's docker.socket is PartOf=docker.service: stopping the service stops the
        // socket too, so the socket is started again, as a user would after `systemctl stop`.
        booted
            .run_inside(&["systemctl", "stop", "docker.service"])
            .unwrap_or_else(|e| panic!("{e}"));
        booted
            .wait_unit("docker.service", |s| s.active_state == "inactive")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // StartLimitBurst=3 in 60 s counts every start, good or bad: twenty starts a minute
        // would hit it (dockdoc then rightly reports start-limit-hit). Resetting the counter
        // makes each round the fresh state of a machine that just booted.
        booted
            .run_inside(&[
                "systemctl",
                "reset-failed",
                "docker.service",
                "docker.socket",
            ])
            .unwrap_or_else(|e| panic!("{e}"));
        booted
            .run_inside(&["systemctl", "start", "docker.socket"])
            .unwrap_or_else(|e| panic!("{e}"));
        booted
            .wait_unit("docker.socket", |s| s.sub_state == "listening")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // --no-activate leaves the service alone and says why the daemon was not asked.
    let run = inside(&booted, &["--no-activate"]);
    let reachable = run.evidence("docker-daemon-unreachable", "docker.reachable");
    assert_eq!(reachable["state"], "skipped", "{reachable}");
    assert!(
        reachable["reason"]
            .as_str()
            .unwrap()
            .contains("socket activation"),
        "{reachable}"
    );
    let service = booted.unit("docker.service").await.unwrap();
    assert_eq!(service.active_state, "inactive");
    // The checks load while the probes start; a selection naming no check is a usage error,
    // and it stops the run before the connection that would start the daemon.
    let out = booted
        .dockdoc()
        .args(["check", "--only", "no-such-check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no check has the id `no-such-check`"));
    let service = booted.unit("docker.service").await.unwrap();
    assert_eq!(
        service.active_state, "inactive",
        "a usage error started the daemon"
    );
    booted.shutdown();
}

/// A typo in daemon.json under Arch's restart policy (Restart=always, RestartSec=2,
/// StartLimitBurst=3 in 60 s): dockdoc's connection starts the daemon, which fails; after the
/// third start systemd gives up (start-limit-hit) and docker.socket fails with
/// service-start-limit-hit. Both times the cause is daemon.json, shown with dockerd's own last
/// words from the journal, and the unit failures are listed under it.
#[tokio::test]
async fn a_daemon_json_typo_is_the_cause_under_the_shipped_restart_policy() {
    let Some(booted) = boot("arch-daemon-json").await else {
        return;
    };
    let broken = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sysroots/daemon-json-broken/etc/docker/daemon.json"),
    )
    .unwrap();
    booted
        .write_inside("/etc/docker/daemon.json", &broken)
        .unwrap();
    booted
        .wait_unit("docker.socket", |s| s.sub_state == "listening")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // 1. The run's own connection starts the daemon, which fails at once.
    let run = inside(&booted, &["--timeout", "3s"]);
    run.expect(&[
        ("daemon-json-invalid", "fail"),
        ("docker-service-failed", "fail"),
        ("docker-socket-activation-broken", "pass"),
        ("docker-socket-without-service", "pass"),
    ]);
    listed_under(&run, "docker-service-failed", "daemon-json-invalid");
    let failure = run.summary("docker-service-failed");
    assert!(
        failure.contains("this run's connection to docker.socket started it and the start failed"),
        "{failure}"
    );
    assert!(
        failure.contains("unable to configure the Docker daemon with file /etc/docker/daemon.json"),
        "{failure}"
    );

    // 2. After the start limit: both units failed, as a user finds them later (systemd 252
    // leaves the service's own result at exit-code and gives the socket
    // service-start-limit-hit).
    let service = booted
        .wait_unit("docker.service", |s| s.active_state == "failed")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(service.exec_main_status, Some(1));
    booted
        .wait_unit("docker.socket", |s| {
            s.active_state == "failed" && s.result.as_deref() == Some("service-start-limit-hit")
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = inside(&booted, &[]);
    run.expect(&[
        ("daemon-json-invalid", "fail"),
        ("docker-service-failed", "fail"),
        ("docker-socket-activation-broken", "pass"),
    ]);
    for id in [
        "docker-service-failed",
        "docker-socket-missing",
        "docker-daemon-unreachable",
    ] {
        if run.status(id) == "fail" {
            assert_eq!(
                run.check(id)["consequence_of"],
                "daemon-json-invalid",
                "{id}: {}",
                run.json
            );
        }
    }
    let failure = run.summary("docker-service-failed");
    assert!(failure.contains("docker.service is failed"), "{failure}");
    assert!(failure.contains("service-start-limit-hit"), "{failure}");
    assert!(
        failure.contains("unable to configure the Docker daemon"),
        "{failure}"
    );
    // systemctl's words for the same state, pasted: the cause is daemon.json, and the failed
    // unit is listed under it.
    let status = systemctl(
        &booted,
        &["status", "--no-pager", "-n", "0", "docker.service"],
    );
    assert!(status.contains("Active: failed (Result: "), "{status}");
    eprintln!("systemctl status, after the start limit:\n{status}");
    let doc = explain_inside(
        &booted,
        &format!("$ systemctl status docker\n{status}"),
        &[],
    );
    assert_eq!(doc["verdict"]["id"], "daemon-json-invalid", "{doc:#}");
    let failed = doc["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "docker-service-failed")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(failed["consequence_of"], "daemon-json-invalid", "{doc:#}");
    let active = systemctl(&booted, &["is-active", "docker"]);
    assert_eq!(active, "failed\n");
    let doc = explain_inside(
        &booted,
        &format!("$ systemctl is-active docker\n{active}"),
        &[],
    );
    assert_eq!(doc["verdict"]["id"], "daemon-json-invalid", "{doc:#}");
    // One cause, one fix: only daemon.json counts as a problem.
    let problems: Vec<&str> = run.json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["status"] == "fail" && c["severity"] == "error" && c.get("consequence_of").is_none()
        })
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(problems, ["daemon-json-invalid"], "{}", run.json);

    // 3. The same machine read from outside under --root: the root's own journal files give
    // dockerd's last words (journalctl --root), the root's daemon.json the cause.
    let mut cmd = crate::common::bin();
    cmd.args(support::check_args(&booted.address(), support::NO_DOCKER))
        .arg("--root")
        .arg(format!("/proc/{}/root", booted.pid()));
    let run = support::run(cmd);
    run.expect(&[
        ("daemon-json-invalid", "fail"),
        ("docker-service-failed", "fail"),
    ]);
    let failure = run.summary("docker-service-failed");
    assert!(
        failure.contains("unable to configure the Docker daemon"),
        "{failure}"
    );

    // 4. A user who may not read the system journal (not root, nor in systemd-journal, wheel
    // or adm): dockerd's last words are unknown with that reason, never taken as "none".
    crate::access::ensure_user();
    let mut cmd = booted.dockdoc_as(Some(crate::access::USER));
    cmd.args(["facts", "--format", "json"]);
    let out = cmd.output().unwrap();
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let words = &facts["facts"]["journal.docker_last_error"];
    assert_eq!(words["state"], "unknown", "{words}");
    assert!(
        words["reason"]
            .as_str()
            .unwrap()
            .contains("systemd-journal"),
        "{words}"
    );
    booted.shutdown();
}

/// docker.service enabled while docker.socket is masked: dockerd -H fd:// finds no socket,
/// exits, and systemd gives up. The masked socket is the cause.
#[tokio::test]
async fn a_masked_socket_breaks_activation() {
    let Some(booted) = boot("arch-masked-socket").await else {
        return;
    };
    booted
        .write_inside("/etc/docker/daemon.json", TEST_DAEMON_JSON)
        .unwrap();
    booted
        .wait_unit("docker.service", |s| s.active_state == "failed")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = inside(&booted, &[]);
    run.expect(&[
        ("docker-socket-activation-broken", "fail"),
        ("docker-service-failed", "fail"),
        ("daemon-json-invalid", "pass"),
    ]);
    assert_eq!(
        run.check("docker-service-failed")["consequence_of"],
        "docker-socket-activation-broken",
        "{}",
        run.json
    );
    let summary = run.summary("docker-socket-activation-broken");
    assert!(summary.contains("docker.socket is masked"), "{summary}");
    booted.shutdown();
}

/// What systemctl prints in the namespace, whatever its exit status (`status` exits 3 for an
/// inactive unit, `is-enabled` 1 for a disabled one).
fn systemctl(booted: &Booted, args: &[&str]) -> String {
    let out = std::process::Command::new("nsenter")
        .args(["-t", &booted.pid().to_string(), "-m", "-p", "--"])
        .arg("systemctl")
        .args(args)
        .env("SYSTEMD_COLORS", "0")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `dockdoc explain --format json -` inside the namespace, `paste` on standard input, plus
/// `extra`: the facts are gathered there, as on the machine the paste came from.
fn explain_inside(booted: &Booted, paste: &str, extra: &[&str]) -> serde_json::Value {
    crate::common::explain_json(booted.dockdoc(), extra, paste)
}

fn ids(doc: &serde_json::Value) -> Vec<String> {
    doc["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m["id"].as_str().unwrap(),
                m["status"].as_str().unwrap()
            )
        })
        .collect()
}

/// systemd's own words, as a user pastes them from `systemctl status` and `systemctl
/// is-enabled` on this machine, name the cause: real systemd 252 output about Arch's units.
/// First the package is installed and nothing enabled; then docker.socket listens and a start
/// of docker.service hangs (containerd stopped with SIGSTOP: its socket accepts and never
/// answers), so the service stays `activating (start)`.
#[tokio::test]
async fn systemd_words_pasted_from_this_machine_name_the_cause() {
    let Some(booted) = boot("arch-installed").await else {
        return;
    };
    booted
        .write_inside("/etc/docker/daemon.json", TEST_DAEMON_JSON)
        .unwrap();

    // 1. Installed, never enabled nor started.
    let enabled = systemctl(&booted, &["is-enabled", "docker", "docker.socket"]);
    assert_eq!(enabled, "disabled\ndisabled\n");
    let status = systemctl(
        &booted,
        &["status", "--no-pager", "-n", "0", "docker.service"],
    );
    assert!(status.contains("Active: inactive (dead)"), "{status}");
    assert!(status.contains("docker.service; disabled;"), "{status}");
    eprintln!("systemctl is-enabled docker docker.socket:\n{enabled}\nsystemctl status:\n{status}");
    let paste = format!("$ systemctl is-enabled docker docker.socket\n{enabled}");
    let doc = explain_inside(&booted, &paste, &["--no-activate"]);
    let offered = ids(&doc);
    assert_eq!(
        offered.first().map(String::as_str),
        Some("docker-service-inactive fail"),
        "{doc:#}"
    );
    let not_enabled = doc["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "docker-not-enabled")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(not_enabled["status"], "fail", "{doc:#}");
    assert_eq!(not_enabled["consequence_of"], "docker-service-inactive");
    let doc = explain_inside(
        &booted,
        &format!("$ systemctl status docker\n{status}"),
        &["--no-activate"],
    );
    assert_eq!(doc["verdict"]["id"], "docker-service-inactive", "{doc:#}");
    let active = systemctl(&booted, &["is-active", "docker"]);
    assert_eq!(active, "inactive\n");
    let doc = explain_inside(
        &booted,
        &format!("$ systemctl is-active docker\n{active}"),
        &["--no-activate"],
    );
    assert_eq!(doc["verdict"]["id"], "docker-service-inactive", "{doc:#}");

    // 2. The socket listens; containerd hangs, so dockerd never says it is ready.
    booted
        .run_inside(&["systemctl", "start", "docker.socket", "containerd.service"])
        .unwrap_or_else(|e| panic!("{e}"));
    booted
        .run_inside(&[
            "systemctl",
            "kill",
            "--signal=SIGSTOP",
            "containerd.service",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    booted
        .run_inside(&["systemctl", "start", "--no-block", "docker.service"])
        .unwrap_or_else(|e| panic!("{e}"));
    booted
        .wait_unit("docker.service", |s| s.active_state == "activating")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Still starting a while later: the start hangs, it is not merely slow.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let status = systemctl(
        &booted,
        &["status", "--no-pager", "-n", "0", "docker.service"],
    );
    assert!(status.contains("Active: activating (start)"), "{status}");
    eprintln!("systemctl status, hung start:\n{status}");
    let doc = explain_inside(
        &booted,
        &format!("$ systemctl status docker\n{status}"),
        &["--timeout", "2s"],
    );
    assert_eq!(
        doc["verdict"]["id"], "docker-socket-without-service",
        "{doc:#}"
    );
    // The CLI's words in the same state: the socket accepts, nobody answers.
    let doc = explain_inside(
        &booted,
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
        &["--timeout", "2s"],
    );
    assert_eq!(
        doc["verdict"]["id"],
        "docker-socket-without-service",
        "{:?}\n{doc:#}",
        ids(&doc)
    );
    booted
        .run_inside(&[
            "systemctl",
            "kill",
            "--signal=SIGCONT",
            "containerd.service",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    booted.shutdown();
}

/// docker.socket listening when its address changes and systemd reloads (a drop-in here; an
/// upgraded unit file or a package removed and installed again does the same): systemd 252
/// keeps the unit "active (listening)" but holds no socket, the file left behind refuses every
/// client, and nothing starts the daemon. The cause is the socket unit, fixed by restarting it.
#[tokio::test]
async fn a_socket_unit_reloaded_with_a_new_address_holds_no_socket() {
    let Some(booted) = boot_listening().await else {
        return;
    };
    // The address changes under the running unit: a drop-in, then the daemon-reload that
    // pacman's hook or an admin runs.
    booted
        .run_inside(&["mkdir", "-p", "/etc/systemd/system/docker.socket.d"])
        .unwrap_or_else(|e| panic!("{e}"));
    booted
        .write_inside(
            "/etc/systemd/system/docker.socket.d/listen.conf",
            "[Socket]\nListenStream=\nListenStream=/run/docker-new.sock\n",
        )
        .unwrap();
    booted
        .run_inside(&["systemctl", "daemon-reload"])
        .unwrap_or_else(|e| panic!("{e}"));
    let socket = booted.unit("docker.socket").await.unwrap();
    assert_eq!(
        (socket.active_state.as_str(), socket.sub_state.as_str()),
        ("active", "listening")
    );
    // systemd logs "docker.socket: Socket unit configuration has changed while unit has been
    // running, no open socket file descriptor left. The socket unit is not functional until
    // restarted." Its own messages do not reach the namespace's journal here (`journalctl -u
    // docker.socket` printed nothing), so the words pasted below are those of moby/moby#44901.
    let said = "Feb 03 11:04:12 xxx systemd[1]: docker.socket: Socket unit configuration has changed while unit has been running, no open socket file descriptor left. The socket unit is not functional until restarted.";
    let run = inside(&booted, &["--timeout", "3s"]);
    run.expect(&[
        ("docker-socket-not-functional", "fail"),
        ("docker-daemon-unreachable", "fail"),
        ("docker-socket-activation-broken", "pass"),
    ]);
    assert_eq!(
        run.check("docker-daemon-unreachable")["consequence_of"],
        "docker-socket-not-functional",
        "{}",
        run.json
    );
    // The service was never started: a refused connection activates nothing.
    let service = booted.unit("docker.service").await.unwrap();
    assert_eq!(service.active_state, "inactive");
    // systemd's words and the CLI's, pasted on this machine, name the same cause.
    for paste in [
        said.to_owned(),
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n".to_owned(),
    ] {
        let doc = explain_inside(&booted, &paste, &["--timeout", "3s"]);
        assert_eq!(
            doc["verdict"]["id"], "docker-socket-not-functional",
            "{paste}\n{doc:#}"
        );
    }
    // The fix as given: restart the socket; the drop-in's address is now the one held.
    booted
        .run_inside(&["rm", "/etc/systemd/system/docker.socket.d/listen.conf"])
        .unwrap_or_else(|e| panic!("{e}"));
    booted
        .run_inside(&["systemctl", "daemon-reload"])
        .unwrap_or_else(|e| panic!("{e}"));
    booted
        .run_inside(&["systemctl", "restart", "docker.socket"])
        .unwrap_or_else(|e| panic!("{e}"));
    let run = inside(&booted, &["--timeout", "10s"]);
    run.expect(&[
        ("docker-socket-not-functional", "pass"),
        ("docker-daemon-unreachable", "pass"),
    ]);
    booted.shutdown();
}

/// containerd.service whose ExecStart names a program that does not exist: systemd 252 fails
/// it with 203/EXEC. Arch's docker.service of today (moby v27.3.1's, `Wants=containerd.service`;
/// tests/live/units/arch-containerd-missing/README.md) dials that containerd (`--containerd=`),
/// so the failed unit is the cause before docker.service is even started, and while it hangs
/// starting (dockerd waits 60 s for the socket, then exits). Then the unit is repaired and
/// started, and the check passes.
#[tokio::test]
async fn a_containerd_whose_program_is_missing_is_the_cause() {
    let Some(booted) = boot("arch-containerd-missing").await else {
        return;
    };
    booted
        .write_inside("/etc/docker/daemon.json", TEST_DAEMON_JSON)
        .unwrap();
    let unit = booted
        .wait_unit("containerd.service", |s| s.active_state == "failed")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(unit.exec_main_status, Some(203), "{unit:?}");

    // 1. As the user finds it: containerd failed, docker.socket listening, docker.service not
    // started (and not started by this run).
    let run = inside(&booted, &["--no-activate"]);
    run.expect(&[("containerd-unavailable", "fail")]);
    let summary = run.summary("containerd-unavailable");
    assert!(
        summary.contains("containerd.service is failed"),
        "{summary}"
    );
    assert!(summary.contains("203/EXEC"), "{summary}");
    // systemctl's words for containerd, pasted: the cause is named.
    let status = systemctl(
        &booted,
        &["status", "--no-pager", "-n", "0", "containerd.service"],
    );
    assert!(status.contains("status=203/EXEC"), "{status}");
    eprintln!("systemctl status containerd, program missing:\n{status}");
    let doc = explain_inside(
        &booted,
        &format!("$ systemctl status containerd\n{status}"),
        &["--no-activate"],
    );
    assert_eq!(doc["verdict"]["id"], "containerd-unavailable", "{doc:#}");

    // 2. docker.service started anyway (Wants= does not stop it): dockerd waits for the socket
    // (60 s, then it exits), so the unit hangs in `activating`; that is listed under the cause.
    booted
        .run_inside(&["systemctl", "start", "--no-block", "docker.service"])
        .unwrap_or_else(|e| panic!("{e}"));
    booted
        .wait_unit("docker.service", |s| s.active_state == "activating")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = inside(&booted, &["--timeout", "2s"]);
    run.expect(&[
        ("containerd-unavailable", "fail"),
        ("docker-socket-without-service", "fail"),
    ]);
    listed_under(
        &run,
        "docker-socket-without-service",
        "containerd-unavailable",
    );
    // dockerd does not end on SIGTERM while it dials; stop it at once.
    for args in [
        &["systemctl", "kill", "--signal=SIGKILL", "docker.service"][..],
        &["systemctl", "stop", "docker.service"],
    ] {
        booted.run_inside(args).unwrap_or_else(|e| panic!("{e}"));
    }

    // 3. Repaired: the drop-in that names the missing program is removed, containerd started,
    // and docker.socket listens again as before.
    std::fs::remove_file(format!(
        "/proc/{}/root/etc/systemd/system/containerd.service.d/dockdoc-missing.conf",
        booted.pid()
    ))
    .unwrap();
    for args in [
        &["systemctl", "daemon-reload"][..],
        &[
            "systemctl",
            "reset-failed",
            "containerd.service",
            "docker.socket",
        ],
        &["systemctl", "start", "containerd.service", "docker.socket"],
    ] {
        booted.run_inside(args).unwrap_or_else(|e| panic!("{e}"));
    }
    booted
        .wait_unit("containerd.service", |s| s.active_state == "active")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = inside(&booted, &["--no-activate"]);
    run.expect(&[("containerd-unavailable", "pass")]);
    booted.shutdown();
}
