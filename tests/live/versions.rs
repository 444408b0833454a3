//! The daemon's version against the host: an engine older than 20.10 on cgroup v2
//! (`engine-too-old-for-cgroup-v2`) and a daemon whose minimum API version was raised
//! (`client-api-version-too-old`). The pass cases use the real dockerd 20.10 (API 1.41, too old
//! to have raised its minimum, so it is not asked); the engines a real dockerd here cannot be (19.03, 29.0) answer from fake sockets
//! whose answers are shaped like theirs (sources at each constant). Docker Desktop's engine,
//! recognised by its `/info`, answers from such a socket too.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use crate::faults::{listen, read_head};
use crate::support;

/// A cgroup v2 Arch host, for the host half of the verdicts (its /proc/mounts).
fn cgroup_v2_root() -> String {
    crate::common::fixtures()
        .join("sysroots/healthy-docker-host")
        .display()
        .to_string()
}

/// What a fake engine answers.
struct Engine {
    /// `Server` header of `/_ping`, e.g. `Docker/19.03.15 (linux)`.
    server: &'static str,
    api_version: &'static str,
    /// The newest API version it accepts; a newer client is refused with 400 as moby does
    /// ("client version X is too new. Maximum supported API version is Y").
    max_api: (u32, u32),
    info: &'static str,
    version: &'static str,
}

/// Docker 19.03.15, the last release before cgroup v2 support: API 1.40. The `/info` fields
/// are those of moby's API v1.40 `SystemInfo` that dockdoc reads, with the values a static
/// 19.03.15 unpacked on Arch reports.
const DOCKER_19_03: Engine = Engine {
    server: "Docker/19.03.15 (linux)",
    api_version: "1.40",
    max_api: (1, 40),
    info: r#"{"ID":"7TRN:IPZB:QYBB:VPBQ:UWYB:JHLJ:BWSI:JMYJ:HMMX:BVJO:FDIA:LNQT","Containers":0,"ContainersRunning":0,"ContainersPaused":0,"ContainersStopped":0,"Images":0,"Driver":"overlay2","DockerRootDir":"/var/lib/docker","CgroupDriver":"cgroupfs","KernelVersion":"6.10.5-arch1-1","OperatingSystem":"Arch Linux","OSType":"linux","Architecture":"x86_64","ServerVersion":"19.03.15"}"#,
    version: r#"{"Version":"19.03.15","ApiVersion":"1.40","MinAPIVersion":"1.12","GitCommit":"99e3ed8","GoVersion":"go1.13.15","Os":"linux","Arch":"amd64"}"#,
};

/// Docker 29.0.0: API 1.52, MinAPIVersion 1.44. The `/version` body has the shape of moby's
/// API v1.52 `SystemVersion` (api/docs/v1.52.yaml) with the values `docker version` printed for
/// 29.0.0 in https://github.com/HariSekhon/Nagios-Plugins/issues/434 ("API version: 1.52
/// (minimum version 1.44)", Git commit d105562, go1.25.4, containerd v2.1.5, runc 1.3.3,
/// docker-init 0.19.0).
const DOCKER_29_0: Engine = Engine {
    server: "Docker/29.0.0 (linux)",
    api_version: "1.52",
    max_api: (1, 52),
    info: r#"{"ID":"c2a6f0b4-9d0e-4a57-9f41-0d6f3f0b2a11","Containers":0,"ContainersRunning":0,"ContainersPaused":0,"ContainersStopped":0,"Images":0,"Driver":"overlayfs","DockerRootDir":"/var/lib/docker","CgroupDriver":"systemd","CgroupVersion":"2","KernelVersion":"6.17.7-arch1-1","OperatingSystem":"Arch Linux","OSType":"linux","Architecture":"x86_64","ServerVersion":"29.0.0"}"#,
    version: r#"{"Platform":{"Name":"Docker Engine - Community"},"Components":[{"Name":"Engine","Version":"29.0.0","Details":{"ApiVersion":"1.52","Arch":"amd64","BuildTime":"2025-11-10T21:46:31.000000000+00:00","Experimental":"false","GitCommit":"d105562","GoVersion":"go1.25.4","KernelVersion":"6.17.7-arch1-1","MinAPIVersion":"1.44","Os":"linux"}},{"Name":"containerd","Version":"v2.1.5","Details":{"GitCommit":"fcd43222d6b07379a4be9786bda52438f0dd16a1"}},{"Name":"runc","Version":"1.3.3","Details":{"GitCommit":"v1.3.3-0-gd842d771"}},{"Name":"docker-init","Version":"0.19.0","Details":{"GitCommit":"de40ad0"}}],"Version":"29.0.0","ApiVersion":"1.52","MinAPIVersion":"1.44","GitCommit":"d105562","GoVersion":"go1.25.4","Os":"linux","Arch":"amd64","KernelVersion":"6.17.7-arch1-1","BuildTime":"2025-11-10T21:46:31.000000000+00:00"}"#,
};

/// Docker Desktop's engine, reached on a socket that is not Desktop's own path: its `/info`
/// says `OperatingSystem` "Docker Desktop" (what quarkusio/quarkus#37364 detects Desktop by) and
/// a LinuxKit kernel; the values are those `docker version` and `uname -a` printed for Docker
/// Desktop 4.33.0 in https://github.com/docker/for-mac/issues/7402 (Engine 27.1.1, API 1.46,
/// minimum 1.24, kernel 6.10.0-linuxkit).
const DOCKER_DESKTOP: Engine = Engine {
    server: "Docker/27.1.1 (linux)",
    api_version: "1.46",
    max_api: (1, 46),
    info: r#"{"ID":"5b0f3d62-9a44-4d1e-8c2a-3f7e0d1c9b21","Containers":0,"ContainersRunning":0,"ContainersPaused":0,"ContainersStopped":0,"Images":0,"Driver":"overlay2","DockerRootDir":"/var/lib/docker","CgroupDriver":"cgroupfs","CgroupVersion":"2","KernelVersion":"6.10.0-linuxkit","OperatingSystem":"Docker Desktop","OSType":"linux","Architecture":"x86_64","ServerVersion":"27.1.1"}"#,
    version: r#"{"Version":"27.1.1","ApiVersion":"1.46","MinAPIVersion":"1.24","GitCommit":"cc13f95","GoVersion":"go1.21.12","Os":"linux","Arch":"amd64","KernelVersion":"6.10.0-linuxkit"}"#,
};

fn respond(s: &mut UnixStream, status: &str, kind: &str, extra: &str, body: &str) -> bool {
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    );
    s.write_all(answer.as_bytes()).is_ok()
}

/// The API version a request path asks for: `/v1.47/info` → (1, 47).
fn requested(path: &str) -> Option<(u32, u32)> {
    let v = path.strip_prefix("/v")?.split('/').next()?;
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn serve(mut s: UnixStream, engine: &'static Engine, seen: Arc<Mutex<Vec<String>>>) {
    while let Some(line) = read_head(&mut s) {
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        seen.lock().unwrap().push(path.clone());
        let headers = format!(
            "Api-Version: {}\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: {}\r\n",
            engine.api_version, engine.server
        );
        let ok = if path.ends_with("/_ping") {
            respond(
                &mut s,
                "200 OK",
                "text/plain; charset=utf-8",
                &headers,
                "OK",
            )
        } else if let Some(v) = requested(&path).filter(|v| *v > engine.max_api) {
            let body = format!(
                r#"{{"message":"client version {}.{} is too new. Maximum supported API version is {}"}}"#,
                v.0, v.1, engine.api_version
            );
            respond(
                &mut s,
                "400 Bad Request",
                "application/json",
                &headers,
                &body,
            )
        } else if path.ends_with("/info") {
            respond(&mut s, "200 OK", "application/json", &headers, engine.info)
        } else if path.ends_with("/version") {
            respond(
                &mut s,
                "200 OK",
                "application/json",
                &headers,
                engine.version,
            )
        } else if path.contains("/containers/json") {
            respond(&mut s, "200 OK", "application/json", &headers, "[]")
        } else {
            respond(
                &mut s,
                "404 Not Found",
                "application/json",
                &headers,
                r#"{"message":"page not found"}"#,
            )
        };
        if !ok {
            return;
        }
    }
}

/// A fake engine on a socket in a temp dir, and the request paths it saw.
fn fake(engine: &'static Engine) -> (tempfile::TempDir, String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let (dir, uri) = listen(move |s| serve(s, engine, Arc::clone(&log)));
    (dir, uri, seen)
}

fn dockdoc(uri: &str, extra: &[&str]) -> support::Run {
    let root = cgroup_v2_root();
    let mut args = vec!["--root", root.as_str()];
    args.extend_from_slice(extra);
    support::dockdoc(support::NO_BUS, uri, &args)
}

#[test]
fn docker_19_03_on_cgroup_v2_is_too_old() {
    let (_dir, uri, seen) = fake(&DOCKER_19_03);
    let run = dockdoc(&uri, &["--only", "engine-too-old-for-cgroup-v2"]);
    run.expect(&[("engine-too-old-for-cgroup-v2", "fail")]);
    assert!(
        run.summary("engine-too-old-for-cgroup-v2")
            .contains("Docker 19.03.15"),
        "{}",
        run.summary("engine-too-old-for-cgroup-v2")
    );
    // The check does not read docker.min_api_version: /version was not asked.
    let seen = seen.lock().unwrap();
    assert!(!seen.iter().any(|p| p.ends_with("/version")), "{seen:?}");
}

#[test]
fn docker_29_refuses_old_clients_and_version_is_asked_only_for_the_check() {
    let (_dir, uri, seen) = fake(&DOCKER_29_0);
    let run = dockdoc(&uri, &["--only", "client-api-version-too-old"]);
    run.expect(&[("client-api-version-too-old", "fail")]);
    let summary = run.summary("client-api-version-too-old");
    assert!(summary.contains("older than 1.44"), "{summary}");
    assert!(seen.lock().unwrap().iter().any(|p| p.ends_with("/version")));

    // Without the check, the same daemon is not asked /version.
    let (_dir, uri, seen) = fake(&DOCKER_29_0);
    let run = dockdoc(&uri, &["--only", "engine-too-old-for-cgroup-v2"]);
    run.expect(&[("engine-too-old-for-cgroup-v2", "pass")]);
    let seen = seen.lock().unwrap();
    assert!(!seen.iter().any(|p| p.ends_with("/version")), "{seen:?}");
}

#[test]
fn the_real_dockerd_20_10_is_new_enough_and_not_asked_its_minimum() {
    let Some(daemon) = support::private_dockerd(&Default::default()) else {
        return;
    };
    let run = dockdoc(
        &daemon.uri(),
        &[
            "--only",
            "engine-too-old-for-cgroup-v2",
            "--only",
            "client-api-version-too-old",
        ],
    );
    // API 1.41 is older than Docker 29's 1.52: the minimum cannot have been raised, and the
    // daemon is not asked /version (it costs as much as /info).
    run.expect(&[
        ("engine-too-old-for-cgroup-v2", "pass"),
        ("client-api-version-too-old", "skipped"),
    ]);
    let min = run.evidence("client-api-version-too-old", "docker.min_api_version");
    assert_eq!(min["state"], "skipped", "{min}");
    assert!(
        min["reason"].as_str().unwrap().contains("older than 1.52"),
        "{min}"
    );
}

/// Docker 29 with the stopgap its own message names, `DOCKER_MIN_API_VERSION=1.24` in the
/// daemon's environment: `/version` then says MinAPIVersion 1.24 and the check passes. The real
/// dockerd here (20.10) cannot be a Docker 29, so the same fake as above answers, with that one
/// value changed.
#[test]
fn docker_29_with_the_minimum_lowered_again_passes() {
    let lowered: &'static str = Box::leak(
        DOCKER_29_0
            .version
            .replace("\"MinAPIVersion\":\"1.44\"", "\"MinAPIVersion\":\"1.24\"")
            .into_boxed_str(),
    );
    assert_ne!(lowered, DOCKER_29_0.version);
    let engine: &'static Engine = Box::leak(Box::new(Engine {
        version: lowered,
        ..DOCKER_29_0
    }));
    let (_dir, uri, seen) = fake(engine);
    let run = dockdoc(&uri, &["--only", "client-api-version-too-old"]);
    run.expect(&[("client-api-version-too-old", "pass")]);
    let min = run.evidence("client-api-version-too-old", "docker.min_api_version");
    assert_eq!(min["value"], "1.24", "{min}");
    assert!(seen.lock().unwrap().iter().any(|p| p.ends_with("/version")));
}

/// Docker Desktop's VM needs /dev/kvm: a daemon whose `/info` says it is Docker Desktop brings
/// the KVM checks into the default profile, though its socket is not Desktop's path (endpoint
/// kind `other`); the fixture host has a VT-x CPU and the kvm modules, but no /dev/kvm. Docker
/// 29.0's engine on Arch leaves them out.
#[test]
fn a_daemon_that_says_docker_desktop_brings_the_kvm_checks() {
    let kvm = [
        "--only",
        "cpu-virtualization-missing",
        "--only",
        "kvm-module-not-loaded",
        "--only",
        "kvm-device-missing",
    ];
    // The default profile, not the other tests' `all`, which holds the KVM checks anyway.
    let default_profile = |uri: &str| {
        let root = cgroup_v2_root();
        let mut args = support::check_args(support::NO_BUS, uri);
        for a in args.iter_mut().filter(|a| *a == "all") {
            *a = "docker".to_owned();
        }
        let mut cmd = crate::common::bin();
        cmd.args(args).args(["--root", root.as_str()]).args(kvm);
        support::run(cmd)
    };
    let (_dir, uri, _seen) = fake(&DOCKER_DESKTOP);
    let run = default_profile(&uri);
    run.expect(&[
        ("cpu-virtualization-missing", "pass"),
        ("kvm-module-not-loaded", "pass"),
        ("kvm-device-missing", "fail"),
    ]);
    let desktop = run.evidence("kvm-device-missing", "docker.desktop_daemon");
    assert_eq!(desktop["value"], true, "{desktop}");

    let (_dir, uri, _seen) = fake(&DOCKER_29_0);
    let run = default_profile(&uri);
    run.expect(&[
        ("cpu-virtualization-missing", "not_applicable"),
        ("kvm-module-not-loaded", "not_applicable"),
        ("kvm-device-missing", "not_applicable"),
    ]);
}

/// nvidia-container-toolkit installed (the fixture's pacman database) while the daemon offers no
/// nvidia runtime: Docker 29.0's `/info` lists none, daemon.json declares none and there is no
/// CDI spec, so `--runtime=nvidia` would fail.
#[test]
fn a_daemon_without_an_nvidia_runtime_beside_the_container_toolkit() {
    let (_dir, uri, _seen) = fake(&DOCKER_29_0);
    let root = crate::common::fixtures()
        .join("sysroots/nvidia-driver-upgraded")
        .display()
        .to_string();
    let run = support::dockdoc(
        support::NO_BUS,
        &uri,
        &["--root", &root, "--only", "nvidia-runtime-not-configured"],
    );
    run.expect(&[("nvidia-runtime-not-configured", "fail")]);
    let runtimes = run.evidence("nvidia-runtime-not-configured", "docker.runtimes");
    assert_eq!(runtimes["state"], "known", "{runtimes}");
}
