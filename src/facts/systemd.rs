//! systemd over D-Bus (zbus): unit states of docker, its socket and libvirt's daemons on the
//! system bus, and the rootless docker.service on the user bus. One connection per bus.

use super::{Context, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec("systemd.system_bus", Bool, "the system bus answered"),
    spec(
        "systemd.docker_service_load_state",
        Text,
        "docker.service LoadState (loaded, not-found, masked, …)",
    ),
    spec(
        "systemd.docker_service_active_state",
        Text,
        "docker.service ActiveState (active, inactive, failed, activating, …)",
    ),
    spec(
        "systemd.docker_service_sub_state",
        Text,
        "docker.service SubState",
    ),
    spec(
        "systemd.docker_service_result",
        Text,
        "docker.service Result (success, exit-code, start-limit-hit, …)",
    ),
    spec(
        "systemd.docker_service_exit_status",
        Int,
        "docker.service ExecMainStatus of the last run",
    ),
    spec(
        "systemd.docker_service_unit_file_state",
        Text,
        "docker.service UnitFileState (enabled, disabled, static, …)",
    ),
    spec(
        "systemd.docker_service_exec_start",
        Text,
        "docker.service ExecStart command line",
    ),
    spec(
        "systemd.docker_socket_load_state",
        Text,
        "docker.socket LoadState",
    ),
    spec(
        "systemd.docker_socket_active_state",
        Text,
        "docker.socket ActiveState",
    ),
    spec(
        "systemd.docker_socket_sub_state",
        Text,
        "docker.socket SubState (listening, …)",
    ),
    spec(
        "systemd.docker_socket_result",
        Text,
        "docker.socket Result (success, service-start-limit-hit, …)",
    ),
    spec(
        "systemd.docker_socket_unit_file_state",
        Text,
        "docker.socket UnitFileState",
    ),
    spec(
        "systemd.libvirt_daemon_active",
        Bool,
        "libvirtd or the modular virtqemud is active or its socket is listening",
    ),
    spec(
        "systemd.libvirt_daemon_states",
        Text,
        "ActiveState of libvirtd.service, libvirtd.socket, virtqemud.service, virtqemud.socket",
    ),
    spec(
        "systemd.virtlogd_active",
        Bool,
        "virtlogd.service is active or virtlogd.socket is listening",
    ),
    spec("systemd.user_bus", Bool, "the user bus answered"),
    spec(
        "systemd.user_docker_service_active_state",
        Text,
        "ActiveState of the rootless docker.service under systemd --user",
    ),
];

pub async fn gather(_ctx: &Context) -> Facts {
    Facts::default()
}
