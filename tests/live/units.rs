//! docker.service, docker.socket and the libvirt units in a real systemd (booted in a
//! namespace, read over its D-Bus), judged by the binary. The units' ExecStart is the stand-in
//! in tests/live/units/common/dockdoc-standin/dockerd except in `live-daemon-json`, which runs
//! the real dockerd; the unit states, results and exit statuses are systemd's own.

use std::path::Path;

use crate::common::prereq::Need;
use crate::harness::Booted;
use crate::support::{self, Run};

const UNIT_CHECKS: [&str; 5] = [
    "docker-service-inactive",
    "docker-service-failed",
    "docker-not-enabled",
    "docker-socket-without-service",
    "docker-socket-activation-broken",
];

async fn boot(scenario: &str) -> Option<Booted> {
    match Booted::boot(scenario).await {
        Ok(b) => {
            if let Some(b) = &b {
                crate::common::evidence::register_real(&b.address(), "real systemd");
            }
            b
        }
        Err(e) => panic!("{e}"),
    }
}

/// The unit checks' statuses in UNIT_CHECKS order.
fn expect_units(run: &Run, statuses: [&str; 5]) {
    let expected: Vec<_> = UNIT_CHECKS.into_iter().zip(statuses).collect();
    run.expect(&expected);
}

/// A socket path in the namespace, as the host sees it.
fn in_namespace(booted: &Booted, path: &str) -> String {
    format!("unix:///proc/{}/root{path}", booted.pid())
}

#[tokio::test]
async fn healthy_units_and_a_real_daemon_pass_the_docker_profile() {
    let Some(daemon) = support::private_dockerd(&Default::default()) else {
        return;
    };
    let Some(booted) = boot("live-healthy").await else {
        return;
    };
    for unit in ["docker.service", "libvirtd.service", "virtlogd.service"] {
        booted
            .wait_unit(unit, |s| s.active_state == "active")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    booted
        .wait_unit("docker.socket", |s| s.sub_state == "running")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::dockdoc(&booted.address(), &daemon.uri(), &[]);
    expect_units(&run, ["pass"; 5]);
    run.expect(&[
        ("docker-socket-missing", "pass"),
        ("docker-socket-permission-denied", "pass"),
        ("docker-daemon-unreachable", "pass"),
        ("libvirt-daemon-inactive", "pass"),
        ("virtlogd-inactive", "pass"),
    ]);
    let reachable = run.evidence("docker-daemon-unreachable", "docker.reachable");
    assert_eq!(reachable["value"], true, "{reachable}");
    let state = run.evidence(
        "docker-service-inactive",
        "systemd.docker_service_active_state",
    );
    assert_eq!(state["value"], "active", "{state}");
    booted.shutdown();
}

#[tokio::test]
async fn socket_activation_is_fine_and_a_first_connection_starts_the_service() {
    let Some(booted) = boot("docker-socket-only").await else {
        return;
    };
    booted
        .wait_unit("docker.socket", |s| s.sub_state == "listening")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let nowhere = format!("unix://{}/absent.sock", dir.path().display());
    let run = support::dockdoc(&booted.address(), &nowhere, &[]);
    expect_units(&run, ["pass"; 5]);
    let state = run.evidence(
        "docker-service-inactive",
        "systemd.docker_service_active_state",
    );
    assert_eq!(state["value"], "inactive", "{state}");
    // dockdoc only read the units: the service is still inactive.
    let service = booted.unit("docker.service").await.unwrap();
    assert_eq!(service.active_state, "inactive");
    // A client's first connection to the socket makes systemd start docker.service (the
    // stand-in exits at once unless systemd passed it the socket: LISTEN_FDS).
    let socket = format!("/proc/{}/root/run/docker.sock", booted.pid());
    let _client = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    booted
        .wait_unit("docker.service", |s| {
            s.active_state == "active" && s.sub_state == "running"
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::dockdoc(&booted.address(), &nowhere, &[]);
    expect_units(&run, ["pass"; 5]);
    booted.shutdown();
}

#[tokio::test]
async fn broken_daemon_json_fails_the_real_dockerd() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysroots/daemon-json-broken");
    // The file the real dockerd reads in the namespace is the one dockdoc reads under --root.
    assert_eq!(
        std::fs::read(crate::harness::units_dir().join("live-daemon-json/dockdoc-etc/daemon.json"))
            .unwrap(),
        std::fs::read(fixture.join("etc/docker/daemon.json")).unwrap()
    );
    // The unit runs the real dockerd (Debian's docker.io path).
    if !crate::common::prereq::ready(crate::dockerd::PRIVATE) {
        return;
    }
    let Some(booted) = boot("live-daemon-json").await else {
        return;
    };
    booted
        .wait_unit("docker.service", |s| s.active_state == "failed")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // docker.service's ExecStart names its file with --config-file, and dockdoc reads the
    // file the ExecStart names: in a copy of the fixture, the same bytes sit at that path.
    let root = tempfile::tempdir().unwrap();
    crate::common::copy_tree(&fixture, root.path());
    let named = root.path().join("etc/systemd/system/dockdoc-etc");
    std::fs::create_dir_all(&named).unwrap();
    std::fs::copy(
        fixture.join("etc/docker/daemon.json"),
        named.join("daemon.json"),
    )
    .unwrap();
    let mut cmd = crate::common::bin();
    // Not the namespace's docker.sock: a connection to it would make systemd start the
    // failed service again (socket activation), and the unit would read `active` for a moment.
    cmd.args(support::check_args(&booted.address(), support::NO_DOCKER))
        .arg("--root")
        .arg(root.path())
        .args([
            "--only",
            "docker-service-failed",
            "--only",
            "daemon-json-invalid",
        ]);
    let run = support::run(cmd);
    run.expect(&[
        ("docker-service-failed", "fail"),
        ("daemon-json-invalid", "fail"),
    ]);
    let failed = run.summary("docker-service-failed");
    assert!(
        failed.contains("docker.service is failed (result exit-code, exit status 1)"),
        "{failed}"
    );
    let invalid = run.summary("daemon-json-invalid");
    assert!(
        invalid.starts_with("/etc/systemd/system/dockdoc-etc/daemon.json is invalid"),
        "{invalid}"
    );
    assert!(invalid.contains("line 4"), "{invalid}");
    assert!(invalid.contains("column 1"), "{invalid}");
    booted.shutdown();
}

#[tokio::test]
async fn stopped_service_and_socket_are_inactive_and_missing() {
    // The namespace shares this machine's /usr: docker-socket-missing judges a machine with
    // Docker installed (without dockerd, docker-not-installed is the cause instead).
    if !crate::common::prereq::ready(&[Need::Program("dockerd")]) {
        return;
    }
    let Some(booted) = boot("live-stopped").await else {
        return;
    };
    booted
        .wait_unit("docker.service", |s| s.load_state == "loaded")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::dockdoc(
        &booted.address(),
        &in_namespace(&booted, "/run/docker.sock"),
        &[],
    );
    expect_units(&run, ["fail", "pass", "fail", "pass", "pass"]);
    run.expect(&[
        ("docker-socket-missing", "fail"),
        ("libvirt-daemon-inactive", "fail"),
        ("virtlogd-inactive", "fail"),
    ]);
    let summary = run.summary("docker-service-inactive");
    assert!(
        summary.contains("docker.service is inactive and docker.socket is inactive"),
        "{summary}"
    );
    booted.shutdown();
}

#[tokio::test]
async fn a_failed_service_behind_a_listening_socket() {
    let Some(booted) = boot("docker-failed").await else {
        return;
    };
    booted
        .wait_unit("docker.service", |s| s.active_state == "failed")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::dockdoc(&booted.address(), support::NO_DOCKER, &[]);
    expect_units(&run, ["pass", "fail", "fail", "fail", "pass"]);
    let summary = run.summary("docker-socket-without-service");
    assert!(
        summary.contains("docker.socket is listening but docker.service is failed"),
        "{summary}"
    );
    booted.shutdown();
}

#[tokio::test]
async fn fd_listener_without_a_socket_unit_is_activation_broken() {
    let Some(booted) = boot("live-no-socket-unit").await else {
        return;
    };
    booted
        .wait_unit("docker.service", |s| s.active_state == "failed")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::dockdoc(&booted.address(), support::NO_DOCKER, &[]);
    expect_units(&run, ["pass", "fail", "fail", "pass", "fail"]);
    let summary = run.summary("docker-socket-activation-broken");
    assert!(summary.contains("docker.socket is not-found"), "{summary}");
    // One cause, one fix: the failing service is listed under the missing socket unit.
    assert_eq!(
        run.check("docker-service-failed")["consequence_of"],
        "docker-socket-activation-broken"
    );
    booted.shutdown();
}

#[tokio::test]
async fn started_by_hand_but_never_enabled() {
    let Some(booted) = boot("live-not-enabled").await else {
        return;
    };
    booted
        .wait_unit("docker.service", |s| s.active_state == "active")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::dockdoc(&booted.address(), support::NO_DOCKER, &[]);
    expect_units(&run, ["pass", "pass", "fail", "pass", "pass"]);
    booted.shutdown();
}

#[tokio::test]
async fn virtqemud_socket_active_but_virtlogd_stopped() {
    let Some(booted) = boot("docker-active").await else {
        return;
    };
    booted
        .wait_unit("virtqemud.socket", |s| s.active_state == "active")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::dockdoc(&booted.address(), support::NO_DOCKER, &[]);
    run.expect(&[
        ("libvirt-daemon-inactive", "pass"),
        ("virtlogd-inactive", "fail"),
    ]);
    booted.shutdown();
}
