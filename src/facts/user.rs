//! The user being judged: configured groups (`/etc/group`) against this session's groups
//! (`/proc/self/status`). Under sudo the judged user is `SUDO_USER`.

use super::{Context, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec("user.uid", Int, "the judged user's uid"),
    spec("user.name", Text, "the judged user's name (/etc/passwd)"),
    spec(
        "user.is_root",
        Bool,
        "the judged user is root (uid 0, and not run through sudo by another user)",
    ),
    spec(
        "user.sudo_user",
        Text,
        "SUDO_USER when dockdoc runs through sudo; null otherwise",
    ),
    spec(
        "user.groups_configured",
        List,
        "groups the judged user belongs to per /etc/group and /etc/passwd",
    ),
    spec(
        "user.groups_session",
        List,
        "groups the judged user's session holds now (/proc/self/status Gid and Groups; under sudo, the invoking shell's)",
    ),
    spec(
        "user.docker_group_exists",
        Bool,
        "a group named docker exists in /etc/group",
    ),
    spec(
        "user.kvm_group_exists",
        Bool,
        "a group named kvm exists in /etc/group",
    ),
    spec(
        "user.libvirt_group_exists",
        Bool,
        "a group named libvirt exists in /etc/group",
    ),
];

pub fn gather(_ctx: &Context, _facts: &mut Facts) {}

pub fn derive(_facts: &mut Facts) {}
