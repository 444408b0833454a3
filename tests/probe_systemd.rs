//! The systemd probe against real components: systemd 252 booted as PID 1 of a namespace with
//! scenario units (tests/live/units), a private dbus-daemon without systemd, a bus address
//! that does not exist, and `--root` without bus flags.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;
#[path = "common/systemd.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dockdoc::catalog::load_builtin;
use dockdoc::eval::evaluate_check;
use dockdoc::facts::systemd::{self, SCHEMA, UnitState};
use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Questions, Sysroot};
use dockdoc::finding::Status;
use harness::Booted;

const STANDIN_EXEC: &str = "/etc/systemd/system/dockdoc-standin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sysroots")
        .join(name)
}

/// A context that asks every optional question, libvirt's units included.
fn context(endpoints: Endpoints) -> Context {
    Context::new(
        Sysroot::new(fixture("healthy-docker-host")),
        endpoints,
        Env::from_pairs([("HOME", "/home/alice"), ("USER", "alice")]),
        Duration::from_secs(3),
    )
    .asking(Questions::ALL)
}

fn system_bus(address: &str) -> Endpoints {
    Endpoints {
        system_bus: Some(address.to_owned()),
        ..Endpoints::default()
    }
}

async fn gather(endpoints: Endpoints) -> Facts {
    systemd::gather(&context(endpoints)).await
}

fn known(v: impl Into<dockdoc::facts::Value>) -> Fact {
    Fact::known(v)
}

/// Asserts each (key, fact) pair, naming the key on failure.
fn assert_facts(facts: &Facts, expected: &[(&str, Fact)]) {
    for (key, want) in expected {
        assert_eq!(&facts.get(key), want, "fact {key}");
    }
}

/// The daemon checks' statuses on real unit states, on a host like this VM (systemd is not
/// PID 1 of the host, the namespace's bus was given explicitly) with Arch's `-H fd://` unit.
fn assert_checks(facts: &Facts, expected: &[(&str, Status)]) {
    let mut facts = facts.clone();
    facts.set("os.systemd_booted", known(false));
    facts.set("docker.exec_start_uses_fd", known(true));
    // The CLI would talk to the system daemon, whose units these are.
    facts.set("docker.endpoint_kind", known("system"));
    // How docker.service failed is derived from the unit states read here.
    dockdoc::facts::systemd::derive(&mut facts);
    let catalog = load_builtin().catalog;
    for (id, want) in expected {
        let check = catalog.get(id).unwrap_or_else(|| panic!("no check {id}"));
        let finding = evaluate_check(check, &facts, false);
        assert_eq!(finding.status, *want, "{id}: {}", finding.summary);
    }
}

const UNIT_CHECKS: [&str; 5] = [
    "docker-service-inactive",
    "docker-service-failed",
    "docker-not-enabled",
    "docker-socket-without-service",
    "docker-socket-activation-broken",
];

fn unit_checks(statuses: [Status; 5]) -> Vec<(&'static str, Status)> {
    UNIT_CHECKS.into_iter().zip(statuses).collect()
}

#[tokio::test]
async fn root_without_bus_flags_skips_every_key() {
    let ctx = context(Endpoints::default());
    let facts = systemd::gather(&ctx).await;
    for spec in SCHEMA {
        let want = if spec.key.starts_with("systemd.user_") {
            Fact::skipped(ctx.live_skip_reason("the user's systemd", "--user-bus"))
        } else {
            Fact::skipped(ctx.live_skip_reason("systemd", "--system-bus"))
        };
        assert_eq!(facts.get(spec.key), want, "fact {}", spec.key);
    }
    assert_eq!(facts.facts.len(), SCHEMA.len());
}

#[tokio::test]
async fn unreachable_bus_is_known_absent_and_the_rest_unknown_fast() {
    let address = "unix:path=/nonexistent/dockdoc/system_bus_socket";
    let endpoints = Endpoints {
        system_bus: Some(address.into()),
        user_bus: Some("unix:path=/nonexistent/dockdoc/user_bus".into()),
        use_defaults: false,
        docker_host: None,
    };
    let started = Instant::now();
    let facts = gather(endpoints).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    let reason = format!(
        "cannot connect to the system bus at {address}: No such file or directory (os error 2)"
    );
    for spec in SCHEMA {
        let want = match spec.key {
            // A bus given explicitly that does not answer is unknown, never "no systemd here".
            "systemd.system_bus" => Fact::unknown(format!(
                "the bus given with --system-bus did not answer: {reason}"
            )),
            "systemd.user_bus" => known(false),
            "systemd.user_docker_service_active_state"
            | "systemd.user_docker_service_result"
            | "systemd.user_docker_service_unit_file_state" => Fact::unknown(
                "cannot connect to the user bus at unix:path=/nonexistent/dockdoc/user_bus: No such file or directory (os error 2)",
            ),
            _ => Fact::unknown(reason.clone()),
        };
        assert_eq!(facts.get(spec.key), want, "fact {}", spec.key);
    }
    // The bus was given explicitly and does not answer: whether systemd is PID 1 here or not,
    // the unit checks are unknown with the reason, never not applicable.
    let catalog = load_builtin().catalog;
    for (booted, want) in [(false, Status::Unknown), (true, Status::Unknown)] {
        let mut facts = facts.clone();
        facts.set("os.systemd_booted", known(booted));
        facts.set("docker.endpoint_kind", known("system"));
        for id in UNIT_CHECKS.into_iter().chain(["libvirt-daemon-inactive"]) {
            let finding = evaluate_check(catalog.get(id).unwrap(), &facts, false);
            assert_eq!(finding.status, want, "{id}: {}", finding.summary);
            if want == Status::Unknown {
                assert!(finding.summary.contains(&reason), "{}", finding.summary);
            }
        }
    }
}

/// A private dbus-daemon (no systemd on it), killed by its pid when dropped.
struct PrivateBus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn private_bus() -> Option<PrivateBus> {
    if !common::prereq::ready(&[common::prereq::Need::Program("dbus-daemon")]) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bus");
    let address = format!("unix:path={}", socket.display());
    let child = Command::new("/usr/bin/dbus-daemon")
        .args(["--session", "--nofork", "--nopidfile"])
        .arg(format!("--address={address}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The socket file exists once bound, before the daemon listens: wait for a connection.
    let started = Instant::now();
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "dbus-daemon did not listen on {address} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(PrivateBus {
        child,
        address,
        _dir: dir,
    })
}

#[tokio::test]
async fn a_bus_without_systemd_answers_but_units_are_unknown() {
    let Some(bus) = private_bus() else { return };
    let facts = gather(Endpoints {
        system_bus: Some(bus.address.clone()),
        user_bus: Some(bus.address.clone()),
        ..Endpoints::default()
    })
    .await;
    assert_eq!(facts.get("systemd.system_bus"), known(true), "{facts:#?}");
    assert_eq!(facts.get("systemd.user_bus"), known(true), "{facts:#?}");
    for key in [
        "systemd.docker_service_active_state",
        "systemd.user_docker_service_active_state",
    ] {
        match facts.get(key) {
            Fact::Unknown { reason } => assert!(
                reason.starts_with("docker.service: ")
                    && reason.contains("org.freedesktop.systemd1"),
                "{key}: {reason}"
            ),
            other => panic!("{key}: {other:?}"),
        }
    }
    match facts.get("systemd.libvirt_daemon_active") {
        Fact::Unknown { reason } => assert!(reason.contains("libvirtd.service: "), "{reason}"),
        other => panic!("{other:?}"),
    }
}

/// Boots a scenario, waits for docker.service to settle as `ready` says, gathers the facts.
async fn scenario(name: &str, ready: impl Fn(&UnitState) -> bool) -> Option<(Booted, Facts)> {
    let booted = match Booted::boot(name).await {
        Ok(Some(b)) => b,
        Ok(None) => return None,
        Err(e) => panic!("{e}"),
    };
    if let Err(e) = booted.wait_unit("docker.service", ready).await {
        panic!("{e}");
    }
    let started = Instant::now();
    let facts = gather(system_bus(&booted.address())).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "reading the units took {:?}",
        started.elapsed()
    );
    Some((booted, facts))
}

#[tokio::test]
async fn docker_active_and_enabled_with_virtqemud_listening() {
    let Some((booted, facts)) = scenario("docker-active", |s| s.active_state == "active").await
    else {
        return;
    };
    assert_facts(
        &facts,
        &[
            ("systemd.system_bus", known(true)),
            ("systemd.docker_service_load_state", known("loaded")),
            ("systemd.docker_service_active_state", known("active")),
            ("systemd.docker_service_sub_state", known("running")),
            ("systemd.docker_service_result", known("success")),
            ("systemd.docker_service_exit_status", known(0_i64)),
            ("systemd.docker_service_unit_file_state", known("enabled")),
            ("systemd.docker_service_exec_start", known(STANDIN_EXEC)),
            ("systemd.docker_socket_load_state", known("loaded")),
            ("systemd.docker_socket_active_state", known("active")),
            ("systemd.docker_socket_sub_state", known("running")),
            ("systemd.docker_socket_result", known("success")),
            ("systemd.docker_socket_unit_file_state", known("enabled")),
            ("systemd.libvirt_daemon_active", known(true)),
            (
                "systemd.libvirt_daemon_states",
                known(
                    "libvirtd.service=not-found, libvirtd.socket=not-found, virtqemud.service=inactive, virtqemud.socket=active",
                ),
            ),
            ("systemd.libvirt_units_loaded", known(true)),
            ("systemd.virtlogd_active", known(false)),
        ],
    );
    {
        use Status::*;
        assert_checks(
            &facts,
            &[
                ("libvirt-daemon-inactive", Pass),
                ("virtlogd-inactive", Fail),
            ],
        );
        assert_checks(&facts, &unit_checks([Pass, Pass, Pass, Pass, Pass]));
    }
    booted.shutdown();
}

#[tokio::test]
async fn the_default_profile_asks_systemd_only_what_its_facts_read() {
    let docker = common::profile_questions("docker");
    let osx = common::profile_questions("docker-osx");
    assert!(
        !docker.libvirt_units && osx.libvirt_units,
        "{docker:?} {osx:?}"
    );
    assert!(
        !docker.unit_details && !osx.unit_details,
        "{docker:?} {osx:?}"
    );
    let Some((booted, _)) = scenario("docker-active", |s| s.active_state == "active").await else {
        return;
    };
    let address = booted.address();
    // The default profile: docker's states, unit-file states and ExecStart are read; libvirt's
    // units, and the results and exit statuses no derived fact reads while nothing failed,
    // are not asked for.
    let facts = systemd::gather(&context(system_bus(&address)).asking(docker)).await;
    assert_facts(
        &facts,
        &[
            ("systemd.docker_service_active_state", known("active")),
            ("systemd.docker_service_unit_file_state", known("enabled")),
            ("systemd.docker_service_exec_start", known(STANDIN_EXEC)),
            ("systemd.docker_socket_unit_file_state", known("enabled")),
        ],
    );
    for key in systemd::LIBVIRT_KEYS {
        assert_eq!(
            facts.get(key),
            Fact::skipped(systemd::LIBVIRT_NOT_ASKED),
            "{key}"
        );
    }
    for key in [
        "systemd.docker_service_result",
        "systemd.docker_service_exit_status",
        "systemd.docker_socket_result",
    ] {
        assert_eq!(
            facts.get(key),
            Fact::skipped(systemd::UNIT_DETAILS_NOT_ASKED),
            "{key}"
        );
    }
    {
        use Status::*;
        assert_checks(&facts, &unit_checks([Pass, Pass, Pass, Pass, Pass]));
    }
    // containerd.service is not installed here: nothing to skip, no value.
    assert_eq!(
        facts.get("systemd.containerd_service_load_state"),
        known("not-found")
    );
    assert_eq!(
        facts.get("systemd.containerd_service_result"),
        Fact::known(dockdoc::facts::Value::Null)
    );
    // docker-osx reads libvirt's units: virtqemud.socket listens in this scenario.
    let facts = systemd::gather(&context(system_bus(&address)).asking(osx)).await;
    assert_eq!(facts.get("systemd.libvirt_daemon_active"), known(true));
    assert_eq!(facts.get("systemd.libvirt_units_loaded"), known(true));
    booted.shutdown();
}

#[tokio::test]
async fn a_failed_unit_is_read_in_full_for_the_default_profile() {
    let Some((booted, _)) = scenario("docker-failed", |s| s.active_state == "failed").await else {
        return;
    };
    let ctx = context(system_bus(&booted.address())).asking(common::profile_questions("docker"));
    let facts = systemd::gather(&ctx).await;
    assert_facts(
        &facts,
        &[
            ("systemd.docker_service_result", known("exit-code")),
            ("systemd.docker_service_exit_status", known(3_i64)),
            ("systemd.docker_socket_result", known("success")),
        ],
    );
    {
        use Status::*;
        assert_checks(&facts, &unit_checks([Pass, Fail, Fail, Fail, Pass]));
    }
    booted.shutdown();
}

#[tokio::test]
async fn socket_activation_only_the_socket_listens() {
    let Some((booted, facts)) = scenario("docker-socket-only", |s| s.load_state == "loaded").await
    else {
        return;
    };
    // Socket-only needs the socket to be listening before the facts are read.
    let facts = if facts.text("systemd.docker_socket_sub_state") == Some("listening") {
        facts
    } else {
        booted
            .wait_unit("docker.socket", |s| s.sub_state == "listening")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        gather(system_bus(&booted.address())).await
    };
    assert_facts(
        &facts,
        &[
            ("systemd.docker_service_load_state", known("loaded")),
            ("systemd.docker_service_active_state", known("inactive")),
            ("systemd.docker_service_sub_state", known("dead")),
            ("systemd.docker_service_unit_file_state", known("disabled")),
            ("systemd.docker_socket_active_state", known("active")),
            ("systemd.docker_socket_sub_state", known("listening")),
            ("systemd.docker_socket_unit_file_state", known("enabled")),
            ("systemd.libvirt_daemon_active", known(false)),
            ("systemd.libvirt_units_loaded", known(false)),
            ("systemd.virtlogd_active", known(false)),
        ],
    );
    {
        use Status::*;
        assert_checks(&facts, &unit_checks([Pass, Pass, Pass, Pass, Pass]));
    }
    booted.shutdown();
}

#[tokio::test]
async fn failed_daemon_reports_result_and_exit_status() {
    let Some((booted, facts)) = scenario("docker-failed", |s| s.active_state == "failed").await
    else {
        return;
    };
    assert_facts(
        &facts,
        &[
            ("systemd.docker_service_active_state", known("failed")),
            ("systemd.docker_service_sub_state", known("failed")),
            ("systemd.docker_service_result", known("exit-code")),
            ("systemd.docker_service_exit_status", known(3_i64)),
            ("systemd.docker_service_unit_file_state", known("disabled")),
            ("systemd.docker_socket_active_state", known("active")),
            ("systemd.docker_socket_sub_state", known("listening")),
            ("systemd.docker_socket_unit_file_state", known("disabled")),
        ],
    );
    {
        use Status::*;
        assert_checks(&facts, &unit_checks([Pass, Fail, Fail, Fail, Pass]));
    }
    booted.shutdown();
}

#[tokio::test]
async fn flapping_daemon_hits_the_start_limit() {
    // What systemd 252 really does with a socket-activated service that fails three times in a
    // row: the service keeps Result=exit-code ("Start request repeated too quickly" is logged),
    // and docker.socket fails with service-start-limit-hit, so nothing listens any more.
    let Some((booted, _)) = scenario("docker-start-limit", |s| s.active_state == "failed").await
    else {
        return;
    };
    booted
        .wait_unit("docker.socket", |s| s.active_state == "failed")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let facts = gather(system_bus(&booted.address())).await;
    assert_facts(
        &facts,
        &[
            ("systemd.docker_service_active_state", known("failed")),
            ("systemd.docker_service_result", known("exit-code")),
            ("systemd.docker_service_exit_status", known(1_i64)),
            ("systemd.docker_socket_active_state", known("failed")),
            ("systemd.docker_socket_sub_state", known("failed")),
            (
                "systemd.docker_socket_result",
                known("service-start-limit-hit"),
            ),
        ],
    );
    {
        use Status::*;
        // The socket failed because the daemon did (service-start-limit-hit): that is the
        // daemon's failure, not broken socket activation, whose fix would not help.
        assert_checks(&facts, &unit_checks([Pass, Fail, Fail, Pass, Pass]));
    }
    booted.shutdown();
}

#[tokio::test]
async fn daemon_stuck_activating_behind_a_listening_socket() {
    let Some((booted, facts)) =
        scenario("docker-activating", |s| s.active_state == "activating").await
    else {
        return;
    };
    assert_facts(
        &facts,
        &[
            ("systemd.docker_service_active_state", known("activating")),
            ("systemd.docker_service_sub_state", known("start")),
            ("systemd.docker_socket_active_state", known("active")),
        ],
    );
    {
        use Status::*;
        assert_checks(&facts, &unit_checks([Pass, Pass, Fail, Fail, Pass]));
    }
    booted.shutdown();
}

#[tokio::test]
async fn docker_not_installed_is_not_found() {
    let Some((booted, facts)) =
        scenario("docker-not-installed", |s| s.load_state == "not-found").await
    else {
        return;
    };
    let none = Fact::known(dockdoc::facts::Value::Null);
    assert_facts(
        &facts,
        &[
            ("systemd.system_bus", known(true)),
            ("systemd.docker_service_load_state", known("not-found")),
            ("systemd.docker_service_active_state", known("inactive")),
            ("systemd.docker_service_unit_file_state", none.clone()),
            ("systemd.docker_service_exec_start", none),
            ("systemd.docker_socket_load_state", known("not-found")),
            ("systemd.libvirt_daemon_active", known(false)),
            ("systemd.libvirt_units_loaded", known(false)),
        ],
    );
    {
        use Status::*;
        assert_checks(
            &facts,
            &unit_checks([
                NotApplicable,
                NotApplicable,
                NotApplicable,
                NotApplicable,
                NotApplicable,
            ]),
        );
    }
    booted.shutdown();
}

#[test]
fn daemon_and_libvirt_checks_explain_their_error_samples() {
    let catalog = load_builtin().catalog;
    let mut seen = 0;
    for check in catalog
        .checks
        .iter()
        .filter(|c| (c.area == "daemon" || c.area == "libvirt") && !c.explains.is_empty())
    {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/error-samples")
            .join(format!("{}.txt", check.id));
        let text = std::fs::read_to_string(&sample)
            .unwrap_or_else(|e| panic!("{}: {e}", sample.display()));
        assert!(
            check.explains.iter().any(|re| re.is_match(&text)),
            "{}: no explains pattern matches {}",
            check.id,
            sample.display()
        );
        seen += 1;
    }
    assert_eq!(seen, 15);
}
