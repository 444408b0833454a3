//! The operating system: `/etc/os-release`, container and WSL detection, whether systemd booted.

use super::{Context, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec("os.id", Text, "ID from /etc/os-release (arch, debian, …)"),
    spec("os.id_like", List, "ID_LIKE from /etc/os-release"),
    spec("os.pretty_name", Text, "PRETTY_NAME from /etc/os-release"),
    spec(
        "os.arch_based",
        Bool,
        "ID or ID_LIKE is arch: pacman checks apply",
    ),
    spec(
        "os.in_container",
        Bool,
        "dockdoc runs inside a container (/.dockerenv, /run/.containerenv, /run/systemd/container)",
    ),
    spec(
        "os.wsl",
        Bool,
        "the kernel is a WSL kernel (osrelease names microsoft/WSL)",
    ),
    spec(
        "os.systemd_booted",
        Bool,
        "systemd is PID 1 (/run/systemd/system exists)",
    ),
];

pub fn gather(_ctx: &Context, _facts: &mut Facts) {}
