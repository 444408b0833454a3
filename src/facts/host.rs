//! Host resources and plumbing: memory and CPUs (`/proc/meminfo`, `/proc/cpuinfo`), free space
//! on Docker's data root, and the docker0 bridge (`/sys/class/net`).

use super::{Context, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "host.mem_total_bytes",
        Int,
        "MemTotal from /proc/meminfo, bytes",
    ),
    spec(
        "host.mem_available_bytes",
        Int,
        "MemAvailable from /proc/meminfo, bytes",
    ),
    spec("host.cpu_count", Int, "logical CPUs in /proc/cpuinfo"),
    spec(
        "host.data_root",
        Text,
        "Docker's data root: the daemon's answer, else daemon.json data-root, else /var/lib/docker",
    ),
    spec(
        "host.data_root_free_bytes",
        Int,
        "free bytes on the filesystem holding the data root (its nearest existing ancestor)",
    ),
    spec(
        "host.docker0_exists",
        Bool,
        "the docker0 bridge exists (/sys/class/net/docker0)",
    ),
    spec(
        "host.docker0_operstate",
        Text,
        "docker0's operstate (up, down; down with no containers is normal)",
    ),
];

pub fn gather(_ctx: &Context, _facts: &mut Facts) {}

pub fn derive(_facts: &mut Facts) {}
