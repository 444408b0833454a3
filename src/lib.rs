//! dockdoc: a doctor for Docker on Arch Linux.
//!
//! Data flow: system → [`gather::gather`] → [`facts::Facts`] → [`eval::run`] (pure) →
//! findings (waivers applied by [`waiver::apply`]) → [`report::Report`] → text, JSON,
//! Markdown, Prometheus, Nagios or JUnit, on standard output or atomically into `--output FILE`.

pub mod app;
mod builtin;
pub mod catalog;
pub mod cli;
pub mod error;
pub mod eval;
pub mod explain;
pub mod facts;
pub mod finding;
pub mod fix;
pub mod gather;
pub mod hook;
pub mod manpage;
pub mod output;
pub mod probe;
pub mod report;
pub mod terminal;
pub mod waiver;
