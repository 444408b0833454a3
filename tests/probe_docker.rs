//! Docker facts from fixture sysroots, fake sockets that misbehave, and a real private dockerd.
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

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dockdoc::facts::docker::{self, endpoint};
use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Questions, Sysroot, Value};

fn fixture(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sysroots")
        .join(scenario)
}

fn ctx_at(root: &Path, endpoints: Endpoints, env: &[(&str, &str)]) -> Context {
    Context::new(
        Sysroot::new(root),
        endpoints,
        Env::from_pairs(env.iter().copied()),
        Duration::from_secs(3),
    )
}

const ALICE: &[(&str, &str)] = &[("HOME", "/home/alice")];

fn files(ctx: &Context) -> Facts {
    let mut facts = Facts::default();
    docker::gather_files(ctx, &mut facts);
    facts
}

/// The daemon.json facts as a run gathers them: after the pacman facts (the version) and with
/// docker.service's ExecStart as given (`None`: no systemd, as in a fixture without units).
fn daemon_json_with(ctx: &Context, exec_start: Option<&str>) -> Facts {
    let mut facts = Facts::default();
    dockdoc::facts::pacman::gather(ctx, &mut facts);
    if let Some(line) = exec_start {
        facts.set("os.systemd_booted", Fact::known(true));
        facts.set("systemd.docker_service_exec_start", Fact::known(line));
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(docker::gather_daemon_json(ctx, &mut facts));
    facts
}

fn daemon_json(ctx: &Context) -> Facts {
    daemon_json_with(ctx, None)
}

fn list(items: &[&str]) -> Fact {
    Fact::known(items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
}

fn null() -> Fact {
    Fact::known(Value::Null)
}

fn explicit(uri: &str) -> Endpoints {
    Endpoints {
        docker_host: Some(uri.to_owned()),
        ..Endpoints::default()
    }
}

fn write(root: &Path, inside: &str, text: &str) {
    let path = root.join(inside.trim_start_matches('/'));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn write_context(root: &Path, name: &str, host: &str) {
    let dir = format!(
        "/home/alice/.docker/contexts/meta/{}",
        endpoint::context_dir_name(name)
    );
    write(
        root,
        &format!("{dir}/meta.json"),
        &format!(
            r#"{{"Name":"{name}","Metadata":{{"Description":"test"}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
        ),
    );
}

// ---- daemon.json and binaries ------------------------------------------------------------

#[test]
fn healthy_host_files() {
    let ctx = ctx_at(&fixture("healthy-docker-host"), Endpoints::default(), ALICE);
    let f = files(&ctx);
    assert_eq!(f.get("docker.binary_installed"), Fact::known(true));
    assert_eq!(f.get("docker.cli_installed"), Fact::known(true));
    let f = daemon_json(&ctx);
    assert_eq!(
        f.get("docker.daemon_json_path"),
        Fact::known("/etc/docker/daemon.json")
    );
    // Under --root dockerd is never run: the key table and pacman's docker 27.3.1 judge.
    assert_eq!(
        f.get("docker.daemon_json_checked_by"),
        Fact::known("dockdoc's key table (moby v28.5.2)")
    );
    assert_eq!(f.get("docker.daemon_json_exists"), Fact::known(true));
    assert_eq!(f.get("docker.daemon_json_error"), null());
    assert_eq!(f.get("docker.daemon_json_keys"), list(&["log-driver"]));
    assert_eq!(f.get("docker.daemon_json_hosts"), list(&[]));
    assert_eq!(f.get("docker.daemon_json_tlsverify"), Fact::known(false));
}

#[test]
fn broken_daemon_json_names_line_and_column() {
    let f = daemon_json(&ctx_at(
        &fixture("daemon-json-broken"),
        Endpoints::default(),
        ALICE,
    ));
    assert_eq!(f.get("docker.daemon_json_exists"), Fact::known(true));
    assert_eq!(
        f.get("docker.daemon_json_error"),
        Fact::known("line 4 column 1: trailing comma")
    );
    assert_eq!(
        f.get("docker.daemon_json_keys"),
        Fact::unknown(
            "/etc/docker/daemon.json: the keys cannot be read from a file that does not parse"
        )
    );
    assert!(matches!(
        f.get("docker.daemon_json_hosts"),
        Fact::Unknown { .. }
    ));
}

#[test]
fn missing_daemon_json_and_binaries() {
    let ctx = ctx_at(&fixture("non-arch-host"), Endpoints::default(), ALICE);
    let f = files(&ctx);
    assert_eq!(f.get("docker.binary_installed"), Fact::known(false));
    assert_eq!(f.get("docker.cli_installed"), Fact::known(false));
    let f = daemon_json(&ctx);
    assert_eq!(f.get("docker.daemon_json_exists"), Fact::known(false));
    assert_eq!(f.get("docker.daemon_json_error"), null());
    assert_eq!(f.get("docker.daemon_json_keys"), list(&[]));
}

#[test]
fn every_arch_scenario_has_docker_installed_and_a_valid_or_absent_daemon_json() {
    for entry in std::fs::read_dir(fixture("")).unwrap() {
        let root = entry.unwrap().path();
        let name = root.file_name().unwrap().to_string_lossy().into_owned();
        let ctx = ctx_at(&root, Endpoints::default(), ALICE);
        let f = files(&ctx);
        let arch = name != "non-arch-host";
        assert_eq!(
            f.get("docker.binary_installed"),
            Fact::known(arch),
            "{name}"
        );
        let want_error = match name.as_str() {
            "daemon-json-broken" => Fact::known("line 4 column 1: trailing comma"),
            "daemon-json-unknown-key" => Fact::known(
                "the following directives don't match any configuration option: log-levle",
            ),
            _ => null(),
        };
        let f = daemon_json(&ctx);
        assert_eq!(f.get("docker.daemon_json_error"), want_error, "{name}");
    }
}

#[test]
fn empty_and_mistyped_daemon_json() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/etc/docker/daemon.json", "\n");
    // No pacman database: whether an empty file is accepted depends on the unknown version.
    let f = daemon_json(&ctx_at(dir.path(), Endpoints::default(), ALICE));
    let Fact::Unknown { reason } = f.get("docker.daemon_json_error") else {
        panic!("{f:#?}")
    };
    assert!(
        reason.starts_with("/etc/docker/daemon.json: the file is empty, which dockerd accepts from 23.0 on, and the installed dockerd's version is unknown: "),
        "{reason}"
    );
    // Arch's docker 27 (the fixture's pacman database) takes an empty file and a BOM.
    let arch = tempfile::tempdir().unwrap();
    common::copy_tree(&fixture("healthy-docker-host"), arch.path());
    for text in ["\n", "\u{feff}{\"debug\": true}"] {
        write(arch.path(), "/etc/docker/daemon.json", text);
        let f = daemon_json(&ctx_at(arch.path(), Endpoints::default(), ALICE));
        assert_eq!(f.get("docker.daemon_json_error"), null(), "{text:?}");
    }
    write(arch.path(), "/etc/docker/daemon.json", "{\"foo\": 1}");
    let f = daemon_json(&ctx_at(arch.path(), Endpoints::default(), ALICE));
    assert_eq!(
        f.get("docker.daemon_json_error"),
        Fact::known("the following directives don't match any configuration option: foo")
    );
    write(
        dir.path(),
        "/etc/docker/daemon.json",
        r#"{"hosts": ["unix:///run/docker.sock", "tcp://0.0.0.0:2375"], "iptables": "false"}"#,
    );
    let f = daemon_json(&ctx_at(dir.path(), Endpoints::default(), ALICE));
    assert_eq!(
        f.get("docker.daemon_json_error"),
        Fact::known("`iptables` must be a boolean (true or false), found a string")
    );
    assert_eq!(
        f.get("docker.daemon_json_hosts"),
        list(&["unix:///run/docker.sock", "tcp://0.0.0.0:2375"])
    );
}

// ---- endpoint resolution -------------------------------------------------------------------

#[test]
fn default_endpoint() {
    let f = files(&ctx_at(
        &fixture("healthy-docker-host"),
        Endpoints::default(),
        ALICE,
    ));
    assert_eq!(
        f.get("docker.endpoint"),
        Fact::known("unix:///run/docker.sock")
    );
    assert_eq!(f.get("docker.endpoint_source"), Fact::known("default"));
    // config.json says currentContext "default", which is the default context.
    assert_eq!(f.get("docker.context"), null());
    assert_eq!(f.get("docker.host_env"), null());
    assert_eq!(f.get("docker.mode"), Fact::known("rootful"));
    assert_eq!(f.get("docker.socket_path"), Fact::known("/run/docker.sock"));
    assert_eq!(f.get("docker.socket_exists"), Fact::known(false));
    assert_eq!(f.get("docker.socket_group"), null());
    assert_eq!(f.get("docker.socket_mode"), null());
    assert_eq!(f.get("docker.desktop_context"), Fact::known(false));
    assert_eq!(f.get("docker.host_overrides_context"), Fact::known(false));
    assert_eq!(
        f.get("docker.rootless_socket_exists"),
        Fact::unknown("XDG_RUNTIME_DIR is not set and the user's uid is unknown")
    );
}

#[test]
fn flag_wins_over_everything() {
    let ctx = ctx_at(
        &fixture("healthy-docker-host"),
        explicit("tcp://10.1.2.3:2375"),
        &[
            ("HOME", "/home/alice"),
            ("DOCKER_HOST", "unix:///run/user/1000/docker.sock"),
            ("DOCKER_CONTEXT", "rootless"),
        ],
    );
    let f = files(&ctx);
    assert_eq!(f.get("docker.endpoint"), Fact::known("tcp://10.1.2.3:2375"));
    assert_eq!(
        f.get("docker.endpoint_source"),
        Fact::known("--docker-host")
    );
    assert_eq!(f.get("docker.mode"), Fact::known("remote"));
    assert_eq!(f.get("docker.socket_path"), null());
    assert_eq!(f.get("docker.socket_exists"), null());
    assert_eq!(
        f.get("docker.host_env"),
        Fact::known("unix:///run/user/1000/docker.sock")
    );
}

#[test]
fn docker_host_env_leftover_rootless_socket() {
    // The system daemon's socket is there (a real socket bound in a copy of the fixture), and
    // DOCKER_HOST sends the CLI to a rootless socket that is not: an override to undo.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    common::copy_tree(&fixture("healthy-docker-host"), &root);
    let env = [
        ("HOME", "/home/alice"),
        ("XDG_RUNTIME_DIR", "/run/user/1000"),
        ("DOCKER_HOST", "unix:///run/user/1000/docker.sock"),
    ];
    let without_system_daemon = files(&ctx_at(&root, Endpoints::default(), &env));
    // No daemon at the default socket either: nothing is hidden, the rootless daemon is missing.
    assert_eq!(
        without_system_daemon.get("docker.host_overrides_context"),
        Fact::known(false)
    );
    common::make_socket(&root.join("run/docker.sock"));
    let ctx = ctx_at(&root, Endpoints::default(), &env);
    let f = files(&ctx);
    assert_eq!(f.get("docker.endpoint_kind"), Fact::known("rootless"));
    assert_eq!(f.get("docker.endpoint_source"), Fact::known("DOCKER_HOST"));
    assert_eq!(
        f.get("docker.endpoint"),
        Fact::known("unix:///run/user/1000/docker.sock")
    );
    assert_eq!(f.get("docker.mode"), Fact::known("rootless"));
    assert_eq!(f.get("docker.rootless_socket_exists"), Fact::known(false));
    assert_eq!(f.get("docker.host_overrides_context"), Fact::known(true));
}

#[test]
fn context_from_config_json_and_meta_json() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/home/alice/.docker/config.json",
        r#"{"auths": {}, "currentContext": "desktop-linux"}"#,
    );
    write_context(
        root,
        "desktop-linux",
        "unix:///home/alice/.docker/desktop/docker.sock",
    );
    let f = files(&ctx_at(root, Endpoints::default(), ALICE));
    assert_eq!(
        f.get("docker.endpoint"),
        Fact::known("unix:///home/alice/.docker/desktop/docker.sock")
    );
    assert_eq!(
        f.get("docker.endpoint_source"),
        Fact::known("context desktop-linux")
    );
    assert_eq!(f.get("docker.context"), Fact::known("desktop-linux"));
    assert_eq!(f.get("docker.desktop_context"), Fact::known(true));
    assert_eq!(f.get("docker.mode"), Fact::known("rootful"));

    // DOCKER_CONTEXT beats config.json.
    write_context(root, "rootless", "unix:///run/user/1000/docker.sock");
    let f = files(&ctx_at(
        root,
        Endpoints::default(),
        &[("HOME", "/home/alice"), ("DOCKER_CONTEXT", "rootless")],
    ));
    assert_eq!(
        f.get("docker.endpoint"),
        Fact::known("unix:///run/user/1000/docker.sock")
    );
    assert_eq!(
        f.get("docker.endpoint_source"),
        Fact::known("context rootless")
    );
    assert_eq!(f.get("docker.mode"), Fact::known("rootless"));
    assert_eq!(f.get("docker.desktop_context"), Fact::known(false));

    // DOCKER_CONFIG moves the whole directory.
    let f = files(&ctx_at(
        root,
        Endpoints::default(),
        &[
            ("HOME", "/nowhere"),
            ("DOCKER_CONFIG", "/home/alice/.docker"),
        ],
    ));
    assert_eq!(f.get("docker.context"), Fact::known("desktop-linux"));

    // A context without metadata: the endpoint is unknown, naming the file.
    let f = files(&ctx_at(
        root,
        Endpoints::default(),
        &[("HOME", "/home/alice"), ("DOCKER_CONTEXT", "nope")],
    ));
    let want = format!(
        "{}: context \"nope\" does not exist (the CLI fails with `context \"nope\": context not found`)",
        endpoint::context_meta_path("/home/alice/.docker", "nope")
    );
    assert_eq!(f.get("docker.endpoint"), Fact::unknown(want.clone()));
    assert_eq!(f.get("docker.mode"), Fact::unknown(want));
}

#[test]
fn docker_host_hides_a_running_context_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "/run/docker.sock", "");
    write(root, "/srv/other.sock", "");
    let env = [
        ("HOME", "/home/alice"),
        ("DOCKER_HOST", "unix:///srv/other.sock"),
    ];
    let f = files(&ctx_at(root, Endpoints::default(), &env));
    assert_eq!(f.get("docker.endpoint_source"), Fact::known("DOCKER_HOST"));
    assert_eq!(f.get("docker.host_overrides_context"), Fact::known(true));
    // The same socket written differently is not an override.
    let env = [
        ("HOME", "/home/alice"),
        ("DOCKER_HOST", "unix:///var/run/docker.sock"),
    ];
    std::fs::create_dir_all(root.join("var")).unwrap();
    std::os::unix::fs::symlink("../run", root.join("var/run")).unwrap();
    let f = files(&ctx_at(root, Endpoints::default(), &env));
    assert_eq!(f.get("docker.host_overrides_context"), Fact::known(false));
}

/// A remote DOCKER_HOST next to a local daemon's socket is a choice, not a leftover to unset,
/// whether or not dockdoc can probe it (it does not speak ssh).
#[test]
fn a_remote_docker_host_next_to_a_local_socket_is_a_choice() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "/run/docker.sock", "");
    for host in ["ssh://alice@build", "tcp://10.1.2.3:2376"] {
        let env = [("HOME", "/home/alice"), ("DOCKER_HOST", host)];
        let f = files(&ctx_at(root, Endpoints::default(), &env));
        assert_eq!(
            f.get("docker.endpoint_kind"),
            Fact::known("remote"),
            "{host}"
        );
        assert_eq!(
            f.get("docker.host_overrides_context"),
            Fact::known(false),
            "{host}"
        );
    }
}

#[test]
fn socket_owner_and_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let gid = nix::unistd::Gid::effective().as_raw();
    write(
        root,
        "/etc/group",
        &format!("root:x:0:\nsockgroup:x:{gid}:alice\n"),
    );
    std::fs::create_dir_all(root.join("run")).unwrap();
    let path = root.join("run/docker.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660)).unwrap();
    let f = files(&ctx_at(root, Endpoints::default(), ALICE));
    assert_eq!(f.get("docker.socket_exists"), Fact::known(true));
    let want_group = if gid == 0 { "root" } else { "sockgroup" };
    assert_eq!(f.get("docker.socket_group"), Fact::known(want_group));
    assert_eq!(f.get("docker.socket_mode"), Fact::known("0660"));
}

// ---- live: contact rules and fake sockets ---------------------------------------------------

const LIVE_KEYS: &[&str] = &[
    "docker.connect_error",
    "docker.reachable",
    "docker.unreachable_reason",
    "docker.server_version",
    "docker.api_version",
    "docker.storage_driver",
    "docker.data_root",
    "docker.operating_system",
    "docker.kernel_version",
    "docker.runtimes",
    "docker.registry_mirrors",
    "docker.osx_stopped_containers",
    "docker.osx_containers",
    "docker.min_api_version",
    "docker.published_host_ports",
    "docker.running_containers",
    "docker.live_restore",
];

#[tokio::test]
async fn under_root_without_docker_host_nothing_is_contacted() {
    let root = fixture("healthy-docker-host");
    let ctx = ctx_at(&root, Endpoints::default(), ALICE);
    let f = docker::gather(&ctx).await;
    let want = Fact::skipped(
        "the Docker daemon is not contacted when reading another root (--root); pass --docker-host to use one",
    );
    for key in LIVE_KEYS {
        assert_eq!(f.get(key), want, "{key}");
    }
    assert_eq!(f.facts.len(), LIVE_KEYS.len());
}

fn short(ctx: Context) -> Context {
    Context {
        timeout: Duration::from_millis(600),
        ..ctx
    }
}

/// Asks for the container list, and for no other optional question.
const LIST: Questions = Questions {
    containers: true,
    min_api_version: false,
    libvirt_units: false,
    unit_details: false,
};

/// Probes the daemon at `uri`, asking for the container list.
async fn probe(uri: &str) -> (Facts, Duration) {
    probe_asking(uri, LIST).await
}

async fn probe_asking(uri: &str, asks: Questions) -> (Facts, Duration) {
    let ctx = short(ctx_at(
        &fixture("healthy-docker-host"),
        explicit(uri),
        ALICE,
    ))
    .asking(asks);
    let started = Instant::now();
    let f = docker::gather(&ctx).await;
    (f, started.elapsed())
}

fn assert_unreachable(f: &Facts, connect_error: &str, reason_prefix: &str) {
    assert_eq!(f.get("docker.reachable"), Fact::known(false));
    assert_eq!(f.get("docker.connect_error"), Fact::known(connect_error));
    let reason = f
        .text("docker.unreachable_reason")
        .unwrap_or_default()
        .to_owned();
    assert!(reason.starts_with(reason_prefix), "{reason}");
    for key in ["docker.server_version", "docker.storage_driver"] {
        assert!(matches!(f.get(key), Fact::Unknown { .. }), "{key}");
    }
}

/// Reads a request's head, up to its blank line; `None` when the client goes away first.
async fn read_head(stream: &mut tokio::net::UnixStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// A unix socket server that answers every request with `answer` (or never answers).
fn fake_daemon(dir: &Path, answer: Option<&'static str>) -> String {
    use tokio::io::AsyncWriteExt;
    let path = dir.join("fake.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            match answer {
                None => held.push(stream),
                Some(answer) => {
                    tokio::spawn(async move {
                        if read_head(&mut stream).await.is_none() {
                            return;
                        }
                        let _ = stream.write_all(answer.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    });
                }
            }
        }
    });
    format!("unix://{}", path.display())
}

#[tokio::test]
async fn fake_socket_that_never_answers() {
    let dir = tempfile::tempdir().unwrap();
    let uri = fake_daemon(dir.path(), None);
    let (f, took) = probe(&uri).await;
    assert_unreachable(&f, "none", "GET /info: no answer within 5");
    assert!(took < Duration::from_millis(600), "{took:?}");
}

#[tokio::test]
async fn fake_socket_that_answers_500() {
    let dir = tempfile::tempdir().unwrap();
    let uri = fake_daemon(
        dir.path(),
        Some(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 18\r\nConnection: close\r\n\r\n{\"message\":\"boom\"}",
        ),
    );
    let (f, _) = probe(&uri).await;
    assert_unreachable(&f, "none", "GET /info: HTTP 500: boom");
    assert_eq!(
        f.get("docker.unreachable_reason"),
        Fact::known("GET /info: HTTP 500: boom")
    );
}

#[tokio::test]
async fn fake_socket_that_sends_garbage_json() {
    let dir = tempfile::tempdir().unwrap();
    let uri = fake_daemon(
        dir.path(),
        Some(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"Version\":",
        ),
    );
    let (f, _) = probe(&uri).await;
    assert_unreachable(&f, "none", "GET /info: the answer is not valid JSON");
}

/// An answer of a scripted daemon: status line, extra header lines, body.
type Script = fn(&str) -> (&'static str, &'static str, String);

/// A unix socket server that answers each request as `script` says for its target, and logs
/// the targets in the order they came.
fn scripted_daemon(
    dir: &Path,
    script: Script,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::AsyncWriteExt;
    let path = dir.join("scripted.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut stream).await else {
                    return;
                };
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                log.lock().unwrap().push(target.clone());
                let (status, headers, body) = script(&target);
                let answer = format!(
                    "HTTP/1.1 {status}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("unix://{}", path.display()), seen)
}

/// A daemon of the API 1.24 era: no Api-Version in its answers; it serves the unversioned paths.
fn docker_1_12(target: &str) -> (&'static str, &'static str, String) {
    match target {
        "/_ping" => ("200 OK", "", "OK".into()),
        "/info" => (
            "200 OK",
            "",
            r#"{"Driver":"overlay2","DockerRootDir":"/var/lib/docker","ServerVersion":"1.12.6"}"#
                .into(),
        ),
        "/containers/json?all=true" => ("200 OK", "", "[]".into()),
        _ => (
            "404 Not Found",
            "",
            r#"{"message":"page not found"}"#.into(),
        ),
    }
}

/// A daemon that no longer serves the unversioned paths: only API 1.60's. Only its ping names
/// the version, which is what is left to go by.
fn docker_without_unversioned_paths(target: &str) -> (&'static str, &'static str, String) {
    match target {
        "/_ping" => (
            "200 OK",
            "Api-Version: 1.60\r\nServer: Docker/40.0.1 (linux)\r\n",
            "OK".into(),
        ),
        "/v1.60/info" => (
            "200 OK",
            "",
            r#"{"Driver":"overlayfs","DockerRootDir":"/var/lib/docker","ServerVersion":"40.0.1"}"#
                .into(),
        ),
        "/v1.60/containers/json?all=true" => ("200 OK", "", "[]".into()),
        _ => (
            "404 Not Found",
            "",
            r#"{"message":"page not found"}"#.into(),
        ),
    }
}

#[tokio::test]
async fn the_first_questions_use_the_unversioned_paths_every_daemon_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (uri, seen) = scripted_daemon(dir.path(), docker_1_12);
    let (f, _) = probe(&uri).await;
    assert_eq!(f.get("docker.reachable"), Fact::known(true), "{f:#?}");
    assert_eq!(f.get("docker.server_version"), Fact::known("1.12.6"));
    assert_eq!(f.get("docker.api_version"), null());
    assert_eq!(f.get("docker.storage_driver"), Fact::known("overlay2"));
    assert_eq!(f.get("docker.osx_stopped_containers"), list(&[]));
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, ["/containers/json?all=true", "/info"]);
}

#[tokio::test]
async fn the_container_list_is_asked_only_when_a_selected_check_reads_it() {
    let questions = common::profile_questions;
    let (docker, osx) = (questions("docker"), questions("docker-osx"));
    assert!(!docker.containers && osx.containers, "{docker:?} {osx:?}");
    assert!(questions("rootless").containers);
    let dir = tempfile::tempdir().unwrap();
    let (uri, seen) = scripted_daemon(dir.path(), docker_1_12);
    let (f, _) = probe_asking(&uri, docker).await;
    assert_eq!(f.get("docker.reachable"), Fact::known(true), "{f:#?}");
    for key in [
        "docker.running_containers",
        "docker.osx_containers",
        "docker.osx_stopped_containers",
        "docker.published_host_ports",
    ] {
        assert_eq!(
            f.get(key),
            Fact::skipped(docker::live::CONTAINERS_NOT_ASKED),
            "{key}"
        );
    }
    let asked = seen.lock().unwrap().clone();
    assert!(asked.iter().any(|p| p == "/info"), "{asked:?}");
    assert!(
        !asked.iter().any(|p| p.contains("/containers/")),
        "{asked:?}"
    );
    seen.lock().unwrap().clear();
    let (f, _) = probe_asking(&uri, osx).await;
    assert_eq!(f.get("docker.osx_stopped_containers"), list(&[]));
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|p| p.starts_with("/containers/json"))
    );
}

#[tokio::test]
async fn a_daemon_that_refuses_unversioned_paths_is_asked_again_at_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let (uri, seen) = scripted_daemon(dir.path(), docker_without_unversioned_paths);
    let (f, _) = probe(&uri).await;
    assert_eq!(f.get("docker.reachable"), Fact::known(true), "{f:#?}");
    assert_eq!(f.get("docker.server_version"), Fact::known("40.0.1"));
    assert_eq!(f.get("docker.api_version"), Fact::known("1.60"));
    assert_eq!(f.get("docker.storage_driver"), Fact::known("overlayfs"));
    let seen = seen.lock().unwrap().clone();
    let infos: Vec<&String> = seen.iter().filter(|t| t.ends_with("/info")).collect();
    assert_eq!(infos, ["/info", "/v1.60/info"], "{seen:?}");
}

// ---- answers larger than any daemon's, read by the real binary ---------------------------

/// Set in the copy of the test binary that runs one bounded-read test alone.
const ALONE: &str = "DOCKDOC_TEST_ALONE";

/// Runs the test `name` in a process of its own (a copy of this test binary) and returns true
/// there; returns false in that process, which then does the work. The peak RSS of the dockdoc
/// run is read with getrusage(RUSAGE_CHILDREN), which covers every child a process has waited
/// for: alone, dockdoc is its only one (other tests here start dockerd and the CLI).
fn ran_alone(name: &str) -> bool {
    if std::env::var_os(ALONE).is_some() {
        return false;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(ALONE, "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{name} alone:\n{text}"
    );
    eprintln!("{text}");
    true
}

/// What a fake daemon sends after the head for `/info` or `/containers/json`.
#[derive(Clone, Copy)]
enum Flood {
    /// `/info` as a chunked body that never ends.
    EndlessInfo,
    /// `/containers/json` as 100 MB of valid JSON, with its Content-Length.
    HundredMegabyteList,
    /// `/networks/bridge` (the network probe's first question) as a chunked body that never
    /// ends.
    EndlessBridgeNetwork,
}

/// Answers with a chunked JSON body that never ends, until the client goes away.
fn endless(stream: &mut std::os::unix::net::UnixStream) -> std::io::Result<()> {
    use std::io::Write;
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n{\"A\":[\r\n",
    )?;
    let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
    while stream.write_all(chunk.as_bytes()).is_ok() {}
    Ok(())
}

/// A fake daemon on a unix socket, served by threads of its own: `/_ping` and the other
/// answers as dockerd 20.10 gives them, except the one `flood` names.
fn flooding_daemon(dir: &Path, flood: Flood) -> String {
    use std::io::{Read, Write};
    let path = dir.join("flood.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split(' ').nth(1).unwrap_or_default();
                let plain = |body: &str| {
                    format!(
                        "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                };
                let info = r#"{"Driver":"vfs","DockerRootDir":"/var/lib/docker","ServerVersion":"20.10.24+dfsg1"}"#;
                let _ = match (flood, target) {
                    (_, "/_ping") => stream.write_all(plain("OK").as_bytes()),
                    (Flood::EndlessInfo, t) if t.ends_with("/info") => endless(&mut stream),
                    (Flood::EndlessBridgeNetwork, t) if t.ends_with("/networks/bridge") => {
                        endless(&mut stream)
                    }
                    (_, t) if t.ends_with("/info") => stream.write_all(plain(info).as_bytes()),
                    (_, t) if t.ends_with("/version") => stream.write_all(
                        plain(r#"{"Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12"}"#)
                            .as_bytes(),
                    ),
                    (Flood::HundredMegabyteList, t) if t.contains("/containers/json") => {
                        let one = r#"{"Id":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","Names":["/flood"],"Image":"sickcodes/docker-osx:latest","State":"exited","Status":"Exited (0) 1 hour ago","Labels":{"a":"b"}},"#;
                        let count = 100_000_000 / one.len();
                        let length = 1 + one.len() * count + 3;
                        let _ = stream.write_all(format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n["
                        ).as_bytes());
                        let block = one.repeat(1000);
                        let mut left = count;
                        while left >= 1000 {
                            if stream.write_all(block.as_bytes()).is_err() {
                                return;
                            }
                            left -= 1000;
                        }
                        let mut tail = one.repeat(left);
                        tail.push_str("{}]");
                        stream.write_all(tail.as_bytes())
                    }
                    _ => stream.write_all(plain("[]").as_bytes()),
                };
            });
        }
    });
    format!("unix://{}", path.display())
}

/// The run ends within `--timeout 1s` and a margin for the process around the probe.
const WALL_BOUND: Duration = Duration::from_millis(1300);
/// A debug build of dockdoc reads and holds at most one answer's cap (4 MiB) per question.
const RSS_BOUND_KIB: i64 = 64 * 1024;

/// Runs dockdoc with `args` and `--timeout 1s` against a daemon that floods as `flood`, asserts
/// that it ended within the timeout and a bounded peak RSS, and returns its JSON output.
fn flooded_run(flood: Flood, args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let uri = flooding_daemon(dir.path(), flood);
    let started = Instant::now();
    let out = common::bin()
        .args(args)
        .args(["--format", "json", "--timeout", "1s", "--docker-host"])
        .arg(&uri)
        .output()
        .unwrap();
    let took = started.elapsed();
    let rss = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .unwrap()
        .max_rss();
    eprintln!("dockdoc took {took:?}, peak RSS {rss} KiB");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < WALL_BOUND, "{took:?}");
    assert!(rss < RSS_BOUND_KIB, "peak RSS {rss} KiB");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// [`flooded_run`] of `dockdoc facts`: `key`'s fact as JSON.
fn flooded_fact(flood: Flood, key: &str) -> serde_json::Value {
    flooded_run(flood, &["facts"])["facts"][key].clone()
}

#[test]
fn an_endless_info_is_cut_at_the_cap_in_time_and_memory() {
    if ran_alone("an_endless_info_is_cut_at_the_cap_in_time_and_memory") {
        return;
    }
    assert_eq!(
        flooded_fact(Flood::EndlessInfo, "docker.unreachable_reason"),
        serde_json::json!({"state": "known", "value": "GET /info: the answer was larger than 4194304 bytes"}),
    );
}

#[test]
fn a_hundred_megabyte_container_list_is_refused_in_time_and_memory() {
    if ran_alone("a_hundred_megabyte_container_list_is_refused_in_time_and_memory") {
        return;
    }
    assert_eq!(
        flooded_fact(Flood::HundredMegabyteList, "docker.osx_stopped_containers"),
        serde_json::json!({"state": "unknown", "reason": "GET /containers/json: the answer was larger than 4194304 bytes"}),
    );
}

#[test]
fn the_network_probe_cuts_an_endless_answer_at_the_cap_in_time_and_memory() {
    if ran_alone("the_network_probe_cuts_an_endless_answer_at_the_cap_in_time_and_memory") {
        return;
    }
    let report = flooded_run(
        Flood::EndlessBridgeNetwork,
        &[
            "check",
            "--probe",
            "network",
            "--only",
            "docker-daemon-unreachable",
        ],
    );
    assert_eq!(
        report["host"]["probe.network"],
        "inconclusive: inspect the default bridge network: the answer was larger than 4194304 bytes"
    );
}

/// A daemon that lists `count` stopped docker-osx containers and answers each inspection after
/// 10 ms; returns the most inspections it had in flight at once.
fn osx_daemon(dir: &Path, count: usize) -> (String, std::sync::Arc<AtomicUsize>) {
    use tokio::io::AsyncWriteExt;
    let path = dir.join("osx.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let in_flight = std::sync::Arc::new(AtomicUsize::new(0));
    let most = std::sync::Arc::new(AtomicUsize::new(0));
    let seen_most = most.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let (in_flight, most) = (in_flight.clone(), most.clone());
            tokio::spawn(async move {
                let Some(head) = read_head(&mut stream).await else {
                    return;
                };
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                let body = if target == "/_ping" {
                    "OK".to_owned()
                } else if target.ends_with("/info") {
                    r#"{"Driver":"vfs","ServerVersion":"20.10.24"}"#.to_owned()
                } else if target.contains("/containers/json") {
                    let list: Vec<String> = (0..count)
                        .map(|i| format!(r#"{{"Id":"{i:064x}","Names":["/osx{i}"],"Image":"sickcodes/docker-osx:latest","State":"exited"}}"#))
                        .collect();
                    format!("[{}]", list.join(","))
                } else {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    r#"{"Name":"/osx","Config":{"Image":"sickcodes/docker-osx:latest"},"HostConfig":{}}"#.to_owned()
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("unix://{}", path.display()), seen_most)
}

#[tokio::test]
async fn containers_are_inspected_a_few_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (uri, most) = osx_daemon(dir.path(), 40);
    let (f, _) = probe(&uri).await;
    let inspected = match f.get("docker.osx_containers") {
        Fact::Known {
            value: Value::List(l),
        } => l.len(),
        other => panic!("{other:?}"),
    };
    assert_eq!(inspected, 40);
    let most = most.load(Ordering::SeqCst);
    assert!((2..=8).contains(&most), "{most} inspections at once");
}

#[tokio::test]
async fn more_containers_than_dockdoc_inspects_leave_the_fact_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let (uri, most) = osx_daemon(dir.path(), 300);
    let (f, _) = probe(&uri).await;
    assert_eq!(
        f.get("docker.osx_containers"),
        Fact::unknown(
            "the daemon lists 300 containers to inspect, more than the 256 dockdoc inspects"
        )
    );
    assert_eq!(most.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn missing_and_dead_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix://{}/absent.sock", dir.path().display());
    let (f, _) = probe(&missing).await;
    assert_unreachable(&f, "not-found", &format!("connect {missing}: "));

    // A socket file nobody listens on any more: the daemon died without cleaning up.
    let dead = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    let (f, _) = probe(&format!("unix://{}", dead.display())).await;
    assert_unreachable(&f, "refused", "connect unix://");
}

#[tokio::test]
async fn ssh_endpoints_are_not_probed() {
    let (f, _) = probe("ssh://alice@build").await;
    assert_eq!(
        f.get("docker.reachable"),
        Fact::unknown(
            "ssh://alice@build: dockdoc probes only unix:// and tcp:// endpoints; run it on the daemon's host"
        )
    );
}

// ---- live: a real private dockerd ---------------------------------------------------------

fn dockerd_version(binary: &str) -> String {
    let out = std::process::Command::new(binary)
        .arg("--version")
        .output()
        .unwrap();
    // "Docker version 20.10.24+dfsg1, build 5d6db84"
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .strip_prefix("Docker version ")
        .and_then(|r| r.split(',').next())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn real_private_dockerd() {
    if !common::prereq::ready(dockerd::PRIVATE) {
        return;
    }
    let daemon = match dockerd::PrivateDockerd::start(Duration::from_secs(20)) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    // A stopped container created from a docker-osx image (imported from a one-file tarball).
    let tar = daemon.dir.path().join("img.tar");
    let status = std::process::Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(daemon.dir.path())
        .arg("pid")
        .status()
        .unwrap();
    assert!(status.success());
    let out = daemon.docker(&[
        "import",
        &tar.display().to_string(),
        "sickcodes/docker-osx:fixture",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = daemon.docker(&[
        "create",
        "--name",
        "osx-stopped",
        "sickcodes/docker-osx:fixture",
        "/x",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let ctx = ctx_at(Path::new("/"), explicit(&daemon.uri()), ALICE).asking(LIST);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let live = runtime.block_on(docker::gather(&ctx));
    assert_eq!(live.get("docker.connect_error"), Fact::known("none"));
    assert_eq!(live.get("docker.reachable"), Fact::known(true), "{live:#?}");
    assert_eq!(live.get("docker.unreachable_reason"), null());
    let binary = dockerd::dockerd_binary().unwrap();
    assert_eq!(
        live.get("docker.server_version"),
        Fact::known(dockerd_version(&binary))
    );
    let api = live
        .text("docker.api_version")
        .unwrap_or_default()
        .to_owned();
    assert!(
        api.split('.').count() == 2 && api.split('.').all(|p| p.parse::<u32>().is_ok()),
        "{api}"
    );
    assert_eq!(live.get("docker.storage_driver"), Fact::known("vfs"));
    assert_eq!(
        live.get("docker.data_root"),
        Fact::known(daemon.dir.path().join("data").display().to_string())
    );
    assert_eq!(
        live.get("docker.osx_stopped_containers"),
        list(&["osx-stopped"])
    );
    // Not a rootless daemon's endpoint: the stopped container is not inspected for its ports.
    assert_eq!(
        live.get("docker.published_host_ports"),
        Fact::skipped(docker::live::PUBLISHED_PORTS_NOT_ASKED)
    );

    let f = files(&ctx);
    assert_eq!(f.get("docker.socket_exists"), Fact::known(true));
    assert_eq!(f.get("docker.socket_mode"), Fact::known("0660"));
    assert_eq!(
        f.get("docker.endpoint_source"),
        Fact::known("--docker-host")
    );
    assert_eq!(f.get("docker.mode"), Fact::known("rootful"));

    drop(daemon);
}

// ---- the access checks' explains patterns --------------------------------------------------

#[test]
fn access_checks_explain_every_cli_wording() {
    let loaded = dockdoc::catalog::load_builtin();
    let access: Vec<_> = loaded
        .errors
        .iter()
        .filter(|e| e.file.ends_with("access.toml"))
        .collect();
    assert!(access.is_empty(), "{access:?}");
    let matching = |text: &str| -> Vec<String> {
        let mut ids: Vec<String> = loaded
            .catalog
            .checks
            .iter()
            .filter(|c| c.area == "access" && c.explains.iter().any(|r| r.is_match(text)))
            .map(|c| c.id.clone())
            .collect();
        ids.sort();
        ids
    };
    let eacces = [
        "Got permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Post http://%2Fvar%2Frun%2Fdocker.sock/v1.40/containers/create: dial unix /var/run/docker.sock: connect: permission denied",
        "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Head \"http://%2Fvar%2Frun%2Fdocker.sock/_ping\": dial unix /var/run/docker.sock: connect: permission denied",
        "permission denied while trying to connect to the docker API at unix:///var/run/docker.sock",
    ];
    for text in eacces {
        assert_eq!(
            matching(text),
            [
                "docker-socket-permission-denied",
                "session-missing-docker-group",
                "user-not-in-docker-group"
            ],
            "{text}"
        );
    }
    let down = [
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        "failed to connect to the docker API at unix:///var/run/docker.sock; check if the path is correct and if the daemon is running: dial unix /var/run/docker.sock: connect: no such file or directory",
    ];
    for text in down {
        let ids = matching(text);
        assert!(
            ids.contains(&"docker-socket-missing".to_owned()),
            "{text}: {ids:?}"
        );
    }
    assert!(matching(down[0]).contains(&"docker-daemon-unreachable".to_owned()));
    // Both causes hide behind these: the daemon being down and the socket being closed.
    for text in [
        "docker: unknown server OS: .",
        "Cannot connect to the Docker daemon. Is the docker daemon running on this host?",
    ] {
        let ids = matching(text);
        for id in [
            "docker-socket-missing",
            "docker-daemon-unreachable",
            "docker-socket-permission-denied",
            "user-not-in-docker-group",
            "session-missing-docker-group",
        ] {
            assert!(ids.contains(&id.to_owned()), "{text}: {ids:?} lacks {id}");
        }
    }
    assert_eq!(
        matching(
            "Cannot connect to the Docker daemon at unix:///run/user/1000/docker.sock. Is the docker daemon running?"
        ),
        [
            "docker-daemon-unreachable",
            "docker-host-overrides-context",
            "docker-socket-missing",
            "rootless-daemon-not-running"
        ]
    );
    // docker-tcp-exposed-without-tls has no `explains` pattern: no real pasted sample of the
    // daemon's TCP warning was found (tests/error-samples requires one per pattern).
    // Desktop's VM has a /dev/kvm that is "not a device node" (sickcodes/Docker-OSX#841); "no such
    // file or directory" is a host without /dev/kvm, a kvm check's cause.
    assert_eq!(
        matching(
            "docker: Error response from daemon: error gathering device information while adding custom device \"/dev/kvm\": not a device node."
        ),
        ["docker-desktop-context"]
    );
    assert!(
        matching(
            "docker: Error response from daemon: error gathering device information while adding custom device \"/dev/kvm\": no such file or directory."
        )
        .is_empty()
    );
}

// ---- daemon.json as the installed dockerd reads it -----------------------------------------

fn assert_succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A dockerd of 23.0 or later: `DOCKDOC_DOCKERD_23`, else what tests/fixtures/dockerd-trixie/fetch
/// unpacked (Debian 13's docker.io 26.1; Debian 12's 20.10 has no --validate).
/// A dockerd of 23.0 or later: `DOCKDOC_DOCKERD_23`, else the one tests/fixtures/dockerd-trixie/fetch
/// puts under target/ (`None` after a skip line).
fn dockerd_23() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DOCKDOC_DOCKERD_23") {
        return Some(PathBuf::from(path));
    }
    if !common::prereq::ready(&[common::prereq::Need::Program("dockerd-23")]) {
        return None;
    }
    common::prereq::path_of("dockerd-23").map(PathBuf::from)
}

/// The first number of `dockerd --version` ("Docker version 20.10.24+dfsg1, build …").
fn dockerd_major(binary: &Path) -> Option<u32> {
    let out = std::process::Command::new(binary)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.strip_prefix("Docker version ")?
        .split('.')
        .next()?
        .parse()
        .ok()
}

#[test]
fn dockerd_23_validates_the_file_the_unit_names() {
    let Some(new) = dockerd_23() else {
        return;
    };
    assert!(dockerd_major(&new).is_some_and(|m| m >= 23), "{new:?}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("custom.json");
    let line = format!(
        "{{ path={new} ; argv[]={new} -H fd:// --containerd=/run/containerd/containerd.sock --config-file {file} ; ignore_errors=no }}",
        new = new.display(),
        file = file.display()
    );
    // Reading `/`: the real dockerd is asked about the file docker.service names. A new
    // context for each read, as each run has its own (the sysroot reads a file once).
    let ctx = || ctx_at(Path::new("/"), Endpoints::default(), ALICE);
    std::fs::write(&file, r#"{"foo": 1, "debug": true}"#).unwrap();
    let f = daemon_json_with(&ctx(), Some(&line));
    assert_eq!(
        f.get("docker.daemon_json_path"),
        Fact::known(file.display().to_string())
    );
    assert_eq!(
        f.get("docker.daemon_json_checked_by"),
        Fact::known(format!("{} --validate", new.display()))
    );
    assert_eq!(
        f.get("docker.daemon_json_error"),
        Fact::known(format!(
            "unable to configure the Docker daemon with file {}: the following directives don't match any configuration option: foo",
            file.display()
        ))
    );
    assert_eq!(f.get("docker.daemon_json_keys"), list(&["debug", "foo"]));
    // A byte order mark and an empty file are fine for dockerd 23 and later.
    for text in ["\u{feff}{\"debug\": true}", "", " \n"] {
        std::fs::write(&file, text).unwrap();
        let f = daemon_json_with(&ctx(), Some(&line));
        assert_eq!(f.get("docker.daemon_json_error"), null(), "{text:?}");
    }
    // A file the key table accepts is handed to dockerd only while no dockerd has accepted
    // it: here the pid file the unit names does not exist, so no dockerd runs.
    let pidfile = dir.path().join("docker.pid");
    let with_pidfile = |line: &str| {
        line.replace(
            " ; ignore_errors=no }",
            &format!(" --pidfile {} ; ignore_errors=no }}", pidfile.display()),
        )
    };
    std::fs::write(&file, r#"{"debug": true, "log-driver": "journald"}"#).unwrap();
    let f = daemon_json_with(&ctx(), Some(&with_pidfile(&line)));
    assert_eq!(f.get("docker.daemon_json_error"), null());
    assert_eq!(
        f.get("docker.daemon_json_checked_by"),
        Fact::known(format!(
            "{} --validate (no dockerd runs ({}))",
            new.display(),
            pidfile.display()
        ))
    );
    // Values dockerd reads without complaint, --validate included (26.1: "configuration OK"),
    // but fails on as it starts: a `bip` without a prefix length.
    std::fs::write(&file, r#"{"bip": "10.128.129.1"}"#).unwrap();
    let out = std::process::Command::new(&new)
        .args(["--validate", "--config-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert_succeeded(&out);
    let f = daemon_json_with(&ctx(), Some(&with_pidfile(&line)));
    let error = f.get("docker.daemon_json_error");
    assert!(
        error
            .as_text()
            .is_some_and(|e| e.contains("invalid CIDR address: 10.128.129.1")),
        "{error:?}"
    );
    // `runtimes` with --add-runtime merges: dockerd takes both, and dockdoc sees no conflict.
    std::fs::write(
        &file,
        r#"{"runtimes": {"crun": {"path": "/usr/bin/crun"}}}"#,
    )
    .unwrap();
    let merged = format!(
        "{} --add-runtime runsc=/usr/bin/runsc",
        line.replace(" ; ignore_errors=no }", "")
    );
    // The PATH systemd gives dockerd, as the probe passes it: dockerd finds docker-proxy in
    // /usr/sbin on Debian, which a user's PATH lacks.
    let out = std::process::Command::new(&new)
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin",
        )
        .args([
            "--validate",
            "--add-runtime",
            "runsc=/usr/bin/runsc",
            "--config-file",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_succeeded(&out);
    let mut f = daemon_json_with(&ctx(), Some(&merged));
    assert_eq!(f.get("docker.daemon_json_error"), null());
    docker::derive(&mut f);
    assert_eq!(f.get("docker.flag_conflicts"), list(&[]));
}

#[test]
fn dockerd_before_23_has_no_validate_and_the_key_table_judges() {
    if !common::prereq::ready(&[common::prereq::Need::Program("dockerd")]) {
        return;
    }
    let old = dockerd::dockerd_binary().map(PathBuf::from).unwrap();
    if dockerd_major(&old).is_none_or(|m| m >= 23) {
        return common::prereq::skip(
            "test dockerd_before_23_has_no_validate_and_the_key_table_judges",
            "the installed dockerd is 23.0 or later, not the older one (Debian 12's docker.io) it needs",
            &[],
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("daemon.json");
    let line = format!(
        "{} -H fd:// --config-file {}",
        old.display(),
        file.display()
    );
    let ctx = || ctx_at(Path::new("/"), Endpoints::default(), ALICE);
    std::fs::write(&file, r#"{"foo": 1}"#).unwrap();
    let f = daemon_json_with(&ctx(), Some(&line));
    assert_eq!(
        f.get("docker.daemon_json_checked_by"),
        Fact::known(format!(
            "dockdoc's key table (moby v28.5.2); {} is older than 23.0 (no --validate)",
            old.display()
        ))
    );
    assert_eq!(
        f.get("docker.daemon_json_error"),
        Fact::known("the following directives don't match any configuration option: foo")
    );
    std::fs::write(&file, "").unwrap();
    let f = daemon_json_with(&ctx(), Some(&line));
    assert_eq!(
        f.get("docker.daemon_json_error"),
        Fact::known("the file is empty; dockerd before 23.0 fails to start with `EOF`")
    );
}

#[test]
fn config_file_in_exec_start_is_the_file_read() {
    let root = tempfile::tempdir().unwrap();
    common::copy_tree(&fixture("healthy-docker-host"), root.path());
    write(
        root.path(),
        "/etc/docker/dockerd.json",
        r#"{"hosts": ["tcp://0.0.0.0:2375"]}"#,
    );
    let ctx = ctx_at(root.path(), Endpoints::default(), ALICE);
    let f = daemon_json_with(
        &ctx,
        Some("/usr/bin/dockerd --config-file=/etc/docker/dockerd.json"),
    );
    assert_eq!(
        f.get("docker.daemon_json_path"),
        Fact::known("/etc/docker/dockerd.json")
    );
    assert_eq!(
        f.get("docker.daemon_json_hosts"),
        list(&["tcp://0.0.0.0:2375"])
    );
    // Without the flag, the default file.
    let f = daemon_json_with(&ctx, Some("/usr/bin/dockerd -H fd://"));
    assert_eq!(f.get("docker.daemon_json_keys"), list(&["log-driver"]));
}

#[test]
fn an_etc_docker_this_user_cannot_enter_makes_daemon_json_unknown() {
    use std::os::unix::fs::PermissionsExt;
    if !common::prereq::ready(common::AS_NOBODY) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = common::reachable_copy(dir.path(), "healthy-docker-host");
    std::fs::set_permissions(
        root.join("etc/docker"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let f = common::facts_as_nobody(&root);
    for key in [
        "docker.daemon_json_exists",
        "docker.daemon_json_error",
        "docker.daemon_json_keys",
    ] {
        let Fact::Unknown { reason } = f.get(key) else {
            panic!("{key}: {:?}", f.get(key))
        };
        assert_eq!(
            reason, "/etc/docker/daemon.json: Permission denied (os error 13)",
            "{key}"
        );
    }
}

/// A dockerd that hangs (a fake: the real one never does on --validate) is killed when the
/// timeout passes, and the key table's verdict stands.
#[test]
fn a_hung_dockerd_validate_is_killed_at_the_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("dockerd");
    let marker = dir.path().join("still-running");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nsleep 5\ntouch {}\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.path().join("daemon.json");
    std::fs::write(&file, r#"{"foo": 1}"#).unwrap();
    let line = format!(
        "{} -H fd:// --config-file {}",
        fake.display(),
        file.display()
    );
    let mut ctx = ctx_at(Path::new("/"), Endpoints::default(), ALICE);
    ctx.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let f = daemon_json_with(&ctx, Some(&line));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        f.get("docker.daemon_json_checked_by"),
        Fact::known(format!(
            "dockdoc's key table (moby v28.5.2); {} --validate did not finish within 300ms",
            fake.display()
        ))
    );
    assert_eq!(
        f.get("docker.daemon_json_error"),
        Fact::known("the following directives don't match any configuration option: foo")
    );
    std::thread::sleep(Duration::from_secs(6));
    assert!(!marker.exists(), "the hung dockerd was not killed");
}

/// A running dockerd (a private one, its pid file named by the unit's `--pidfile`) that started
/// after daemon.json's last change has accepted the file: dockerd is not asked again. A change
/// after its start makes the file worth asking about.
#[test]
fn dockerd_is_asked_only_about_a_file_the_running_daemon_has_not_read() {
    let Some(new) = dockerd_23() else {
        return;
    };
    if !common::prereq::ready(&[
        common::prereq::Need::Root,
        common::prereq::Need::Program("dockerd"),
    ]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("daemon.json");
    std::fs::write(&file, r#"{"debug": true}"#).unwrap();
    // Edited a minute before the daemon starts.
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    let daemon = dockerd::PrivateDockerd::start(Duration::from_secs(30)).unwrap();
    let pidfile = daemon.dir.path().join("pid");
    let line = format!(
        "{{ path={new} ; argv[]={new} -H fd:// --containerd=/run/containerd/containerd.sock --config-file {file} --pidfile {pid} ; ignore_errors=no }}",
        new = new.display(),
        file = file.display(),
        pid = pidfile.display()
    );
    let ctx = || ctx_at(Path::new("/"), Endpoints::default(), ALICE);
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_owned();
    let f = daemon_json_with(&ctx(), Some(&line));
    assert_eq!(
        f.get("docker.daemon_json_checked_by"),
        Fact::known(format!(
            "dockdoc's key table (moby v28.5.2); the running dockerd (pid {pid}) started after the file's last change and accepted it"
        ))
    );
    // Edited now, after the daemon started: its next start reads a file nobody checked.
    std::fs::write(&file, r#"{"debug": false}"#).unwrap();
    let f = daemon_json_with(&ctx(), Some(&line));
    assert_eq!(
        f.get("docker.daemon_json_checked_by"),
        Fact::known(format!(
            "{} --validate (the file changed after the running dockerd (pid {pid}) started)",
            new.display()
        ))
    );
    assert_eq!(f.get("docker.daemon_json_error"), null());
    drop(daemon);
}
