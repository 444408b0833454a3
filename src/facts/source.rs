//! Where each fact comes from: a file under the root, a live endpoint, the environment, the run
//! itself, or a derivation from other facts.
//!
//! The table is kept apart from the modules' `SCHEMA`s on purpose: a fact added to a schema
//! without a line here fails `every_schema_key_has_exactly_one_source` until it is classified.
//! The scenario tests read it to refuse an override of a fact a fixture file can carry.

use std::fmt;

use serde::Serialize;

/// The source of one fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "source", content = "from", rename_all = "snake_case")]
pub enum Source {
    /// Read from files under the root (`--root`, default `/`); the path pattern, absolute as on
    /// the judged machine (`~` is the judged user's home, `*` any name).
    File(&'static str),
    /// Asked of a live endpoint: the system or user D-Bus, the Docker API, the X server.
    Live(&'static str),
    /// Read from dockdoc's environment; the variables.
    Env(&'static str),
    /// Computed from other facts; the facts it combines.
    Derived(&'static str),
    /// Describes the run itself (its options).
    Run(&'static str),
}

impl Source {
    /// The kind as one word: `file`, `live`, `env`, `derived` or `run`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::File(_) => "file",
            Source::Live(_) => "live",
            Source::Env(_) => "env",
            Source::Derived(_) => "derived",
            Source::Run(_) => "run",
        }
    }

    /// The path pattern, endpoint, variables or facts the kind refers to.
    pub fn detail(&self) -> &'static str {
        match self {
            Source::File(s)
            | Source::Live(s)
            | Source::Env(s)
            | Source::Derived(s)
            | Source::Run(s) => s,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.detail())
    }
}

use Source::{Derived, Env, File, Live, Run};

const SYSTEM_BUS: &str = "org.freedesktop.systemd1 on the system bus";
const USER_BUS: &str = "org.freedesktop.systemd1 on the user bus";
const DOCKER_API: &str = "the Docker API at docker.endpoint (/info)";
const DOCKER_CONTAINERS: &str = "the Docker API at docker.endpoint (/containers/json)";
const X_SERVER: &str = "the X server DISPLAY names (its host access list)";
const DOCKER_SOCKET: &str = "docker.socket_path (the endpoint's socket file)";
const GROUP_FILE: &str = "/etc/group";
const DEV_KVM: &str = "/dev/kvm (with /etc/group for its group name)";
const NFT_RULESET: &str =
    "the nftables ruleset of dockdoc's network namespace (netlink NFT_MSG_GETCHAIN, as root)";
const LOCAL_DB: &str = "/var/lib/pacman/local/*/desc";

/// Every fact key with its source, in schema order.
pub const SOURCES: &[(&str, Source)] = &[
    ("run.profiles", Run("--profile")),
    (
        "run.pasted_ports",
        Run("the error pasted into dockdoc explain"),
    ),
    ("os.id", File("/etc/os-release (else /usr/lib/os-release)")),
    (
        "os.id_like",
        File("/etc/os-release (else /usr/lib/os-release)"),
    ),
    (
        "os.pretty_name",
        File("/etc/os-release (else /usr/lib/os-release)"),
    ),
    ("os.arch_based", Derived("os.id, os.id_like")),
    (
        "os.in_container",
        File("/.dockerenv, /run/.containerenv, /run/systemd/container"),
    ),
    ("os.wsl", File("/proc/sys/kernel/osrelease")),
    ("os.systemd_booted", File("/run/systemd/system")),
    ("kernel.running_release", File("/proc/sys/kernel/osrelease")),
    (
        "kernel.running_pkgbase",
        File("/usr/lib/modules/<release>/pkgbase"),
    ),
    (
        "kernel.installed_releases",
        File("/usr/lib/modules/*/{vmlinuz,pkgbase}"),
    ),
    (
        "kernel.running_modules_present",
        File("/usr/lib/modules/<release>/kernel"),
    ),
    (
        "kernel.running_modules_owned",
        File("/var/lib/pacman/local/*/files"),
    ),
    ("kernel.pending_release", File("/usr/lib/modules/*/pkgbase")),
    (
        "kernel.module_support",
        File("/proc/modules, /proc/config.gz"),
    ),
    ("kernel.modules_loaded", File("/proc/modules")),
    (
        "kernel.required_modules",
        Derived("kernel.iptables_backend"),
    ),
    (
        "kernel.modules_unavailable",
        File("/proc/modules, /usr/lib/modules/<release>/modules.builtin, modules.dep"),
    ),
    (
        "kernel.config_source",
        File("/proc/config.gz, /boot/config-<release>, /usr/lib/modules/<release>/config"),
    ),
    (
        "kernel.config_missing_features",
        File("/proc/config.gz, /boot/config-<release>, /usr/lib/modules/<release>/config"),
    ),
    (
        "kernel.config_complete",
        Derived("kernel.config_missing_features"),
    ),
    ("kernel.ip_forward", File("/proc/sys/net/ipv4/ip_forward")),
    (
        "kernel.config_missing_ipset",
        File("/proc/config.gz, /boot/config-<release>, /usr/lib/modules/<release>/config"),
    ),
    (
        "kernel.config_missing_prerequisites",
        File("/proc/config.gz (else /boot/config-*, /usr/lib/modules/*/config)"),
    ),
    ("kernel.arch", File("/proc/sys/kernel/arch")),
    ("kernel.stock_kernel_package", Derived("kernel.arch")),
    ("kernel.cgroup_version", File("/proc/mounts")),
    ("kernel.cmdline", File("/proc/cmdline")),
    (
        "kernel.iptables_backend",
        File("/usr/sbin/iptables (its symlink target)"),
    ),
    (
        "kernel.iptables_backend_mismatch",
        File("/proc/modules (iptable_* against kernel.iptables_backend)"),
    ),
    (
        "kernel.iptables_legacy_missing",
        File(
            "/proc/config.gz (else /boot/config-<release>), /proc/modules, /usr/lib/modules/<release>/modules.builtin and modules.dep",
        ),
    ),
    (
        "kernel.iptables_legacy_available",
        Derived("kernel.iptables_legacy_missing"),
    ),
    (
        "user.uid",
        File("/proc/self/status (Uid; SUDO_UID under sudo)"),
    ),
    ("user.name", File("/etc/passwd")),
    ("user.is_root", Derived("user.uid, user.sudo_user")),
    ("user.sudo_user", Env("SUDO_USER")),
    ("user.groups_configured", File("/etc/group, /etc/passwd")),
    (
        "user.groups_session",
        File("/proc/self/status (Gid, Groups) with /etc/group"),
    ),
    ("user.docker_group_exists", File(GROUP_FILE)),
    ("user.kvm_group_exists", File(GROUP_FILE)),
    ("user.libvirt_group_exists", File(GROUP_FILE)),
    ("pacman.db_present", File("/var/lib/pacman/local")),
    ("pacman.docker_version", File(LOCAL_DB)),
    ("pacman.kernel_packages", File(LOCAL_DB)),
    (
        "pacman.kernel_releases",
        File("/var/lib/pacman/local/*/files"),
    ),
    ("pacman.osx_packages_missing", File(LOCAL_DB)),
    (
        "pacman.osx_packages_missing_args",
        Derived("pacman.osx_packages_missing"),
    ),
    ("pacman.xhost_installed", File(LOCAL_DB)),
    ("pacman.nvidia_utils_version", File(LOCAL_DB)),
    ("pacman.nvidia_container_toolkit_installed", File(LOCAL_DB)),
    ("pacman.iptables_package", File(LOCAL_DB)),
    ("pacman.iptables_backend", File(LOCAL_DB)),
    ("pacman.docker_buildx_installed", File(LOCAL_DB)),
    ("pacman.docker_compose_installed", File(LOCAL_DB)),
    ("pacman.watched_versions", File(LOCAL_DB)),
    (
        "pacman.known_bad_versions",
        Derived(
            "pacman.watched_versions, kernel.cgroup_version, checks/data/known-bad-versions.toml",
        ),
    ),
    (
        "pacman.known_bad_fixes",
        Derived("pacman.known_bad_versions"),
    ),
    (
        "pacman.known_bad_severity",
        Derived("pacman.known_bad_versions"),
    ),
    ("systemd.system_bus", Live(SYSTEM_BUS)),
    ("systemd.docker_service_load_state", Live(SYSTEM_BUS)),
    ("systemd.docker_service_active_state", Live(SYSTEM_BUS)),
    ("systemd.docker_service_sub_state", Live(SYSTEM_BUS)),
    ("systemd.docker_service_result", Live(SYSTEM_BUS)),
    ("systemd.docker_service_exit_status", Live(SYSTEM_BUS)),
    ("systemd.docker_service_unit_file_state", Live(SYSTEM_BUS)),
    ("systemd.docker_service_exec_start", Live(SYSTEM_BUS)),
    ("systemd.docker_socket_load_state", Live(SYSTEM_BUS)),
    ("systemd.docker_socket_active_state", Live(SYSTEM_BUS)),
    ("systemd.docker_socket_sub_state", Live(SYSTEM_BUS)),
    ("systemd.docker_socket_result", Live(SYSTEM_BUS)),
    ("systemd.docker_socket_unit_file_state", Live(SYSTEM_BUS)),
    ("systemd.libvirt_daemon_active", Live(SYSTEM_BUS)),
    ("systemd.libvirt_daemon_states", Live(SYSTEM_BUS)),
    ("systemd.virtlogd_active", Live(SYSTEM_BUS)),
    ("systemd.libvirt_units_loaded", Live(SYSTEM_BUS)),
    ("systemd.containerd_service_load_state", Live(SYSTEM_BUS)),
    ("systemd.containerd_service_active_state", Live(SYSTEM_BUS)),
    ("systemd.containerd_service_sub_state", Live(SYSTEM_BUS)),
    ("systemd.containerd_service_result", Live(SYSTEM_BUS)),
    ("systemd.containerd_service_exit_status", Live(SYSTEM_BUS)),
    (
        "systemd.containerd_service_unit_file_state",
        Live(SYSTEM_BUS),
    ),
    ("systemd.user_bus", Live(USER_BUS)),
    ("systemd.user_docker_service_active_state", Live(USER_BUS)),
    ("systemd.user_docker_service_result", Live(USER_BUS)),
    (
        "systemd.user_docker_service_unit_file_state",
        Live(USER_BUS),
    ),
    ("docker.binary_installed", File("/usr/bin/dockerd")),
    (
        "docker.endpoint",
        File(
            "~/.docker/config.json, ~/.docker/contexts/meta/*/meta.json (after --docker-host, DOCKER_HOST, DOCKER_CONTEXT)",
        ),
    ),
    (
        "docker.endpoint_source",
        File("~/.docker/config.json (after --docker-host, DOCKER_HOST, DOCKER_CONTEXT)"),
    ),
    (
        "docker.context",
        File("~/.docker/config.json currentContext (after DOCKER_CONTEXT)"),
    ),
    ("docker.host_env", Env("DOCKER_HOST")),
    ("docker.mode", Derived("docker.endpoint, XDG_RUNTIME_DIR")),
    ("docker.socket_path", Derived("docker.endpoint")),
    ("docker.socket_exists", File(DOCKER_SOCKET)),
    ("docker.socket_file_type", File(DOCKER_SOCKET)),
    ("docker.socket_group", File(DOCKER_SOCKET)),
    ("docker.socket_mode", File(DOCKER_SOCKET)),
    ("docker.connect_error", Live(DOCKER_API)),
    ("docker.reachable", Live(DOCKER_API)),
    ("docker.unreachable_reason", Live(DOCKER_API)),
    ("docker.server_version", Live(DOCKER_API)),
    ("docker.api_version", Live(DOCKER_API)),
    ("docker.storage_driver", Live(DOCKER_API)),
    ("docker.live_restore", Live(DOCKER_API)),
    ("docker.running_containers", Live(DOCKER_API)),
    ("docker.data_root", Live(DOCKER_API)),
    ("docker.operating_system", Live(DOCKER_API)),
    ("docker.kernel_version", Live(DOCKER_API)),
    ("docker.runtimes", Live(DOCKER_API)),
    ("docker.registry_mirrors", Live(DOCKER_API)),
    (
        "docker.daemon_json_registry_mirrors",
        File("/etc/docker/daemon.json"),
    ),
    (
        "docker.hub_mirrors",
        Derived(
            "docker.registry_mirrors, else docker.daemon_json_registry_mirrors and systemd.docker_service_exec_start",
        ),
    ),
    (
        "docker.desktop_daemon",
        Derived("docker.endpoint_kind, docker.operating_system, docker.kernel_version"),
    ),
    ("docker.osx_stopped_containers", Live(DOCKER_CONTAINERS)),
    (
        "docker.rootless_socket_exists",
        File("$XDG_RUNTIME_DIR/docker.sock"),
    ),
    ("docker.daemon_json_exists", File("/etc/docker/daemon.json")),
    ("docker.daemon_json_error", File("/etc/docker/daemon.json")),
    ("docker.daemon_json_keys", File("/etc/docker/daemon.json")),
    ("docker.daemon_json_hosts", File("/etc/docker/daemon.json")),
    ("docker.daemon_json_dns", File("/etc/docker/daemon.json")),
    (
        "docker.flag_conflicts",
        Derived("docker.daemon_json_keys, systemd.docker_service_exec_start"),
    ),
    (
        "docker.exec_start_uses_fd",
        Derived("systemd.docker_service_exec_start"),
    ),
    (
        "docker.tcp_without_tls",
        Derived(
            "docker.daemon_json_hosts, docker.daemon_json_tlsverify, systemd.docker_service_exec_start",
        ),
    ),
    (
        "docker.daemon_stale",
        Derived("docker.server_version, pacman.docker_version"),
    ),
    (
        "docker.host_overrides_context",
        // Whether the DOCKER_HOST socket and the context's socket exist under the root.
        Derived("docker.host_env, docker.context, docker.socket_exists"),
    ),
    (
        "docker.host_set_in",
        File(
            "~/.bashrc, ~/.bash_profile, ~/.bash_login, ~/.profile, ~/.zshenv, ~/.zprofile, ~/.zshrc, ~/.zlogin, ~/.config/environment.d/*.conf, ~/.pam_environment, ~/.config/fish/{config.fish,conf.d/*.fish,fish_variables}, /etc/profile, /etc/profile.d/*.sh, /etc/bash.bashrc, /etc/zsh/{zshenv,zprofile,zshrc}, /etc/environment, /etc/environment.d/*.conf, /etc/fish/{config.fish,conf.d/*.fish}",
        ),
    ),
    (
        "docker.endpoint_origin",
        Derived("docker.host_set_in, DOCKER_HOST, DOCKER_CONTEXT, ~/.docker/config.json"),
    ),
    (
        "docker.local_daemon_instead",
        File("/run/docker.sock, $XDG_RUNTIME_DIR/docker.sock (or /run/user/UID/docker.sock)"),
    ),
    (
        "docker.credential_helpers",
        File("~/.docker/config.json (or $DOCKER_CONFIG/config.json)"),
    ),
    (
        "docker.credential_helper_problems",
        File(
            "~/.docker/config.json, docker-credential-* and pass in PATH's directories, $PASSWORD_STORE_DIR or ~/.password-store/.gpg-id, /opt/docker-desktop",
        ),
    ),
    (
        "docker.credential_helper_unusable",
        Derived("docker.credential_helper_problems"),
    ),
    ("docker.cli_config_file", Env("DOCKER_CONFIG, else HOME")),
    (
        "docker.hub_login",
        File("~/.docker/config.json (or $DOCKER_CONFIG/config.json), and DOCKER_AUTH_CONFIG"),
    ),
    (
        "docker.config_dir",
        Env("DOCKER_CONFIG, else HOME (or the judged user's home in /etc/passwd)"),
    ),
    (
        "docker.config_dir_foreign",
        File(
            "$DOCKER_CONFIG, else ~/.docker: the owners and modes of the CLI's config directory and what is in it, the home's owner; /etc/passwd, /etc/group",
        ),
    ),
    (
        "docker.config_dir_not_owned",
        Derived("docker.config_dir_foreign"),
    ),
    ("docker.desktop_context", Derived("docker.context")),
    ("docker.cli_installed", File("/usr/bin/docker")),
    (
        "docker.daemon_json_tlsverify",
        File("/etc/docker/daemon.json"),
    ),
    (
        "docker.daemon_json_iptables",
        File("/etc/docker/daemon.json"),
    ),
    (
        "docker.iptables_enabled",
        Derived("docker.daemon_json_iptables, systemd.docker_service_exec_start"),
    ),
    (
        "docker.has_flag_conflicts",
        Derived("docker.flag_conflicts"),
    ),
    (
        "docker.exposes_tcp_without_tls",
        Derived("docker.tcp_without_tls"),
    ),
    ("kvm.cpu_virtualization", File("/proc/cpuinfo")),
    ("kvm.cpu_vendor", File("/proc/cpuinfo")),
    ("kvm.hypervisor_guest", File("/proc/cpuinfo")),
    ("kvm.device_exists", File(DEV_KVM)),
    ("kvm.device_group", File(DEV_KVM)),
    ("kvm.device_mode", File(DEV_KVM)),
    ("kvm.device_uid", File(DEV_KVM)),
    ("kvm.device_gid", File(DEV_KVM)),
    (
        "kvm.device_accessible",
        Derived("kvm.device_*, user.uid, user.groups_session"),
    ),
    ("kvm.module_loaded", File("/sys/module/kvm")),
    (
        "kvm.vendor_module_loaded",
        File("/sys/module/kvm_intel, /sys/module/kvm_amd"),
    ),
    (
        "kvm.ignore_msrs",
        File("/sys/module/kvm/parameters/ignore_msrs"),
    ),
    (
        "kvm.ignore_msrs_persisted",
        File("/etc/modprobe.d/*.conf, /usr/lib/modprobe.d/*.conf, /proc/cmdline"),
    ),
    (
        "kvm.nested",
        File("/sys/module/kvm_intel/parameters/nested, /sys/module/kvm_amd/parameters/nested"),
    ),
    ("display.display", Env("DISPLAY")),
    ("display.wayland", Env("WAYLAND_DISPLAY, XDG_SESSION_TYPE")),
    ("display.x11_socket", Derived("display.display")),
    ("display.x11_socket_exists", File("/tmp/.X11-unix/X<n>")),
    ("display.xhost_installed", File("/usr/bin/xhost")),
    ("display.container_user", File("/etc/passwd")),
    ("display.x_access_control", Live(X_SERVER)),
    ("display.x_access_list", Live(X_SERVER)),
    (
        "display.container_access",
        Derived("display.x_access_control, display.x_access_list, display.container_user"),
    ),
    ("host.mem_total_bytes", File("/proc/meminfo")),
    ("host.mem_available_bytes", File("/proc/meminfo")),
    ("host.mem_available", Derived("host.mem_available_bytes")),
    ("host.cpu_count", File("/proc/cpuinfo")),
    (
        "host.data_root",
        Derived("docker.data_root, /etc/docker/daemon.json data-root"),
    ),
    (
        "host.data_root_free_bytes",
        // The kernel's answer about a mounted filesystem, which no file in a fixture carries.
        Live("statvfs(2) of the filesystem holding host.data_root (its nearest existing ancestor)"),
    ),
    ("host.data_root_free", Derived("host.data_root_free_bytes")),
    ("host.docker0_exists", File("/sys/class/net/docker0")),
    (
        "host.docker0_operstate",
        File("/sys/class/net/docker0/operstate"),
    ),
    (
        "host.docker_osx_stopped_count",
        Derived("docker.osx_stopped_containers"),
    ),
    (
        "systemd.docker_activation",
        Live(
            "docker.service on the system bus, read again after this run's connection to the Docker socket",
        ),
    ),
    (
        "systemd.docker_service_after_connect",
        Live(
            "docker.service on the system bus, read again after this run's connection to the Docker socket",
        ),
    ),
    (
        "systemd.containerd_unavailable",
        Derived(
            "systemd.docker_service_exec_start, systemd.containerd_service_load_state, systemd.containerd_service_active_state, systemd.containerd_service_result, systemd.containerd_service_exit_status, systemd.docker_service_active_state, journal.docker_last_error, docker.reachable",
        ),
    ),
    (
        "systemd.docker_service_failure",
        Derived(
            "systemd.docker_service_*, systemd.docker_socket_*, systemd.docker_activation, journal.docker_last_error",
        ),
    ),
    (
        "journal.docker_last_error",
        Live("journalctl -u docker.service -b (the root's journal files under --root)"),
    ),
    (
        "journal.firewall_after_docker",
        Live(
            "journalctl -b -u docker.service -u firewalld.service -u nftables.service -u iptables.service -u ip6tables.service -u ufw.service (the root's journal files under --root)",
        ),
    ),
    ("docker.xdg_runtime_dir", Env("XDG_RUNTIME_DIR")),
    (
        "docker.endpoint_kind",
        Derived("docker.endpoint, XDG_RUNTIME_DIR, HOME, the CLI context"),
    ),
    (
        "docker.min_api_version",
        Live("the Docker API at docker.endpoint (/version)"),
    ),
    (
        "docker.osx_containers",
        Live("the Docker API at docker.endpoint (/containers/{id}/json)"),
    ),
    (
        "docker.published_host_ports",
        Live("the Docker API at docker.endpoint (/containers/json, /containers/{id}/json)"),
    ),
    (
        "docker.osx_container_problems",
        Derived("docker.osx_containers, kvm.device_*, display.display"),
    ),
    (
        "docker.daemon_json_path",
        Derived("systemd.docker_service_exec_start (--config-file), else /etc/docker/daemon.json"),
    ),
    (
        "docker.daemon_json_checked_by",
        Derived(
            "docker.daemon_json_path, pacman.docker_version (dockerd --validate from 23.0), systemd.docker_service_active_state, systemd.docker_activation (and dockerd's pid file with its /proc/PID/stat start time)",
        ),
    ),
    (
        "kvm.device_acl",
        File("/dev/kvm (its system.posix_acl_access xattr)"),
    ),
    (
        "storage.mounts",
        File("/proc/self/mountinfo (else /proc/mounts)"),
    ),
    ("storage.configured_driver", File("/etc/docker/daemon.json")),
    (
        "storage.backing_fs",
        Derived("host.data_root, storage.mounts"),
    ),
    (
        "storage.backing_mount",
        Derived("host.data_root, storage.mounts"),
    ),
    ("storage.driver", Derived("storage.configured_driver")),
    (
        "storage.driver_unsupported",
        Derived(
            "storage.driver, storage.backing_fs, pacman.docker_version (else docker.server_version), checks/data/storage-backing-fs.toml",
        ),
    ),
    (
        "storage.suitable_driver",
        Derived("storage.backing_fs, checks/data/storage-backing-fs.toml"),
    ),
    (
        "nvidia.module_version",
        File("/sys/module/nvidia/version (else /proc/driver/nvidia/version)"),
    ),
    (
        "nvidia.driver_mismatch",
        Derived("nvidia.module_version, pacman.nvidia_utils_version"),
    ),
    (
        "nvidia.cdi_specs",
        File("/etc/cdi/*.{yaml,json}, /var/run/cdi/*"),
    ),
    (
        "nvidia.daemon_json_runtimes",
        File("/etc/docker/daemon.json"),
    ),
    (
        "nvidia.runtime_configured",
        Derived(
            "nvidia.daemon_json_runtimes, docker.runtimes, nvidia.cdi_specs, pacman.docker_version",
        ),
    ),
    (
        "network.nftables_enabled",
        File("/etc/systemd/system/*.wants/nftables.service"),
    ),
    (
        "network.nftables_flush_ruleset",
        File("/etc/nftables.conf and the files it includes"),
    ),
    ("network.uplink_interface", File("/proc/net/route")),
    (
        "network.docker_bridge_overlaps",
        File("/proc/net/route, /etc/resolv.conf (or /run/systemd/resolve/resolv.conf)"),
    ),
    (
        "network.docker_bridge_overlap",
        Derived("network.docker_bridge_overlaps"),
    ),
    (
        "network.uplink_forwarding",
        File("/proc/sys/net/ipv4/conf/*/forwarding"),
    ),
    (
        "network.uplink_network_file",
        File("/etc/systemd/network/*.network, /run/systemd/network, /usr/lib/systemd/network"),
    ),
    ("network.uplink_forwarding_setting", File(LOCAL_DB)),
    (
        "network.resolv_conf",
        File("/etc/resolv.conf (else /run/systemd/resolve/resolv.conf)"),
    ),
    (
        "network.nameservers",
        File("/etc/resolv.conf (else /run/systemd/resolve/resolv.conf)"),
    ),
    (
        "network.nameservers_loopback_only",
        Derived("network.nameservers"),
    ),
    (
        "network.resolv_conf_unusable",
        File("/etc/resolv.conf (a link followed inside the root)"),
    ),
    (
        "network.container_dns_from",
        Derived("docker.daemon_json_dns, docker.daemon_json_path, network.resolv_conf"),
    ),
    (
        "network.container_dns",
        Derived("docker.daemon_json_dns, network.nameservers"),
    ),
    (
        "network.container_dns_loopback_only",
        Derived("network.container_dns"),
    ),
    (
        "network.iptables_legacy_tables",
        File("/proc/net/ip_tables_names, /proc/net/ip6_tables_names"),
    ),
    (
        "network.iptables_pacsave_files",
        File("/etc/iptables/*.pacsave"),
    ),
    (
        "network.iptables_both_backends",
        Derived("network.iptables_legacy_tables, kernel.iptables_backend, kernel.modules_loaded"),
    ),
    ("netfilter.docker_chains_missing", Live(NFT_RULESET)),
    (
        "netfilter.docker_chains_gone",
        Derived("netfilter.docker_chains_missing"),
    ),
    ("rootless.subuid_count", File("/etc/subuid")),
    ("rootless.subgid_count", File("/etc/subgid")),
    ("rootless.subid_overlaps", File("/etc/subuid, /etc/subgid")),
    (
        "rootless.subid_problems",
        Derived("rootless.subuid_count, rootless.subgid_count, rootless.subid_overlaps"),
    ),
    (
        "rootless.subid_severity",
        Derived("rootless.subuid_count, rootless.subgid_count, rootless.subid_overlaps"),
    ),
    (
        "rootless.newidmap_usable",
        File("/usr/bin/newuidmap, /usr/bin/newgidmap (mode, security.capability)"),
    ),
    (
        "rootless.newidmap_state",
        File("/usr/bin/newuidmap, /usr/bin/newgidmap (mode, security.capability)"),
    ),
    (
        "rootless.unprivileged_userns_clone",
        File("/proc/sys/kernel/unprivileged_userns_clone"),
    ),
    (
        "rootless.max_user_namespaces",
        File("/proc/sys/user/max_user_namespaces"),
    ),
    (
        "rootless.apparmor_restrict_userns",
        File("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
    ),
    (
        "rootless.userns_blockers",
        Derived(
            "rootless.unprivileged_userns_clone, rootless.max_user_namespaces, rootless.apparmor_restrict_userns",
        ),
    ),
    (
        "rootless.extras_missing",
        File("/usr/local/bin, /usr/bin, /bin"),
    ),
    ("rootless.linger", File("/var/lib/systemd/linger/*")),
    (
        "rootless.delegated_controllers",
        File("/sys/fs/cgroup/user.slice/user-*.slice/user@*.service/cgroup.controllers"),
    ),
    (
        "rootless.undelegated_controllers",
        Derived("rootless.delegated_controllers"),
    ),
    (
        "rootless.ip_unprivileged_port_start",
        File("/proc/sys/net/ipv4/ip_unprivileged_port_start"),
    ),
    (
        "rootless.ports_below_unprivileged_start",
        Derived("docker.published_host_ports, rootless.ip_unprivileged_port_start"),
    ),
    (
        "rootless.lowest_port_below_start",
        Derived("rootless.ports_below_unprivileged_start"),
    ),
    ("rootless.xdg_runtime_dir", Env("XDG_RUNTIME_DIR")),
    (
        "rootless.xdg_runtime_dir_state",
        File("$XDG_RUNTIME_DIR (its owner)"),
    ),
    (
        "rootless.session_kind",
        File("/run/systemd/sessions/$XDG_SESSION_ID"),
    ),
    (
        "rootless.daemon_down_reason",
        Derived(
            "systemd.user_docker_service_*, rootless.xdg_runtime_dir_state, rootless.session_kind, rootless.linger",
        ),
    ),
    (
        "rootless.daemon_down_fix",
        Derived("rootless.daemon_down_reason"),
    ),
];

/// The source of a fact key; `None` for a key no source entry names.
pub fn source_of(key: &str) -> Option<Source> {
    SOURCES.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn every_schema_key_has_exactly_one_source() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (k, _) in SOURCES {
            *counts.entry(k).or_default() += 1;
        }
        let mut problems = Vec::new();
        for spec in crate::facts::schema() {
            match counts.remove(spec.key) {
                Some(1) => {}
                Some(n) => problems.push(format!("{}: {n} source entries", spec.key)),
                None => problems.push(format!(
                    "{}: no source entry in src/facts/source.rs (file, live, env, derived or run)",
                    spec.key
                )),
            }
        }
        for (k, _) in counts {
            problems.push(format!("{k}: a source entry for a key no schema has"));
        }
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    }

    #[test]
    fn file_sources_name_an_absolute_path() {
        for (k, s) in SOURCES {
            if let Source::File(p) = s {
                assert!(
                    p.starts_with('/')
                        || p.starts_with('~')
                        || p.starts_with('$')
                        || p.starts_with("docker."),
                    "{k}: {p}"
                );
            }
        }
    }
}
