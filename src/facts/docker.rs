//! Docker: the endpoint the CLI would use (flag, DOCKER_HOST, context, default), the socket's
//! owner, group and mode, and the daemon itself over its HTTP API (`/info`, and when asked
//! `/version` and the containers). Also the daemon.json that dockerd reads.
//!
//! [`gather_files`] reads through the sysroot and always runs; [`gather`] contacts the daemon
//! (never under `--root` unless `--docker-host` was given); [`gather_daemon_json`] runs once
//! docker.service's ExecStart and the pacman package are known, because they say which file
//! dockerd reads and how; [`derive`] combines these with other modules' facts.

pub mod api;
pub mod config_dir;
pub mod credentials;
pub mod daemon_json;
pub mod endpoint;
pub mod exec_start;
pub mod live;
pub mod origin;
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
    spec(
        "docker.socket_exists",
        Bool,
        "a socket exists at docker.socket_path (a directory or a regular file there is not one)",
    ),
    spec(
        "docker.socket_file_type",
        Text,
        "what is at docker.socket_path (symlinks followed), as an error message names it: a socket, a directory, a regular file, a FIFO, …; null when nothing is there or the endpoint has no socket",
    ),
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
    spec("docker.reachable", Bool, "the daemon answered /info"),
    spec(
        "docker.unreachable_reason",
        Text,
        "why the daemon did not answer (connection, HTTP status or a body that is not valid); null when it answered",
    ),
    spec(
        "docker.server_version",
        Text,
        "the daemon's version (/info ServerVersion, else the Server header of its answer)",
    ),
    spec(
        "docker.min_api_version",
        Text,
        "the oldest API version the daemon accepts (/version MinAPIVersion, e.g. 1.44 on Docker 29.0); asked only when a selected check reads it",
    ),
    spec(
        "docker.api_version",
        Text,
        "the newest API version the daemon speaks (the Api-Version header of its answer to /info)",
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
        "docker.live_restore",
        Bool,
        "the daemon keeps containers running while it restarts (/info LiveRestoreEnabled)",
    ),
    spec(
        "docker.running_containers",
        List,
        "the names of the running (or paused) containers (GET /containers/json); a restart of the daemon stops them unless live-restore is on",
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
        "what judged daemon.json: the installed dockerd's --validate (23.0 and later, only when reading /; asked when the key table finds fault, or while no dockerd has accepted the file: none runs, docker.service failed, or the file changed after the running dockerd started), or dockdoc's key table and the version from pacman, with why dockerd was not asked",
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
        "docker.daemon_json_dns",
        List,
        "the `dns` addresses listed in daemon.json, which replace the host's nameservers for containers; empty without the key",
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
        "docker.host_set_in",
        List,
        "the lines that set DOCKER_HOST, as FILE:LINE: ~/.bashrc, ~/.bash_profile, ~/.profile, the zsh files, /etc/profile and profile.d, /etc/bash.bashrc, /etc/environment, environment.d, fish's config.fish, conf.d and fish_variables; read only when DOCKER_HOST is set",
    ),
    spec(
        "docker.endpoint_origin",
        Text,
        "where the endpoint is configured, in words: the FILE:LINE that set DOCKER_HOST, or the context and what chose it",
    ),
    spec(
        "docker.local_daemon_instead",
        Text,
        "whether a local daemon's socket (/run/docker.sock, else the user's rootless socket) is there to answer instead of the endpoint, in words",
    ),
    spec(
        "docker.credential_helpers",
        List,
        "the credential helpers ~/.docker/config.json names, as `credsStore NAME` or `credHelpers REGISTRY NAME`",
    ),
    spec(
        "docker.credential_helper_problems",
        List,
        "what keeps each named helper from running: docker-credential-NAME not on PATH, `pass` or its store (.gpg-id) missing, `desktop` without Docker Desktop (/opt/docker-desktop)",
    ),
    spec(
        "docker.credential_helper_unusable",
        Bool,
        "docker.credential_helper_problems is not empty: docker login, pull and push fail on credentials",
    ),
    spec(
        "docker.cli_config_file",
        Text,
        "the config.json the docker CLI reads its contexts and logins from: $DOCKER_CONFIG/config.json, else ~/.docker/config.json of HOME (root's through sudo); null without either variable",
    ),
    spec(
        "docker.hub_login",
        Text,
        "how the docker CLI authenticates its pulls from Docker Hub (docker/cli's lookup of `https://index.docker.io/v1/`): `DOCKER_AUTH_CONFIG` (that variable holds the login, CLI 28.3 and later), `credHelpers NAME` or `credsStore NAME` (a helper keeps it, and config.json records the `docker login`), `auths` (config.json holds it); null when it pulls anonymously; unknown when a helper is named but no login is recorded",
    ),
    spec(
        "docker.registry_mirrors",
        List,
        "the mirrors the daemon pulls Docker Hub's images through (/info RegistryConfig.Mirrors, set by `registry-mirrors` in daemon.json or --registry-mirror)",
    ),
    spec(
        "docker.daemon_json_registry_mirrors",
        List,
        "daemon.json's `registry-mirrors`; empty without the key or the file",
    ),
    spec(
        "docker.hub_mirrors",
        List,
        "the mirrors the daemon pulls Docker Hub's images through: docker.registry_mirrors when the daemon answered, else what it is configured with, docker.daemon_json_registry_mirrors and docker.service's `--registry-mirror` flags",
    ),
    spec(
        "docker.config_dir",
        Text,
        "the docker CLI's configuration directory: $DOCKER_CONFIG, else ~/.docker of the judged user's home",
    ),
    spec(
        "docker.config_dir_foreign",
        List,
        "entries of docker.config_dir (itself and down to 5 levels; not cli-plugins/) in the judged user's way: owned by another user (root, or not the owner of the user's home), and a directory the user cannot make files in or a file the user cannot read through group or other bits, as `PATH (owner NAME)` (at most 8, then `and N more`); empty for root",
    ),
    spec(
        "docker.config_dir_not_owned",
        Bool,
        "docker.config_dir_foreign is not empty: the CLI and buildx cannot write there, or read config.json",
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
        "docker.daemon_json_iptables",
        Bool,
        "daemon.json leaves iptables on: it does not say `\"iptables\": false`",
    ),
    spec(
        "docker.iptables_enabled",
        Bool,
        "dockerd manages iptables rules: neither daemon.json (`\"iptables\": false`) nor docker.service's ExecStart (`--iptables=false`) turns it off",
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
/// dockerd's pid file unless `--pidfile` says otherwise (moby's default on Linux).
const DOCKERD_PIDFILE: &str = "/run/docker.pid";
/// How much of each of `dockerd --validate`'s output streams is read (its message is one line).
const VALIDATE_OUTPUT_BYTES: u64 = 64 * 1024;

/// The dockerd that runs now, as its pid file and /proc show it.
#[derive(Debug, PartialEq)]
enum RunningDockerd {
    /// The pid, and when the process started.
    Since(u32, std::time::SystemTime),
    /// No pid file, or its pid is not a running dockerd.
    None,
}

/// When the process `pid` started: `starttime` (clock ticks after boot, field 22 of
/// /proc/PID/stat) added to the boot time (`btime` of /proc/stat, whole seconds).
fn process_start(pid: u32) -> Result<Option<std::time::SystemTime>, String> {
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("/proc/{pid}/stat: {e}")),
    };
    // The command name is in parentheses and may hold spaces and parentheses itself.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return Err(format!("/proc/{pid}/stat does not parse"));
    };
    if stat.get(open + 1..close) != Some("dockerd") {
        return Ok(None);
    }
    let ticks: u64 = stat
        .get(close + 1..)
        .and_then(|rest| rest.split_whitespace().nth(19))
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("/proc/{pid}/stat has no start time"))?;
    let boot: u64 = std::fs::read_to_string("/proc/stat")
        .map_err(|e| format!("/proc/stat: {e}"))?
        .lines()
        .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
        .ok_or("/proc/stat has no btime")?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|hz| *hz > 0)
        .and_then(|hz| u64::try_from(hz).ok())
        .ok_or("sysconf(_SC_CLK_TCK) gave no value")?;
    let after_boot = std::time::Duration::from_millis(ticks.saturating_mul(1000) / hz);
    Ok(Some(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(boot) + after_boot,
    ))
}

/// The running dockerd named by `pidfile` (on this machine: only read when judging `/`).
fn running_dockerd(pidfile: &str) -> Result<RunningDockerd, String> {
    let text = match std::fs::read_to_string(pidfile) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RunningDockerd::None),
        Err(e) => return Err(format!("{pidfile}: {e}")),
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return Ok(RunningDockerd::None);
    };
    Ok(match process_start(pid)? {
        Some(start) => RunningDockerd::Since(pid, start),
        None => RunningDockerd::None,
    })
}

/// Whether a daemon.json the key table accepts is worth `dockerd --validate` (about 120 ms):
/// `Ok(why)` when dockerd has not accepted this file yet (no dockerd runs, docker.service
/// failed, or the file changed after the running dockerd started, or that cannot be told);
/// `Err(why not)` when the running dockerd started after the file's last change and so
/// accepted it.
fn accepted_file_needs_dockerd(
    facts: &Facts,
    flags: &Result<Option<Vec<exec_start::Flag>>, Fact>,
    modified: Option<std::time::SystemTime>,
) -> Result<String, String> {
    let failed = facts.text("systemd.docker_service_active_state") == Some("failed")
        || facts.text("systemd.docker_activation") == Some("failed");
    if failed {
        return Ok("docker.service failed".into());
    }
    let pidfile = match flags {
        Ok(Some(f)) => f
            .iter()
            .rev()
            .find(|f| f.key == "pidfile")
            .and_then(|f| f.value.clone()),
        _ => None,
    }
    .unwrap_or_else(|| DOCKERD_PIDFILE.to_owned());
    match running_dockerd(&pidfile) {
        Ok(RunningDockerd::None) => Ok(format!("no dockerd runs ({pidfile})")),
        Ok(RunningDockerd::Since(pid, start)) => match modified {
            // btime has whole seconds: an edit within a second of the start counts as later.
            Some(m) if m + std::time::Duration::from_secs(1) < start => Err(format!(
                "the running dockerd (pid {pid}) started after the file's last change and accepted it"
            )),
            Some(_) => Ok(format!(
                "the file changed after the running dockerd (pid {pid}) started"
            )),
            None => Ok("the file's modification time is unknown".into()),
        },
        Err(why) => Ok(format!("whether dockerd runs is unknown: {why}")),
    }
}

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
    gather_credentials(ctx, facts);
    gather_config_dir(ctx, facts);
}

/// What in the CLI's configuration directory is in the judged user's way.
fn gather_config_dir(ctx: &Context, facts: &mut Facts) {
    let home = super::user::judged_home(ctx, facts);
    // Through sudo, HOME may still be root's (when the invoking shell was not found among the
    // parents): the user's own home is the one in /etc/passwd, as judged_home says.
    let through_sudo = facts.text("user.sudo_user").is_some();
    let dir = match endpoint::config_dir(ctx) {
        Some(d) if !d.starts_with('/') => Err(format!(
            "DOCKER_CONFIG is `{d}`, a relative path, which depends on the directory docker runs in"
        )),
        Some(d) if !through_sudo || ctx.env.get("DOCKER_CONFIG").is_some() => Ok(d),
        _ => home
            .as_ref()
            .map(|h| format!("{h}/.docker"))
            .ok_or_else(|| "neither DOCKER_CONFIG nor the user's home is known".to_owned()),
    };
    let dir = match dir {
        Ok(d) => d,
        Err(why) => {
            for key in ["docker.config_dir", "docker.config_dir_foreign"] {
                facts.set(key, Fact::unknown(why.clone()));
            }
            return;
        }
    };
    facts.set("docker.config_dir", Fact::known(dir.clone()));
    let Some(uid) = facts.int("user.uid").and_then(|u| u32::try_from(u).ok()) else {
        facts.set(
            "docker.config_dir_foreign",
            Fact::unknown(format!("user.uid: {}", facts.get("user.uid"))),
        );
        return;
    };
    if uid == 0 {
        // Root may write anywhere.
        facts.set(
            "docker.config_dir_foreign",
            Fact::known(Vec::<String>::new()),
        );
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let home_owner = home
        .as_deref()
        .and_then(|h| ctx.sysroot.metadata(h).ok())
        .map(|m| m.uid());
    // The groups and names are read only when an entry of another user is looked at.
    let passwd = std::cell::OnceCell::new();
    let passwd = || {
        passwd.get_or_init(|| {
            ctx.sysroot
                .read_string(super::user::PASSWD)
                .map(|t| super::user::parse_passwd(&t))
                .unwrap_or_default()
        })
    };
    let gids = std::cell::OnceCell::new();
    let in_group = |gid: u32| {
        gids.get_or_init(|| {
            let groups = ctx
                .sysroot
                .read_string(super::user::GROUP)
                .map(|t| super::user::parse_group(&t))
                .unwrap_or_default();
            let names = facts
                .get("user.groups_configured")
                .as_list()
                .map(<[String]>::to_vec)
                .unwrap_or_default();
            groups
                .iter()
                .filter(|g| names.contains(&g.name))
                .map(|g| g.gid)
                .chain(passwd().iter().filter(|e| e.uid == uid).map(|e| e.gid))
                .collect::<Vec<u32>>()
        })
        .contains(&gid)
    };
    let who = config_dir::Judged {
        uid,
        home_owner,
        in_group: &in_group,
    };
    let fact = match config_dir::owners(ctx, &dir, &who) {
        Ok(found) => Fact::known(found.named(&|u: u32| {
            passwd()
                .iter()
                .find(|e| e.uid == u)
                .map_or_else(|| format!("uid {u}"), |e| e.name.clone())
        })),
        Err(why) => Fact::unknown(why),
    };
    facts.set("docker.config_dir_foreign", fact);
}

/// The credential helpers config.json names and what keeps each from running.
fn gather_credentials(ctx: &Context, facts: &mut Facts) {
    // Without DOCKER_CONFIG and HOME (a system service) there is no config.json to read, as
    // for the context.
    let Some(dir) = endpoint::config_dir(ctx) else {
        let none = Fact::known(Vec::<String>::new());
        facts.set("docker.credential_helpers", none.clone());
        facts.set("docker.credential_helper_problems", none);
        facts.set("docker.cli_config_file", Fact::known(None::<String>));
        facts.set(
            "docker.hub_login",
            credentials::hub_login_without_file(
                ctx,
                "neither DOCKER_CONFIG nor HOME is set, so which config.json the docker CLI reads is not known",
            ),
        );
        return;
    };
    let config = format!("{dir}/config.json");
    facts.set("docker.cli_config_file", Fact::known(config.clone()));
    // `DOCKER_CONFIG=/` is trimmed to nothing: the root, not a relative path.
    if !dir.is_empty() && !dir.starts_with('/') {
        let why = format!(
            "DOCKER_CONFIG={dir} is a relative path, which the docker CLI resolves against the directory it runs in"
        );
        let relative = Fact::unknown(why.clone());
        facts.set("docker.credential_helpers", relative.clone());
        facts.set("docker.credential_helper_problems", relative);
        facts.set(
            "docker.hub_login",
            credentials::hub_login_without_file(ctx, &why),
        );
        return;
    }
    let dirs = credentials::search_path(ctx.env.get("PATH"));
    let password_store = ctx
        .env
        .get("PASSWORD_STORE_DIR")
        .map(|d| d.trim_end_matches('/').to_owned())
        .or_else(|| super::user::judged_home(ctx, facts).map(|h| format!("{h}/.password-store")));
    let host = credentials::Host {
        dirs: &dirs,
        password_store,
    };
    let judged = match ctx.sysroot.read_optional(&config) {
        Ok(text) => credentials::judge(ctx, &host, &config, text.as_deref()),
        Err(e) => {
            let f = Fact::unknown(e.to_string());
            credentials::Judged {
                helpers: f.clone(),
                problems: f.clone(),
                hub_login: f,
            }
        }
    };
    facts.set("docker.credential_helpers", judged.helpers);
    facts.set("docker.credential_helper_problems", judged.problems);
    facts.set("docker.hub_login", judged.hub_login);
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
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Validation::Failed(format!("{dockerd}: {e}")),
    };
    // Each stream is read up to VALIDATE_OUTPUT_BYTES; a dockerd that writes more blocks on
    // the full pipe and is killed at the timeout (kill_on_drop).
    let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    let run = async {
        use tokio::io::AsyncReadExt;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let read_out = async {
            if let Some(s) = stdout.as_mut() {
                let _ = s.take(VALIDATE_OUTPUT_BYTES).read_to_end(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(s) = stderr.as_mut() {
                let _ = s.take(VALIDATE_OUTPUT_BYTES).read_to_end(&mut err).await;
            }
        };
        tokio::join!(read_out, read_err);
        child.wait().await.map(|status| (status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout(timeout, run).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return Validation::Failed(format!("{dockerd}: {e}")),
        Err(_) => {
            return Validation::Failed(format!(
                "{dockerd} --validate did not finish within {}",
                humantime::format_duration(timeout)
            ));
        }
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    let (stdout, stderr) = (text(&out), text(&err));
    let said = if stderr.is_empty() { stdout } else { stderr };
    if status.success() {
        Validation::Valid
    } else if said.contains("unknown flag: --validate") {
        Validation::NoSuchFlag
    } else {
        match said.lines().rev().map(str::trim).find(|l| !l.is_empty()) {
            Some(line) => Validation::Invalid(line.to_owned()),
            None => Validation::Failed(format!("{dockerd} --validate exited with {status}")),
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
        "docker.daemon_json_dns",
        "docker.daemon_json_registry_mirrors",
        "docker.daemon_json_tlsverify",
        "docker.daemon_json_iptables",
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
    let (bytes, modified) = match ctx.sysroot.metadata_optional(&path) {
        Ok(None) => {
            facts.set("docker.daemon_json_exists", Fact::known(false));
            facts.set("docker.daemon_json_error", Fact::known(Value::Null));
            facts.set("docker.daemon_json_keys", Fact::known(Vec::<String>::new()));
            facts.set(
                "docker.daemon_json_hosts",
                Fact::known(Vec::<String>::new()),
            );
            facts.set("docker.daemon_json_dns", Fact::known(Vec::<String>::new()));
            facts.set(
                "docker.daemon_json_registry_mirrors",
                Fact::known(Vec::<String>::new()),
            );
            facts.set("docker.daemon_json_tlsverify", Fact::known(false));
            facts.set("docker.daemon_json_iptables", Fact::known(true));
            facts.set("docker.daemon_json_checked_by", Fact::known(Value::Null));
            return;
        }
        // EACCES on the directory: whether the file exists is as unknown as what it says.
        Err(e) => return set_daemon_json_all(facts, &Fact::unknown(e.to_string())),
        Ok(Some(meta)) => match ctx.sysroot.read_bytes(&path) {
            Ok(b) => (b, meta.modified().ok()),
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
    // dockerd is asked when the table finds fault (or cannot judge without the version), and
    // of a file the table accepts only while dockerd has not accepted it already: a spawn of
    // dockerd costs about 120 ms, ten times a whole run. dockerd's own message then replaces
    // the table's, and catches what only dockerd rejects (an unknown storage option, a
    // malformed `bip`).
    let dockerd = (ctx.sysroot.is_live() && reader != daemon_json::Reader::Before23)
        .then(|| dockerd_binary(ctx, &flags, facts))
        .flatten();
    let dockerd = match dockerd {
        Some(d) if !ctx.dockerd_validate => {
            checked_by = format!("{table}; {d} --validate not run (--no-validate)");
            None
        }
        other => other,
    };
    let ask = match &dockerd {
        None => None,
        Some(_) if parsed.error != Ok(None) => Some(None),
        Some(_) => match accepted_file_needs_dockerd(facts, &flags, modified) {
            Ok(why) => Some(Some(why)),
            Err(why_not) => {
                checked_by = format!("{table}; {why_not}");
                None
            }
        },
    };
    if let (Some(dockerd), Some(why)) = (dockerd, ask) {
        let asked = match why {
            Some(why) => format!("{dockerd} --validate ({why})"),
            None => format!("{dockerd} --validate"),
        };
        match validate(&dockerd, &path, ctx.timeout).await {
            Validation::Valid => {
                reader = daemon_json::Reader::Since23;
                verdict = Some(None);
                checked_by = asked;
            }
            Validation::Invalid(message) => {
                reader = daemon_json::Reader::Since23;
                verdict = Some(Some(message));
                checked_by = asked;
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
    // What dockerd accepts on reading but fails on at start, judged when nothing else is wrong.
    let major = facts
        .text("pacman.docker_version")
        .and_then(|v| upstream_version(v).first().copied());
    let at_start = daemon_json::start_failures(&bytes, major);
    let at_start = (!at_start.is_empty()).then(|| at_start.join("; "));
    facts.set(
        "docker.daemon_json_error",
        match (verdict, parsed.error) {
            (Some(Some(said)), _) => Fact::known(said),
            (Some(None), _) | (None, Ok(None)) => Fact::known(at_start),
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
    // An array of strings, or why not: the file does not parse, or the key holds another type.
    let strings = |list: Option<Vec<String>>, key: &str| {
        list.map_or_else(
            || match facts.list("docker.daemon_json_keys") {
                Some(_) => Fact::unknown(format!("{path}: `{key}` is not an array of strings")),
                None => unparsed(&format!("`{key}`")),
            },
            Fact::known,
        )
    };
    let (hosts, dns) = (strings(parsed.hosts, "hosts"), strings(parsed.dns, "dns"));
    let mirrors = strings(parsed.registry_mirrors, "registry-mirrors");
    facts.set("docker.daemon_json_hosts", hosts);
    facts.set("docker.daemon_json_dns", dns);
    facts.set("docker.daemon_json_registry_mirrors", mirrors);
    facts.set(
        "docker.daemon_json_tlsverify",
        parsed
            .tlsverify
            .map_or_else(|| unparsed("`tlsverify`"), Fact::known),
    );
    facts.set(
        "docker.daemon_json_iptables",
        parsed
            .iptables
            .map_or_else(|| unparsed("`iptables`"), Fact::known),
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
                "docker.socket_file_type",
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

    let set_in = match &resolved.host_env {
        Some(_) => {
            let home = super::user::judged_home(ctx, facts);
            match origin::set_in(ctx, home.as_deref(), "DOCKER_HOST") {
                Ok(lines) => Fact::known(lines),
                Err(e) => Fact::unknown(e.to_string()),
            }
        }
        None => Fact::known(Vec::<String>::new()),
    };
    facts.set(
        "docker.endpoint_origin",
        endpoint_origin(ctx, &resolved, &set_in),
    );
    facts.set("docker.host_set_in", set_in);
    facts.set(
        "docker.local_daemon_instead",
        local_daemon_instead(ctx, facts),
    );
}

/// Where the endpoint is configured, in words: the lines that set DOCKER_HOST, or the context
/// and the file that chose it.
fn endpoint_origin(ctx: &Context, resolved: &endpoint::Resolved, set_in: &Fact) -> Fact {
    if ctx.endpoints.docker_host.is_some() {
        return Fact::known("--docker-host, given to dockdoc");
    }
    if resolved.host_env.is_some() {
        return match set_in {
            Fact::Known {
                value: Value::List(lines),
            } if !lines.is_empty() => {
                Fact::known(format!("DOCKER_HOST, set at {}", lines.join(", ")))
            }
            Fact::Known { .. } => Fact::known(
                "DOCKER_HOST, set in none of the shell, environment.d or fish files dockdoc reads (exported by hand in this shell, or by a program that started it)",
            ),
            other => other.clone(),
        };
    }
    match &resolved.context {
        Ok(Some(name)) if ctx.env.get("DOCKER_CONTEXT").is_some() => {
            Fact::known(format!("context {name}, chosen by DOCKER_CONTEXT"))
        }
        Ok(Some(name)) => Fact::known(format!(
            "context {name}, chosen by currentContext in {}/config.json (`docker context use`)",
            endpoint::config_dir(ctx).unwrap_or_else(|| "~/.docker".into())
        )),
        Ok(None) => Fact::known("the default, /run/docker.sock"),
        Err(e) => Fact::unknown(e.clone()),
    }
}

/// Whether a local daemon's socket is there to answer instead: the system daemon's
/// /run/docker.sock, else the user's rootless socket. Only the files are looked at: connecting
/// to /run/docker.sock could make systemd start the daemon.
fn local_daemon_instead(ctx: &Context, facts: &Facts) -> Fact {
    use std::os::unix::fs::FileTypeExt;
    let is_socket = |p: &str| {
        ctx.sysroot
            .metadata(p)
            .is_ok_and(|m| m.file_type().is_socket())
    };
    let system = endpoint::socket_path(endpoint::DEFAULT_HOST).unwrap_or("/run/docker.sock");
    if is_socket(system) {
        return Fact::known(format!(
            "the system daemon's socket {system} is there: without DOCKER_HOST, in the default context, the CLI reaches it"
        ));
    }
    let rootless = match (ctx.env.get("XDG_RUNTIME_DIR"), facts.int("user.uid")) {
        (Some(dir), _) => Some(format!("{}/docker.sock", dir.trim_end_matches('/'))),
        (None, Some(uid)) => Some(format!("/run/user/{uid}/docker.sock")),
        (None, None) => None,
    };
    match rootless {
        Some(r) if is_socket(&r) => Fact::known(format!(
            "no system daemon's socket is there, but your rootless daemon's {r} is: DOCKER_HOST=unix://{r} (or `docker context use rootless`) reaches it"
        )),
        Some(r) => Fact::known(format!(
            "no local daemon would answer instead: neither {system} nor {r} is a socket"
        )),
        None => Fact::known(format!(
            "no local daemon would answer instead: {system} is not a socket"
        )),
    }
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
            "docker.socket_file_type",
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
            facts.set("docker.socket_file_type", Fact::known(Value::Null));
            facts.set("docker.socket_group", Fact::known(Value::Null));
            facts.set("docker.socket_mode", Fact::known(Value::Null));
        }
        Ok(Some(meta)) => {
            let kind = super::sysroot::kind_name(rustix::fs::FileType::from_raw_mode(meta.mode()));
            // A directory or a file where the socket belongs is no socket: dockerd and
            // docker.socket cannot bind there (docker-socket-not-a-socket).
            facts.set("docker.socket_exists", Fact::known(kind == "a socket"));
            facts.set("docker.socket_file_type", Fact::known(kind));
            facts.set("docker.socket_group", group_name(ctx, meta.gid()));
            facts.set(
                "docker.socket_mode",
                Fact::known(format!("{:04o}", meta.mode() & 0o7777)),
            );
        }
        Err(e) => {
            for key in [
                "docker.socket_exists",
                "docker.socket_file_type",
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
        questions: ctx.asks.clone(),
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

    let iptables = match (&flags, blocked(facts, "docker.daemon_json_iptables")) {
        (_, Some(f)) => f,
        (Err(f), None) => f.clone(),
        (Ok(flags), None) => Fact::known(
            facts.bool("docker.daemon_json_iptables") != Some(false)
                && exec_start::iptables(flags.as_deref().unwrap_or_default()),
        ),
    };
    facts.set("docker.iptables_enabled", iptables);

    let problems = facts.get("docker.credential_helper_problems");
    facts.set("docker.credential_helper_unusable", non_empty(&problems));

    let mirrors = hub_mirrors(facts, &flags);
    facts.set("docker.hub_mirrors", mirrors);

    let foreign = facts.get("docker.config_dir_foreign");
    facts.set("docker.config_dir_not_owned", non_empty(&foreign));

    let stale = daemon_stale(facts);
    facts.set("docker.daemon_stale", stale);

    let desktop = desktop_daemon(facts);
    facts.set("docker.desktop_daemon", desktop);

    osx::derive(facts);
}

/// `docker.hub_mirrors`: what the daemon said, else what its daemon.json and ExecStart say
/// (under `--root`, where no daemon is asked, or when it did not answer).
fn hub_mirrors(facts: &Facts, flags: &Result<Option<Vec<exec_start::Flag>>, Fact>) -> Fact {
    if let Fact::Known { value } = facts.get("docker.registry_mirrors") {
        return Fact::Known { value };
    }
    let Some(mut configured) = facts
        .list("docker.daemon_json_registry_mirrors")
        .map(<[String]>::to_vec)
    else {
        return blocked(facts, "docker.daemon_json_registry_mirrors")
            .unwrap_or_else(|| Fact::unknown("docker.daemon_json_registry_mirrors: not a list"));
    };
    match flags {
        Ok(flags) => configured.extend(
            flags
                .iter()
                .flatten()
                .filter(|f| f.key == "registry-mirrors")
                .filter_map(|f| f.value.clone()),
        ),
        Err(f) => return f.clone(),
    }
    Fact::known(configured)
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
