//! The live suite: the built binary against real components the harness starts itself — a
//! private dockerd (tests/common/dockerd.rs), systemd 252 booted in a namespace with scenario
//! units (tests/common/systemd.rs, tests/live/units/), packages built by makepkg and installed
//! by pacman — plus fake sockets for the daemon faults a real dockerd cannot show.
//!
//! Every test runs `dockdoc` with `--format json` and asserts check statuses. A missing
//! prerequisite skips with one line, or fails under `DOCKDOC_LIVE=require` (CI).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;
#[path = "common/dockerd.rs"]
mod dockerd;
#[path = "common/systemd.rs"]
mod harness;

#[path = "live/access.rs"]
mod access;
#[path = "live/arch.rs"]
mod arch;
#[path = "live/cli_config.rs"]
mod cli_config;
#[path = "live/daemon_json.rs"]
mod daemon_json;
#[path = "live/endpoints.rs"]
mod endpoints;
#[path = "live/faults.rs"]
mod faults;
#[path = "live/firewall.rs"]
mod firewall;
#[path = "live/fix.rs"]
mod fix;
#[path = "live/fixture_host.rs"]
mod fixture_host;
#[path = "live/network_probe.rs"]
mod network_probe;
#[path = "live/osx.rs"]
mod osx;
#[path = "live/pacman.rs"]
mod pacman;
#[path = "live/registry.rs"]
mod registry;
#[path = "live/rootless.rs"]
mod rootless;
#[path = "live/routes.rs"]
mod routes;
#[path = "live/support.rs"]
mod support;
#[path = "live/textfile.rs"]
mod textfile;
#[path = "live/units.rs"]
mod units;
#[path = "live/versions.rs"]
mod versions;
#[path = "live/x_server.rs"]
mod x_server;
