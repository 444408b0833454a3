//! Installed packages, from pacman's local database (`/var/lib/pacman/local`). Only the
//! entries dockdoc needs are read, so the cost does not grow with the database.

use super::{Context, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "pacman.db_present",
        Bool,
        "the local database /var/lib/pacman/local exists",
    ),
    spec(
        "pacman.docker_version",
        Text,
        "installed version of the docker package (or one providing docker); null if not installed",
    ),
    spec(
        "pacman.kernel_packages",
        List,
        "installed kernel packages as `name version` (linux, linux-lts, linux-zen, …)",
    ),
    spec(
        "pacman.osx_packages_missing",
        List,
        "host packages docker-osx's README asks for that are not installed (honouring provides)",
    ),
    spec("pacman.xhost_installed", Bool, "xorg-xhost is installed"),
    spec(
        "pacman.iptables_package",
        Text,
        "which iptables package is installed (iptables, iptables-nft, iptables-legacy); null if none",
    ),
];

pub fn gather(_ctx: &Context, _facts: &mut Facts) {}
