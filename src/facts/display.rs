//! The display docker-osx draws on: DISPLAY, the X socket, and the X server's access list
//! (asked of the server itself through xhost), Wayland without XWayland.

use super::{Context, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec("display.display", Text, "DISPLAY; null if unset"),
    spec(
        "display.wayland",
        Bool,
        "a Wayland session (WAYLAND_DISPLAY set or XDG_SESSION_TYPE=wayland)",
    ),
    spec(
        "display.x11_socket",
        Text,
        "the X socket DISPLAY names (/tmp/.X11-unix/X<n>); null for a remote or unset DISPLAY",
    ),
    spec("display.x11_socket_exists", Bool, "that X socket exists"),
    spec(
        "display.xhost_installed",
        Bool,
        "the xhost program is installed (/usr/bin/xhost)",
    ),
    spec(
        "display.x_access_control",
        Bool,
        "the X server's access control is enabled (false: `xhost +` is on)",
    ),
    spec(
        "display.x_access_list",
        List,
        "the X server's access list as xhost prints it (LOCAL:, SI:localuser:NAME, …)",
    ),
    spec(
        "display.container_access",
        Bool,
        "a local container process can connect: access control off, or LOCAL: or SI:localuser:<user> listed",
    ),
];

pub fn gather_files(_ctx: &Context, _facts: &mut Facts) {}

pub async fn gather(_ctx: &Context) -> Facts {
    Facts::default()
}

pub fn derive(_facts: &mut Facts) {}
