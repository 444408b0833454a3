//! dockdoc: a doctor for Docker on Arch Linux.
//!
//! Data flow: system → [`gather::gather`] → [`facts::Facts`] → [`eval::run`] (pure) →
//! findings → [`report::Report`] → text, JSON or Markdown.

pub mod app;
pub mod catalog;
pub mod cli;
pub mod error;
pub mod eval;
pub mod explain;
pub mod facts;
pub mod finding;
pub mod gather;
pub mod hook;
pub mod manpage;
pub mod probe;
pub mod report;
