//! Every kind of daemon: the endpoint the CLI would use decides which checks judge it. Docker
//! Desktop's and a rootless daemon's sockets are real: a private dockerd listening on the path
//! Desktop or rootless Docker uses, found through a real `~/.docker/config.json` and context
//! `meta.json` (Docker Desktop itself cannot run here: it is a VM). Each run is the binary with
//! no `--docker-host`, resolving the endpoint as the docker CLI does.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::dockerd::Options;
use crate::support::{self, Run};

/// A home directory of its own, short enough for a socket path under it (108 bytes).
fn home() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("dh")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Writes `~/.docker/config.json` selecting `desktop-linux`, and that context's `meta.json` as
/// Docker Desktop for Linux writes it; returns the socket path it names.
fn desktop_context(home: &Path) -> PathBuf {
    let docker = home.join(".docker");
    let socket = docker.join("desktop/docker.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    std::fs::write(
        docker.join("config.json"),
        r#"{"auths": {}, "credsStore": "desktop", "currentContext": "desktop-linux"}"#,
    )
    .unwrap();
    let meta = Path::new(&dockdoc::facts::docker::endpoint::context_meta_path(
        docker.to_str().unwrap(),
        "desktop-linux",
    ))
    .to_owned();
    std::fs::create_dir_all(meta.parent().unwrap()).unwrap();
    std::fs::write(
        &meta,
        format!(
            r#"{{"Name":"desktop-linux","Metadata":{{"Description":"Docker Desktop"}},"Endpoints":{{"docker":{{"Host":"unix://{}","SkipTLSVerify":false}}}}}}"#,
            socket.display()
        ),
    )
    .unwrap();
    socket
}

/// The binary with `env` only (and PATH), against no system bus.
fn run(env: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut cmd = crate::common::bin();
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .args([
            "check",
            "--profile",
            "all",
            "--format",
            "json",
            "--system-bus",
            support::NO_BUS,
        ])
        .args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    support::run(cmd)
}

/// No failing check tells the user to fix the system daemon's units.
fn no_system_daemon_advice(run: &Run) {
    for c in run.json["checks"].as_array().unwrap() {
        if c["status"] != "fail" {
            continue;
        }
        for step in c["fix"].as_array().unwrap() {
            let command = step["command"].as_str().unwrap_or_default();
            let system_unit = command.contains("sudo")
                && (command.contains("systemctl") || command.contains("docker.service"));
            assert!(!system_unit, "{}: {command}", c["id"]);
        }
    }
}

#[test]
fn docker_desktop_context_without_desktop_running_is_the_cause() {
    let home = home();
    desktop_context(home.path());
    let h = home.path().to_str().unwrap();
    let run = run(&[("HOME", h)], &[]);
    run.expect(&[
        ("docker-desktop-context", "fail"),
        ("docker-socket-missing", "not_applicable"),
        ("docker-service-inactive", "not_applicable"),
        ("docker-not-installed", "not_applicable"),
        ("ip-forwarding-disabled", "not_applicable"),
    ]);
    let kind = run.evidence("docker-socket-missing", "docker.endpoint_kind");
    assert_eq!(kind["value"], "desktop", "{kind}");
    no_system_daemon_advice(&run);
}

#[test]
fn docker_desktop_running_for_a_user_outside_the_docker_group() {
    let home = home();
    let socket = desktop_context(home.path());
    crate::access::ensure_user();
    let user = crate::access::USER;
    // Docker Desktop's socket belongs to the user who runs it; this dockerd gives it the user's
    // own group (the user is in no docker group).
    let Some(_daemon) = support::private_dockerd(&Options {
        socket: Some(socket),
        group: Some(user.to_owned()),
        ..Options::default()
    }) else {
        return;
    };
    let status = Command::new("chown")
        .args(["-R", &format!("{user}:{user}")])
        .arg(home.path().join(".docker/config.json"))
        .arg(home.path().join(".docker/contexts"))
        .status()
        .unwrap();
    assert!(status.success());
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid", user, "--regid", user, "--init-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_dockdoc"))
        .args(["check", "--profile", "all", "--format", "json"])
        .args(["--system-bus", support::NO_BUS])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home.path())
        .env("USER", user)
        .env("XDG_CONFIG_HOME", "/nonexistent");
    let run = support::run(cmd);
    run.expect(&[
        ("docker-desktop-context", "fail"),
        // Its fix is the docker group and docker.socket's owner: the system daemon's.
        ("docker-socket-permission-denied", "not_applicable"),
        ("docker-daemon-unreachable", "pass"),
        ("user-not-in-docker-group", "not_applicable"),
        ("docker-daemon-stale", "not_applicable"),
        ("ip-forwarding-disabled", "not_applicable"),
        ("docker0-bridge-missing", "not_applicable"),
    ]);
    let reachable = run.evidence("docker-daemon-unreachable", "docker.reachable");
    assert_eq!(reachable["value"], true, "{reachable}");
    no_system_daemon_advice(&run);
}

#[test]
fn rootless_docker_host_from_a_session_without_a_runtime_dir() {
    use crate::common::prereq::{Need, ready};
    // This machine's own files are judged: it must have Docker installed, as a rootless user's
    // machine has (without dockerd, docker-not-installed is the cause, and its fix is the system
    // daemon's); the CLI's own words are pasted below.
    if !ready(&[Need::Program("dockerd"), Need::Program("docker")]) {
        return;
    }
    let home = home();
    let h = home.path().to_str().unwrap();
    let host = format!("unix://{h}/.docker/run/docker.sock");
    let run = run(&[("HOME", h), ("DOCKER_HOST", &host)], &[]);
    run.expect(&[
        ("rootless-daemon-not-running", "fail"),
        ("docker-host-overrides-context", "pass"),
        ("docker-socket-missing", "not_applicable"),
        ("docker-service-inactive", "not_applicable"),
    ]);
    let summary = run.summary("rootless-daemon-not-running");
    assert!(summary.contains("XDG_RUNTIME_DIR is unset"), "{summary}");
    no_system_daemon_advice(&run);
    // The docker CLI's own words in that shell, pasted into explain there: the rootless daemon.
    let (said, doc) = docker_ps_explained(h, &host);
    assert!(said.contains("/.docker/run/docker.sock"), "{said}");
    assert_eq!(
        doc["verdict"]["id"], "rootless-daemon-not-running",
        "{said}\n{doc:#}"
    );
}

/// What `docker ps` says on standard error with only HOME and DOCKER_HOST set, and what
/// `dockdoc explain` makes of it in the same environment.
fn docker_ps_explained(home: &str, host: &str) -> (String, serde_json::Value) {
    let cli = Command::new("docker")
        .args(["ps"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("DOCKER_HOST", host)
        .output();
    let Ok(cli) = cli else {
        panic!("docker ps: {}", cli.unwrap_err());
    };
    let said = String::from_utf8_lossy(&cli.stderr).into_owned();
    let mut explain = crate::common::bin();
    explain
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("HOME", home)
        .env("DOCKER_HOST", host);
    let doc = crate::common::explain_json(explain, &["--system-bus", support::NO_BUS], &said);
    (said, doc)
}

#[tokio::test]
async fn a_rootless_daemon_that_answers_while_the_system_units_are_off() {
    let runtime = home();
    let socket = runtime.path().join("docker.sock");
    let Some(_daemon) = support::private_dockerd(&Options {
        socket: Some(socket.clone()),
        ..Options::default()
    }) else {
        return;
    };
    let Some(booted) = crate::harness::Booted::boot("live-stopped")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    else {
        return;
    };
    booted
        .wait_unit("docker.service", |s| s.load_state == "loaded")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let xdg = runtime.path().to_str().unwrap();
    let host = format!("unix://{}", socket.display());
    let mut cmd = crate::common::bin();
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("HOME", "/nonexistent")
        .env("XDG_RUNTIME_DIR", xdg)
        .env("DOCKER_HOST", &host)
        .args(["check", "--profile", "docker", "--format", "json"])
        .args(["--system-bus", &booted.address()]);
    let run = support::run(cmd);
    run.expect(&[
        ("rootless-daemon-not-running", "pass"),
        ("docker-service-inactive", "not_applicable"),
        ("docker-not-enabled", "not_applicable"),
        ("docker-socket-missing", "not_applicable"),
        ("docker-daemon-unreachable", "pass"),
    ]);
    for c in run.json["checks"].as_array().unwrap() {
        if c["area"] == "daemon" || c["area"] == "access" {
            assert!(
                c["status"] != "fail" || c["severity"] == "info",
                "{}: {}",
                c["id"],
                c["summary"]
            );
        }
    }
    booted.shutdown();
}

/// DOCKER_HOST=tcp://… to a daemon that answers is a choice, not an override to undo, even
/// with the system daemon's socket there; the system daemon's package is not compared with it.
#[test]
fn a_remote_docker_host_that_answers_is_a_choice() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let Some(_daemon) = support::private_dockerd(&Options {
        tcp: Some(addr.clone()),
        ..Options::default()
    }) else {
        return;
    };
    // A mounted Arch root whose system socket exists (a real socket, bound here).
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    crate::common::copy_tree(&crate::common::sysroot("healthy-docker-host"), &root);
    crate::common::make_socket(&root.join("run/docker.sock"));
    let host = format!("tcp://{addr}");
    let r = root.to_str().unwrap();
    let run = run(
        &[("HOME", "/home/alice"), ("DOCKER_HOST", &host)],
        &["--root", r, "--docker-host", &host],
    );
    run.expect(&[
        ("docker-host-overrides-context", "pass"),
        ("docker-daemon-stale", "not_applicable"),
        ("docker-daemon-unreachable", "pass"),
    ]);
    let kind = run.evidence("docker-daemon-unreachable", "docker.reachable");
    assert_eq!(kind["value"], true, "{kind}");
}

/// An old tutorial's `export DOCKER_HOST=tcp://…` in ~/.bashrc, naming a loopback port where
/// nothing listens: the cause is that line, named by file and line, and
/// docker-daemon-unreachable is listed under it. The docker CLI's own words in that shell,
/// pasted into explain, lead to the same check.
#[test]
fn a_docker_host_where_nothing_answers_is_named_by_its_line() {
    // A port bound and released at once: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("tcp://127.0.0.1:{port}");
    crate::common::evidence::register_real(&host, "closed loopback port");
    let home = home();
    let h = home.path().to_str().unwrap();
    std::fs::write(
        home.path().join(".bashrc"),
        format!("alias ll='ls -l'\nexport DOCKER_HOST={host}\n"),
    )
    .unwrap();
    let run = run(&[("HOME", h), ("DOCKER_HOST", &host)], &[]);
    run.expect(&[
        ("docker-host-unreachable", "fail"),
        ("docker-daemon-unreachable", "fail"),
        ("docker-socket-missing", "not_applicable"),
    ]);
    assert_eq!(
        run.check("docker-daemon-unreachable")["consequence_of"],
        "docker-host-unreachable"
    );
    let summary = run.summary("docker-host-unreachable");
    assert!(
        summary.contains(&format!("DOCKER_HOST, set at {h}/.bashrc:2")),
        "{summary}"
    );
    // The cause's fix is the line and the context; the restart docker-daemon-unreachable
    // advises is listed under it, never offered as the fix.
    let fix = run.check("docker-host-unreachable")["fix"].to_string();
    assert!(!fix.contains("systemctl"), "{fix}");
    assert!(fix.contains("docker context use default"), "{fix}");

    use crate::common::prereq::{Need, ready};
    if !ready(&[Need::Program("docker")]) {
        return;
    }
    let (said, doc) = docker_ps_explained(h, &host);
    assert!(said.contains(&host), "{said}");
    assert_eq!(
        doc["verdict"]["id"], "docker-host-unreachable",
        "{said}\n{doc:#}"
    );
}

/// DOCKER_HOST naming a daemon of its own on a unix socket that answers (here a private
/// dockerd on a temp socket) is a choice and passes.
#[test]
fn a_docker_host_that_answers_passes() {
    let Some(daemon) = support::private_dockerd(&Options::default()) else {
        return;
    };
    let home = home();
    let h = home.path().to_str().unwrap();
    let host = daemon.uri();
    std::fs::create_dir_all(home.path().join(".config/environment.d")).unwrap();
    std::fs::write(
        home.path().join(".config/environment.d/docker.conf"),
        format!("DOCKER_HOST={host}\n"),
    )
    .unwrap();
    let run = run(&[("HOME", h), ("DOCKER_HOST", &host)], &[]);
    run.expect(&[
        ("docker-host-unreachable", "pass"),
        ("docker-daemon-unreachable", "pass"),
    ]);
    let reachable = run.evidence("docker-host-unreachable", "docker.reachable");
    assert_eq!(reachable["value"], true, "{reachable}");
}

/// A directory where the socket belongs, as a `-v /var/run/docker.sock:…` bind mount leaves it:
/// the real dockerd cannot listen there, dockdoc names the directory as the cause of the missing
/// socket, and dockerd's own last words, pasted into explain, lead to the same check.
#[test]
fn a_directory_at_the_socket_path_stops_the_real_dockerd() {
    if !crate::common::prereq::ready(crate::dockerd::PRIVATE) {
        return;
    }
    let home = home();
    let h = home.path().to_str().unwrap();
    let socket = home.path().join("docker.sock");
    std::fs::create_dir(&socket).unwrap();
    let started = crate::dockerd::PrivateDockerd::start_with(
        std::time::Duration::from_secs(60),
        &Options {
            socket: Some(socket.clone()),
            ..Options::default()
        },
    );
    let Err(said) = started else {
        panic!("dockerd listened on a directory");
    };
    let line = said
        .lines()
        .rev()
        .find(|l| l.contains("is a directory"))
        .unwrap_or_else(|| panic!("{said}"))
        .to_owned();
    let host = format!("unix://{}", socket.display());
    let run = run(&[("HOME", h), ("DOCKER_HOST", &host)], &[]);
    run.expect(&[
        ("docker-socket-not-a-socket", "fail"),
        ("docker-socket-missing", "fail"),
    ]);
    assert_eq!(
        run.check("docker-socket-missing")["consequence_of"],
        "docker-socket-not-a-socket"
    );
    let mut explain = crate::common::bin();
    explain
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("HOME", h)
        .env("DOCKER_HOST", &host);
    let doc = crate::common::explain_json(explain, &["--system-bus", support::NO_BUS], &line);
    assert_eq!(
        doc["verdict"]["id"], "docker-socket-not-a-socket",
        "{line}\n{doc:#}"
    );
    eprintln!("dockerd said: {line}");
}
