//! Docker: the endpoint the CLI would use (flag, DOCKER_HOST, context, default), the socket's
//! owner, group and mode, and the daemon itself over bollard (`/_ping`, `/version`, `/info`,
//! containers). Also `/etc/docker/daemon.json`.

use super::{Context, FactKind::*, FactSpec, Facts, spec};

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
    spec("docker.reachable", Bool, "the daemon answered /_ping"),
    spec(
        "docker.unreachable_reason",
        Text,
        "why the daemon did not answer (connection, HTTP status or a body that is not valid); null when it answered",
    ),
    spec(
        "docker.server_version",
        Text,
        "the daemon's version (/version)",
    ),
    spec("docker.api_version", Text, "the daemon's API version"),
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
        "docker.osx_stopped_containers",
        List,
        "stopped containers created from a docker-osx image (sickcodes/docker-osx*)",
    ),
    spec(
        "docker.rootless_socket_exists",
        Bool,
        "$XDG_RUNTIME_DIR/docker.sock exists",
    ),
    spec(
        "docker.daemon_json_exists",
        Bool,
        "/etc/docker/daemon.json exists",
    ),
    spec(
        "docker.daemon_json_error",
        Text,
        "what is wrong with daemon.json (line:column and message, or a key of the wrong type); null when valid",
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
        "DOCKER_HOST is set and points elsewhere than a running daemon, e.g. a leftover rootless socket",
    ),
    spec(
        "docker.desktop_context",
        Bool,
        "the CLI context is Docker Desktop's desktop-linux",
    ),
];

pub fn gather_files(_ctx: &Context, _facts: &mut Facts) {}

pub async fn gather(_ctx: &Context) -> Facts {
    Facts::default()
}

pub fn derive(_facts: &mut Facts) {}
