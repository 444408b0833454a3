//! Docker: the endpoint the CLI would use (flag, DOCKER_HOST, context, default), the socket's
//! owner, group and mode, and the daemon itself over its HTTP API (`/_ping`, `/version`, `/info`,
//! containers). Also the daemon.json that dockerd reads.
//!
//! [`gather_files`] reads through the sysroot and always runs; [`gather`] contacts the daemon
//! (never under `--root` unless `--docker-host` was given); [`gather_daemon_json`] runs once
//! docker.service's ExecStart and the pacman package are known, because they say which file
//! dockerd reads and how; [`derive`] combines these with other modules' facts.

pub mod api;
pub mod daemon_json;
pub mod endpoint;
pub mod exec_start;
pub mod live;
pub mod osx;
pub mod ping;
pub mod ports;

use super::{Context, Fact, FactKind::*, FactSpec, Facts, Value, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "docker.binary_installed",
        Bool,
        "dockerd is installed (/usr/bin/dockerd)",
    ),
    spec(
        "docker.endpoint",
        Text,
        "the Docker endpoint probed, as a URI",
    ),
    spec(
        "docker.endpoint_source",
        Text,
        "where the endpoint came from: --docker-host, DOCKER_HOST, context NAME, or default",
    ),
    spec(
        "docker.context",
        Text,
        "the CLI's current context (DOCKER_CONTEXT or ~/.docker/config.json); null for default",
    ),
    spec(
        "docker.host_env",
        Text,
        "DOCKER_HOST from the environment; null if unset",
    ),
    spec(
        "docker.mode",
        Text,
        "rootful (a system socket), rootless (a socket under XDG_RUNTIME_DIR) or remote (tcp/ssh)",
    ),
    spec(
        "docker.xdg_runtime_dir",
        Text,
        "XDG_RUNTIME_DIR of the session (where a rootless daemon's socket lives); null when unset, as after su, sudo -i or an ssh login without pam_systemd",
    ),
    spec(
        "docker.endpoint_kind",
        Text,
        "the kind of daemon the endpoint reaches: system (/run/docker.sock), rootless ($XDG_RUNTIME_DIR, /run/user/UID, ~/.docker/run), desktop (Docker Desktop), remote (tcp, ssh) or other (another unix socket)",
    ),
    spec(
        "docker.socket_path",
        Text,
        "the unix socket path of the endpoint; null for tcp",
    ),
    spec("docker.socket_exists", Bool, "the socket file exists"),
    spec("docker.socket_group", Text, "the socket's group name"),
    spec(
        "docker.socket_mode",
        Text,
        "the socket's permission bits, octal",
    ),
    spec(
        "docker.connect_error",
        Text,
        "none, permission-denied, not-found, refused, timeout or other: what connecting to the socket gave",
    ),
    spec(
        "docker.reachable",
        Bool,
        "the daemon answered /_ping and /info",
    ),
    spec(
        "docker.unreachable_reason",
        Text,
        "why the daemon did not answer (connection, HTTP status or a body that is not valid); null when it answered",
    ),
    spec(
        "docker.server_version",
        Text,
        "the daemon's version (/info ServerVersion, else the Server header of /_ping)",
    ),
    spec(
        "docker.min_api_version",
        Text,
        "the oldest API version the daemon accepts (/version MinAPIVersion, e.g. 1.44 on Docker 29.0); asked only when a selected check reads it",
    ),
    spec(
        "docker.api_version",
        Text,
        "the newest API version the daemon speaks (the Api-Version header of /_ping)",
    ),
    spec(
        "docker.storage_driver",
        Text,
        "the daemon's storage driver (/info)",
    ),
    spec(
        "docker.data_root",
        Text,
        "the daemon's data root (/info DockerRootDir)",
    ),
    spec(
        "docker.operating_system",
        Text,
        "the operating system the daemon runs on (/info OperatingSystem): \"Docker Desktop\" for Docker Desktop's VM",
    ),
    spec(
        "docker.kernel_version",
        Text,
        "the kernel the daemon runs on (/info KernelVersion): one ending in -linuxkit is Docker Desktop's VM",
    ),
    spec(
        "docker.runtimes",
        List,
        "the OCI runtimes the daemon offers (/info Runtimes), e.g. io.containerd.runc.v2, runc, nvidia",
    ),
    spec(
        "docker.desktop_daemon",
        Bool,
        "the CLI talks to Docker Desktop, whose VM needs /dev/kvm: the endpoint is Desktop's (docker.endpoint_kind desktop), or the daemon says so in /info (OperatingSystem \"Docker Desktop\", a KernelVersion ending in -linuxkit); by the endpoint alone when the daemon did not answer or was not asked",
    ),
    spec(
        "docker.osx_stopped_containers",
        List,
        "stopped containers created from a docker-osx image (sickcodes/docker-osx*)",
    ),
    spec(
        "docker.osx_containers",
        List,
        "every container created from a docker-osx image, one JSON object each from GET /containers/{id}/json: name, user, group_add, kvm_passed, takes_kvm, x11_mounted, display, headless",
    ),
    spec(
        "docker.published_host_ports",
        List,
        "host ports the containers publish or ask to publish, as NAME [HOSTIP:]HOSTPORT->PORT/PROTO: a running container's Ports[].PublicPort from GET /containers/json, another's HostConfig.PortBindings from GET /containers/{id}/json; asked only of a rootless daemon",
    ),
    spec(
        "docker.osx_container_problems",
        List,
        "what each docker-osx container's configuration lacks, with the docker run flag that adds it (derived from docker.osx_containers, the host's /dev/kvm and DISPLAY)",
    ),
    spec(
        "docker.rootless_socket_exists",
        Bool,
        "$XDG_RUNTIME_DIR/docker.sock exists",
    ),
    spec(
        "docker.daemon_json_path",
        Text,
        "the daemon.json dockerd reads: docker.service's --config-file, else /etc/docker/daemon.json",
    ),
    spec(
        "docker.daemon_json_exists",
        Bool,
        "the daemon.json dockerd reads (docker.daemon_json_path) exists",
    ),
    spec(
        "docker.daemon_json_error",
        Text,
        "what dockerd would say about daemon.json (line:column and message, unknown keys, a key of the wrong type); null when valid",
    ),
    spec(
        "docker.daemon_json_checked_by",
        Text,
        "what judged daemon.json: the installed dockerd's --validate (23.0 and later, only when reading /), or dockdoc's key table and the version from pacman",
    ),
    spec(
        "docker.daemon_json_keys",
        List,
        "top-level keys of daemon.json",
    ),
    spec(
        "docker.daemon_json_hosts",
        List,
        "the `hosts` listed in daemon.json",
    ),
    spec(
        "docker.flag_conflicts",
        List,
        "daemon.json keys that docker.service's ExecStart also sets as flags (e.g. hosts and -H)",
    ),
    spec(
        "docker.exec_start_uses_fd",
        Bool,
        "docker.service's ExecStart listens on fd:// (socket activation)",
    ),
    spec(
        "docker.tcp_without_tls",
        List,
        "tcp:// hosts the daemon listens on without --tlsverify (daemon.json or ExecStart)",
    ),
    spec(
        "docker.daemon_stale",
        Bool,
        "the running daemon is older than the installed docker package",
    ),
    spec(
        "docker.host_overrides_context",
        Bool,
        "DOCKER_HOST is set and sends the CLI away from the context's (or the default) daemon, whose socket exists; false for a remote DOCKER_HOST (tcp, ssh), a choice whose daemon the reachability checks judge",
    ),
    spec(
        "docker.desktop_context",
        Bool,
        "the CLI context is Docker Desktop's desktop-linux",
    ),
    spec(
        "docker.cli_installed",
        Bool,
        "the docker CLI is installed (/usr/bin/docker)",
    ),
    spec(
        "docker.daemon_json_tlsverify",
        Bool,
        "daemon.json sets tlsverify to true",
    ),
    spec(
        "docker.has_flag_conflicts",
        Bool,
        "docker.flag_conflicts is not empty: dockerd refuses to start",
    ),
    spec(
        "docker.exposes_tcp_without_tls",
        Bool,
        "docker.tcp_without_tls is not empty: the API is open on the network without client verification",
    ),
];

const DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// The file facts: binaries, the endpoint and its socket. daemon.json comes later, from
/// [`gather_daemon_json`].
pub fn gather_files(ctx: &Context, facts: &mut Facts) {
    let root = &ctx.sysroot;
    facts.set(
        "docker.binary_installed",
        Fact::known(root.exists("/usr/bin/dockerd") || root.exists("/usr/sbin/dockerd")),
    );
    facts.set(
        "docker.cli_installed",
        Fact::known(root.exists("/usr/bin/docker")),
    );
    gather_endpoint(ctx, facts);
}

/// How the installed dockerd reads daemon.json, judged by the pacman package's version.
fn reader_of_package(facts: &Facts) -> daemon_json::Reader {
    use daemon_json::Reader;
    match facts.get("pacman.docker_version") {
        Fact::Known {
            value: Value::Text(v),
        } if upstream_version(&v).is_empty() => {
            Reader::Unknown(format!("the package version {v:?} does not parse"))
        }
        Fact::Known {
            value: Value::Text(v),
        } if upstream_version(&v) >= vec![23] => Reader::Since23,
        Fact::Known {
            value: Value::Text(_),
        } => Reader::Before23,
        Fact::Known { .. } => Reader::Unknown("no pacman package docker is installed".into()),
        Fact::Unknown { reason } => Reader::Unknown(format!("pacman.docker_version: {reason}")),
        Fact::Skipped { reason } => Reader::Unknown(reason),
    }
}

/// What `dockerd --validate --config-file FILE` said.
#[derive(Debug, PartialEq)]
enum Validation {
    Valid,
    /// dockerd's message, e.g. "unable to configure the Docker daemon with file …: …".
    Invalid(String),
    /// dockerd before 23.0 has no `--validate` ("unknown flag: --validate").
    NoSuchFlag,
    /// It did not run or did not finish; the reason says why.
    Failed(String),
}

/// Runs `dockerd --validate --config-file FILE` with a clean environment (as systemd starts
/// dockerd), no shell and no stdin, killed when `timeout` passes. dockerd only reads here.
async fn validate(dockerd: &str, file: &str, timeout: std::time::Duration) -> Validation {
    let child = tokio::process::Command::new(dockerd)
        .args(["--validate", "--config-file", file])
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin",
        )
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => return Validation::Failed(format!("{dockerd}: {e}")),
    };
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Validation::Failed(format!("{dockerd}: {e}")),
        Err(_) => {
            return Validation::Failed(format!(
                "{dockerd} --validate did not finish within {}",
                humantime::format_duration(timeout)
            ));
        }
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let said = if stderr.is_empty() { stdout } else { stderr };
    if out.status.success() {
        Validation::Valid
    } else if said.contains("unknown flag: --validate") {
        Validation::NoSuchFlag
    } else {
        match said.lines().rev().map(str::trim).find(|l| !l.is_empty()) {
            Some(line) => Validation::Invalid(line.to_owned()),
            None => Validation::Failed(format!("{dockerd} --validate exited with {}", out.status)),
        }
    }
}

/// The dockerd to ask: the program docker.service runs, else the packaged paths.
fn dockerd_binary(
    ctx: &Context,
    flags: &Result<Option<Vec<exec_start::Flag>>, Fact>,
    facts: &Facts,
) -> Option<String> {
    let from_unit = match flags {
        Ok(Some(_)) => facts
            .text("systemd.docker_service_exec_start")
            .and_then(exec_start::program),
        _ => None,
    };
    from_unit
        .into_iter()
        .chain([
            "/usr/bin/dockerd".to_owned(),
            "/usr/sbin/dockerd".to_owned(),
        ])
        .find(|p| ctx.sysroot.exists(p))
}

/// Sets every daemon.json fact but the path to `fact`.
fn set_daemon_json_all(facts: &mut Facts, fact: &Fact) {
    for key in [
        "docker.daemon_json_exists",
        "docker.daemon_json_error",
        "docker.daemon_json_keys",
        "docker.daemon_json_hosts",
        "docker.daemon_json_tlsverify",
        "docker.daemon_json_checked_by",
    ] {
        facts.set(key, fact.clone());
    }
}

/// The daemon.json facts: which file dockerd reads (`--config-file` in docker.service's
/// ExecStart, else /etc/docker/daemon.json), whether it exists, and what dockerd would say of
/// it. Reads `systemd.docker_service_exec_start` and `pacman.docker_version`, so it runs after
/// the systemd facts (the bus's, or the unit files' under `--root`) and the file facts.
///
/// The file is judged by [`daemon_json::parse`]: the key table and the version's BOM and
/// empty-file rules. When that finds fault, dockdoc reads `/`, and the installed dockerd is
/// 23.0 or later (or its version is not known from pacman), dockerd itself is asked:
/// `dockerd --validate --config-file FILE`, under the context's timeout, and its message is
/// the error. A dockerd that refuses the flag is older than 23.0. An unreadable file or
/// directory (EACCES) makes every fact unknown.
pub async fn gather_daemon_json(ctx: &Context, facts: &mut Facts) {
    let flags = exec_flags(facts);
    let named = match &flags {
        Ok(Some(f)) => exec_start::config_file(f),
        _ => None,
    };
    // dockerd resolves a relative --config-file against its working directory, `/` under systemd.
    let path = match named {
        Some(p) if p.starts_with('/') => p,
        Some(p) => format!("/{p}"),
        None => DAEMON_JSON.to_owned(),
    };
    facts.set("docker.daemon_json_path", Fact::known(path.clone()));
    let bytes = match ctx.sysroot.metadata_optional(&path) {
        Ok(None) => {
            facts.set("docker.daemon_json_exists", Fact::known(false));
            facts.set("docker.daemon_json_error", Fact::known(Value::Null));
            facts.set("docker.daemon_json_keys", Fact::known(Vec::<String>::new()));
            facts.set(
                "docker.daemon_json_hosts",
                Fact::known(Vec::<String>::new()),
            );
            facts.set("docker.daemon_json_tlsverify", Fact::known(false));
            facts.set("docker.daemon_json_checked_by", Fact::known(Value::Null));
            return;
        }
        // EACCES on the directory: whether the file exists is as unknown as what it says.
        Err(e) => return set_daemon_json_all(facts, &Fact::unknown(e.to_string())),
        Ok(Some(_)) => match ctx.sysroot.read_bytes(&path) {
            Ok(b) => b,
            Err(e) => {
                set_daemon_json_all(facts, &Fact::unknown(e.to_string()));
                facts.set("docker.daemon_json_exists", Fact::known(true));
                return;
            }
        },
    };
    facts.set("docker.daemon_json_exists", Fact::known(true));

    let mut reader = reader_of_package(facts);
    let table = format!("dockdoc's key table ({})", daemon_json::KEYS_FROM);
    let mut checked_by = table.clone();
    let mut verdict = None;
    let mut parsed = daemon_json::parse(&bytes, &reader);
    // dockerd is asked only when the table finds fault (or cannot judge without the version):
    // a spawn of dockerd costs about 120 ms, ten times a whole run, so a file the table
    // accepts is not checked again; dockerd's own message then replaces the table's.
    if parsed.error != Ok(None)
        && ctx.sysroot.is_live()
        && reader != daemon_json::Reader::Before23
        && let Some(dockerd) = dockerd_binary(ctx, &flags, facts)
    {
        match validate(&dockerd, &path, ctx.timeout).await {
            Validation::Valid => {
                reader = daemon_json::Reader::Since23;
                verdict = Some(None);
                checked_by = format!("{dockerd} --validate");
            }
            Validation::Invalid(message) => {
                reader = daemon_json::Reader::Since23;
                verdict = Some(Some(message));
                checked_by = format!("{dockerd} --validate");
            }
            Validation::NoSuchFlag => {
                reader = daemon_json::Reader::Before23;
                checked_by = format!("{table}; {dockerd} is older than 23.0 (no --validate)");
            }
            Validation::Failed(why) => checked_by = format!("{table}; {why}"),
        }
        parsed = daemon_json::parse(&bytes, &reader);
    }
    facts.set("docker.daemon_json_checked_by", Fact::known(checked_by));
    facts.set(
        "docker.daemon_json_error",
        match (verdict, parsed.error) {
            (Some(said), _) => Fact::known(said),
            (None, Ok(error)) => Fact::known(error),
            (None, Err(why)) => Fact::unknown(format!("{path}: {why}")),
        },
    );
    let unparsed = |what: &str| {
        Fact::unknown(format!(
            "{path}: {what} cannot be read from a file that does not parse"
        ))
    };
    facts.set(
        "docker.daemon_json_keys",
        parsed
            .keys
            .map_or_else(|| unparsed("the keys"), Fact::known),
    );
    facts.set(
        "docker.daemon_json_hosts",
        parsed.hosts.map_or_else(
            || match facts.list("docker.daemon_json_keys") {
                Some(_) => Fact::unknown(format!("{path}: `hosts` is not an array of strings")),
                None => unparsed("`hosts`"),
            },
            Fact::known,
        ),
    );
    facts.set(
        "docker.daemon_json_tlsverify",
        parsed
            .tlsverify
            .map_or_else(|| unparsed("`tlsverify`"), Fact::known),
    );
}

/// The name of a group id per the sysroot's /etc/group; the number when it is not listed.
fn group_name(ctx: &Context, gid: u32) -> Fact {
    match ctx.sysroot.read_string("/etc/group") {
        Ok(text) => Fact::known(
            text.lines()
                .filter_map(|l| {
                    let mut parts = l.split(':');
                    let name = parts.next()?;
                    let id = parts.nth(1)?.trim().parse::<u32>().ok()?;
                    (id == gid).then(|| name.to_owned())
                })
                .next()
                .unwrap_or_else(|| gid.to_string()),
        ),
        Err(e) => Fact::unknown(e.to_string()),
    }
}

/// `/var/run/x` and `/run/x` are the same file on Arch.
fn same_socket(a: &str, b: &str) -> bool {
    let canon = |s: &str| s.replacen("unix:///var/run/", "unix:///run/", 1);
    canon(a) == canon(b)
}

fn gather_endpoint(ctx: &Context, facts: &mut Facts) {
    let resolved = endpoint::resolve(ctx);
    facts.set(
        "docker.endpoint_source",
        Fact::known(resolved.source.clone()),
    );
    facts.set("docker.host_env", Fact::known(resolved.host_env.clone()));
    facts.set(
        "docker.context",
        match &resolved.context {
            Ok(name) => Fact::known(name.clone()),
            Err(e) => Fact::unknown(e.clone()),
        },
    );
    facts.set(
        "docker.desktop_context",
        Fact::known(endpoint::is_desktop(&resolved)),
    );

    let xdg = ctx.env.get("XDG_RUNTIME_DIR");
    facts.set(
        "docker.xdg_runtime_dir",
        Fact::known(xdg.map(str::to_owned)),
    );
    let kind = endpoint::kind(&resolved, xdg, ctx.env.get("HOME"));
    match &resolved.endpoint {
        Ok(uri) => {
            facts.set("docker.endpoint", Fact::known(uri.clone()));
            facts.set("docker.endpoint_kind", Fact::known(kind));
            let mode = match kind {
                "rootless" => "rootless",
                "remote" => "remote",
                _ => "rootful",
            };
            facts.set("docker.mode", Fact::known(mode));
            let path = endpoint::socket_path(uri);
            facts.set("docker.socket_path", Fact::known(path));
            gather_socket(ctx, facts, path);
        }
        Err(reason) => {
            for key in [
                "docker.endpoint",
                "docker.endpoint_kind",
                "docker.mode",
                "docker.socket_path",
                "docker.socket_exists",
                "docker.socket_group",
                "docker.socket_mode",
            ] {
                facts.set(key, Fact::unknown(reason.clone()));
            }
        }
    }

    let runtime_dir = match (xdg, facts.int("user.uid")) {
        (Some(dir), _) => Some(dir.trim_end_matches('/').to_owned()),
        (None, Some(uid)) => Some(format!("/run/user/{uid}")),
        (None, None) => None,
    };
    facts.set(
        "docker.rootless_socket_exists",
        match runtime_dir {
            Some(dir) => Fact::known(ctx.sysroot.exists(&format!("{dir}/docker.sock"))),
            None => Fact::unknown("XDG_RUNTIME_DIR is not set and the user's uid is unknown"),
        },
    );

    facts.set(
        "docker.host_overrides_context",
        host_overrides(ctx, &resolved),
    );
}

/// The socket's owner, group and mode. The socket of an endpoint given with `--docker-host` is
/// the one that is contacted, so it is looked at on this machine even under `--root`: one report
/// never mixes two machines. Otherwise it is read through the sysroot like every file.
fn gather_socket(ctx: &Context, facts: &mut Facts, path: Option<&str>) {
    use std::os::unix::fs::MetadataExt;
    let live;
    let ctx = if ctx.endpoints.docker_host.is_some() && !ctx.sysroot.is_live() {
        live = Context {
            sysroot: super::Sysroot::new("/"),
            ..ctx.clone()
        };
        &live
    } else {
        ctx
    };
    let Some(path) = path else {
        // tcp:// and ssh:// endpoints have no socket file on this machine.
        for key in [
            "docker.socket_exists",
            "docker.socket_group",
            "docker.socket_mode",
        ] {
            facts.set(key, Fact::known(Value::Null));
        }
        return;
    };
    match ctx.sysroot.metadata_optional(path) {
        Ok(None) => {
            facts.set("docker.socket_exists", Fact::known(false));
            facts.set("docker.socket_group", Fact::known(Value::Null));
            facts.set("docker.socket_mode", Fact::known(Value::Null));
        }
        Ok(Some(meta)) => {
            facts.set("docker.socket_exists", Fact::known(true));
            facts.set("docker.socket_group", group_name(ctx, meta.gid()));
            facts.set(
                "docker.socket_mode",
                Fact::known(format!("{:04o}", meta.mode() & 0o7777)),
            );
        }
        Err(e) => {
            for key in [
                "docker.socket_exists",
                "docker.socket_group",
                "docker.socket_mode",
            ] {
                facts.set(key, Fact::unknown(e.to_string()));
            }
        }
    }
}

/// DOCKER_HOST overrides the context when it is set, differs from the configured context's (or
/// the default) endpoint, and that endpoint's socket exists: a daemon is there, and DOCKER_HOST
/// sends the CLI elsewhere. Only files are looked at here: the endpoint DOCKER_HOST hides is
/// never contacted. A DOCKER_HOST whose daemon answers is a choice, not an override to undo;
/// [`derive`] clears the fact for a remote endpoint that answered.
fn host_overrides(ctx: &Context, resolved: &endpoint::Resolved) -> Fact {
    let Some(host) = &resolved.host_env else {
        return Fact::known(false);
    };
    let host = if host.starts_with('/') {
        format!("unix://{host}")
    } else {
        host.clone()
    };
    // DOCKER_HOST=ssh://… or tcp://… is a choice, not a leftover: whether its daemon answers is
    // for the reachability checks to judge, not whether it is local.
    if endpoint::is_remote(&host) {
        return Fact::known(false);
    }
    match &resolved.context_endpoint {
        Ok(other) if same_socket(other, &host) => Fact::known(false),
        Ok(other) => {
            Fact::known(endpoint::socket_path(other).is_some_and(|p| ctx.sysroot.exists(p)))
        }
        Err(e) => Fact::unknown(e.clone()),
    }
}

/// The live facts: the daemon at the resolved endpoint.
pub async fn gather(ctx: &Context) -> Facts {
    if !ctx.endpoints.use_defaults && ctx.endpoints.docker_host.is_none() {
        let mut facts = Facts::default();
        let skipped = Fact::skipped(ctx.live_skip_reason("the Docker daemon", "--docker-host"));
        for key in live::KEYS {
            facts.set(key, skipped.clone());
        }
        return facts;
    }
    let resolved = endpoint::resolve(ctx);
    // Only a rootless daemon cannot publish a port below net.ipv4.ip_unprivileged_port_start.
    let kind = endpoint::kind(
        &resolved,
        ctx.env.get("XDG_RUNTIME_DIR"),
        ctx.env.get("HOME"),
    );
    let asks = live::Asks {
        min_api_version: ctx.ask_min_api_version,
        published_ports: kind == "rootless",
    };
    match resolved.endpoint {
        Ok(uri) => live::probe(&uri, ctx.timeout, asks).await,
        Err(reason) => {
            let mut facts = Facts::default();
            for key in live::KEYS {
                facts.set(key, Fact::unknown(reason.clone()));
            }
            facts
        }
    }
}

/// Carries an unknown or skipped input through to a derived fact.
pub(crate) fn blocked(facts: &Facts, key: &str) -> Option<Fact> {
    match facts.get(key) {
        Fact::Known { .. } => None,
        Fact::Unknown { reason } => Some(Fact::unknown(format!("{key}: {reason}"))),
        Fact::Skipped { reason } => Some(Fact::skipped(reason)),
    }
}

/// The flags of docker.service's ExecStart: `Ok(None)` when there is no such unit.
fn exec_flags(facts: &Facts) -> Result<Option<Vec<exec_start::Flag>>, Fact> {
    const KEY: &str = "systemd.docker_service_exec_start";
    match facts.get(KEY) {
        // From the bus, or from the unit files on disk under --root (units::gather): the
        // ExecStart systemd runs, or would run at the root's next boot.
        Fact::Known {
            value: Value::Text(line),
        } => Ok(Some(exec_start::flags(&line))),
        Fact::Known { .. } => Ok(None),
        // Without systemd as PID 1 there is no docker.service whose flags could matter, unless
        // a system bus was reached explicitly (--system-bus: systemd in a container).
        _ if facts.bool("os.systemd_booted") == Some(false)
            && facts.bool("systemd.system_bus") != Some(true) =>
        {
            Ok(None)
        }
        _ => Err(blocked(facts, KEY)
            .unwrap_or_else(|| Fact::unknown(format!("{KEY}: not a command line")))),
    }
}

/// Facts combined from several modules; runs after every probe.
pub fn derive(facts: &mut Facts) {
    let flags = exec_flags(facts);

    let uses_fd = match &flags {
        Ok(Some(f)) => Fact::known(exec_start::hosts(f).iter().any(|h| h.starts_with("fd://"))),
        Ok(None) => Fact::known(false),
        Err(f) => f.clone(),
    };
    facts.set("docker.exec_start_uses_fd", uses_fd);

    let conflicts = match (facts.list("docker.daemon_json_keys"), &flags) {
        (Some([]), _) | (Some(_), Ok(None)) => Fact::known(Vec::<String>::new()),
        (Some(keys), Ok(Some(f))) => {
            // `runtimes` and `--add-runtime` merge (moby's skipDuplicates): no conflict.
            let mut both: Vec<String> = keys
                .iter()
                .filter(|k| *k != "runtimes" && f.iter().any(|flag| flag.key == **k))
                .cloned()
                .collect();
            both.dedup();
            Fact::known(both)
        }
        (None, _) => blocked(facts, "docker.daemon_json_keys")
            .unwrap_or_else(|| Fact::unknown("docker.daemon_json_keys: not a list")),
        (Some(_), Err(f)) => f.clone(),
    };
    facts.set("docker.has_flag_conflicts", non_empty(&conflicts));
    facts.set("docker.flag_conflicts", conflicts);

    let tcp = tcp_without_tls(facts, &flags);
    facts.set("docker.exposes_tcp_without_tls", non_empty(&tcp));
    facts.set("docker.tcp_without_tls", tcp);

    let stale = daemon_stale(facts);
    facts.set("docker.daemon_stale", stale);

    let desktop = desktop_daemon(facts);
    facts.set("docker.desktop_daemon", desktop);

    osx::derive(facts);
}

fn non_empty(list: &Fact) -> Fact {
    match list {
        Fact::Known {
            value: Value::List(l),
        } => Fact::known(!l.is_empty()),
        other => other.clone(),
    }
}

fn tcp_without_tls(facts: &Facts, flags: &Result<Option<Vec<exec_start::Flag>>, Fact>) -> Fact {
    for key in ["docker.daemon_json_hosts", "docker.daemon_json_tlsverify"] {
        if let Some(f) = blocked(facts, key) {
            return f;
        }
    }
    let flags = match flags {
        Ok(f) => f.clone().unwrap_or_default(),
        Err(f) => return f.clone(),
    };
    let tls =
        facts.bool("docker.daemon_json_tlsverify") == Some(true) || exec_start::tlsverify(&flags);
    if tls {
        return Fact::known(Vec::<String>::new());
    }
    let mut tcp: Vec<String> = Vec::new();
    for host in facts
        .list("docker.daemon_json_hosts")
        .unwrap_or_default()
        .iter()
        .cloned()
        .chain(exec_start::hosts(&flags))
    {
        if host.starts_with("tcp://") && !tcp.contains(&host) {
            tcp.push(host);
        }
    }
    Fact::known(tcp)
}

/// `1:27.3.1-1` → `27.3.1`; `27.3.1` stays; `20.10.24+dfsg1` → `20.10.24`.
fn upstream_version(v: &str) -> Vec<u64> {
    let v = v.split_once(':').map_or(v, |(_, rest)| rest);
    let v = v.rsplit_once('-').map_or(v, |(upstream, _)| upstream);
    v.split('.')
        .map_while(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

/// Docker Desktop, by its endpoint or by what its daemon answers in `/info`. Desktop's VM runs
/// LinuxKit, whose kernels end in `-linuxkit`, and calls itself "Docker Desktop". A daemon that
/// did not answer (or was not asked) says nothing: the endpoint alone decides then.
fn desktop_daemon(facts: &Facts) -> Fact {
    if let Some(f) = blocked(facts, "docker.endpoint_kind") {
        return f;
    }
    let by_endpoint = facts.text("docker.endpoint_kind") == Some("desktop");
    let by_info = facts.text("docker.operating_system") == Some("Docker Desktop")
        || facts
            .text("docker.kernel_version")
            .is_some_and(|k| k.trim_end().ends_with("-linuxkit"));
    Fact::known(by_endpoint || by_info)
}

fn daemon_stale(facts: &Facts) -> Fact {
    for key in ["docker.server_version", "pacman.docker_version"] {
        if let Some(f) = blocked(facts, key) {
            return f;
        }
    }
    match (
        facts.text("docker.server_version"),
        facts.text("pacman.docker_version"),
    ) {
        (Some(running), Some(installed)) => {
            let (r, i) = (upstream_version(running), upstream_version(installed));
            if r.is_empty() || i.is_empty() {
                Fact::unknown(format!(
                    "cannot compare the versions {running:?} and {installed:?}"
                ))
            } else {
                Fact::known(r < i)
            }
        }
        // No daemon version or no installed package: nothing to be stale against.
        _ => Fact::known(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, Fact)]) -> Facts {
        let mut f = Facts::default();
        for (k, v) in pairs {
            f.set(k, v.clone());
        }
        f
    }

    #[test]
    fn desktop_by_endpoint_or_by_info() {
        let kind = |k: &str| ("docker.endpoint_kind", Fact::known(k));
        let os = |o: &str| ("docker.operating_system", Fact::known(o));
        let kernel = |k: &str| ("docker.kernel_version", Fact::known(k));
        let desktop = |pairs: &[(&str, Fact)]| desktop_daemon(&with(pairs));
        assert_eq!(desktop(&[kind("desktop")]), Fact::known(true));
        assert_eq!(
            desktop(&[kind("other"), os("Docker Desktop")]),
            Fact::known(true)
        );
        assert_eq!(
            desktop(&[kind("system"), kernel("6.10.14-linuxkit")]),
            Fact::known(true)
        );
        assert_eq!(
            desktop(&[kind("system"), os("Arch Linux"), kernel("6.12.1-arch1-1")]),
            Fact::known(false)
        );
        let silent = Fact::unknown("the daemon did not answer");
        assert_eq!(
            desktop(&[
                kind("system"),
                ("docker.operating_system", silent.clone()),
                ("docker.kernel_version", silent)
            ]),
            Fact::known(false)
        );
        assert!(matches!(
            desktop(&[("docker.endpoint_kind", Fact::unknown("no HOME"))]),
            Fact::Unknown { .. }
        ));
    }

    #[test]
    fn versions() {
        assert_eq!(upstream_version("1:27.3.1-1"), [27, 3, 1]);
        assert_eq!(upstream_version("27.3.1"), [27, 3, 1]);
        assert_eq!(upstream_version("20.10.24+dfsg1"), [20, 10, 24]);
        assert_eq!(upstream_version("28.0.0-rc.1"), [28, 0, 0]);
    }

    #[test]
    fn stale_daemon() {
        let f = with(&[
            ("docker.server_version", Fact::known("27.2.0")),
            ("pacman.docker_version", Fact::known("1:27.3.1-1")),
        ]);
        assert_eq!(daemon_stale(&f), Fact::known(true));
        let f = with(&[
            ("docker.server_version", Fact::known("27.3.1")),
            ("pacman.docker_version", Fact::known("1:27.3.1-1")),
        ]);
        assert_eq!(daemon_stale(&f), Fact::known(false));
        let f = with(&[
            ("docker.server_version", Fact::skipped("not contacted")),
            ("pacman.docker_version", Fact::known("1:27.3.1-1")),
        ]);
        assert_eq!(daemon_stale(&f), Fact::skipped("not contacted"));
        let f = with(&[
            ("docker.server_version", Fact::known("27.3.1")),
            ("pacman.docker_version", Fact::unknown("no db")),
        ]);
        assert_eq!(
            daemon_stale(&f),
            Fact::unknown("pacman.docker_version: no db")
        );
    }

    #[test]
    fn derive_conflicts_fd_and_tcp() {
        let mut f = with(&[
            (
                "systemd.docker_service_exec_start",
                Fact::known(
                    "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
                ),
            ),
            (
                "docker.daemon_json_keys",
                Fact::known(vec!["hosts".to_owned(), "log-driver".to_owned()]),
            ),
            (
                "docker.daemon_json_hosts",
                Fact::known(vec![
                    "unix:///run/docker.sock".to_owned(),
                    "tcp://0.0.0.0:2375".to_owned(),
                ]),
            ),
            ("docker.daemon_json_tlsverify", Fact::known(false)),
        ]);
        derive(&mut f);
        assert_eq!(f.get("docker.exec_start_uses_fd"), Fact::known(true));
        assert_eq!(
            f.get("docker.flag_conflicts"),
            Fact::known(vec!["hosts".to_owned()])
        );
        assert_eq!(f.get("docker.has_flag_conflicts"), Fact::known(true));
        assert_eq!(
            f.get("docker.tcp_without_tls"),
            Fact::known(vec!["tcp://0.0.0.0:2375".to_owned()])
        );
        assert_eq!(f.get("docker.exposes_tcp_without_tls"), Fact::known(true));
    }

    #[test]
    fn derive_without_systemd() {
        let mut f = with(&[
            (
                "systemd.docker_service_exec_start",
                Fact::skipped("systemd is not contacted"),
            ),
            ("docker.daemon_json_keys", Fact::known(Vec::<String>::new())),
            (
                "docker.daemon_json_hosts",
                Fact::known(Vec::<String>::new()),
            ),
            ("docker.daemon_json_tlsverify", Fact::known(false)),
        ]);
        derive(&mut f);
        // No daemon.json keys: nothing can conflict, whatever ExecStart says.
        assert_eq!(
            f.get("docker.flag_conflicts"),
            Fact::known(Vec::<String>::new())
        );
        assert_eq!(
            f.get("docker.exec_start_uses_fd"),
            Fact::skipped("systemd is not contacted")
        );
        assert_eq!(
            f.get("docker.tcp_without_tls"),
            Fact::skipped("systemd is not contacted")
        );
        let mut f = with(&[
            (
                "systemd.docker_service_exec_start",
                Fact::known(Value::Null),
            ),
            (
                "docker.daemon_json_keys",
                Fact::known(vec!["hosts".to_owned()]),
            ),
            (
                "docker.daemon_json_hosts",
                Fact::known(vec!["tcp://0.0.0.0:2376".to_owned()]),
            ),
            ("docker.daemon_json_tlsverify", Fact::known(true)),
        ]);
        derive(&mut f);
        assert_eq!(f.get("docker.exec_start_uses_fd"), Fact::known(false));
        assert_eq!(f.get("docker.has_flag_conflicts"), Fact::known(false));
        assert_eq!(f.get("docker.exposes_tcp_without_tls"), Fact::known(false));
    }

    #[test]
    fn runtimes_and_add_runtime_merge_without_conflict() {
        let mut f = with(&[
            (
                "systemd.docker_service_exec_start",
                Fact::known("/usr/bin/dockerd -H fd:// --add-runtime crun=/usr/bin/crun --debug"),
            ),
            (
                "docker.daemon_json_keys",
                Fact::known(vec!["debug".to_owned(), "runtimes".to_owned()]),
            ),
            (
                "docker.daemon_json_hosts",
                Fact::known(Vec::<String>::new()),
            ),
            ("docker.daemon_json_tlsverify", Fact::known(false)),
        ]);
        derive(&mut f);
        assert_eq!(
            f.get("docker.flag_conflicts"),
            Fact::known(vec!["debug".to_owned()])
        );
    }

    #[test]
    fn the_package_version_says_how_daemon_json_is_read() {
        use daemon_json::Reader;
        let reader = |v: Fact| reader_of_package(&with(&[("pacman.docker_version", v)]));
        assert_eq!(reader(Fact::known("1:27.3.1-1")), Reader::Since23);
        assert_eq!(reader(Fact::known("1:23.0.0-1")), Reader::Since23);
        assert_eq!(reader(Fact::known("1:20.10.24-1")), Reader::Before23);
        assert_eq!(
            reader(Fact::known(Value::Null)),
            Reader::Unknown("no pacman package docker is installed".into())
        );
        assert_eq!(
            reader(Fact::unknown("no db")),
            Reader::Unknown("pacman.docker_version: no db".into())
        );
    }
}
