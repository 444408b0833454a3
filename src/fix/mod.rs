//! `dockdoc fix`: the plan for the failing causes (changes nothing), `--apply` (runs the
//! automatable steps with consent, then gathers and evaluates again and shows each check
//! before → after), `--undo` (reverts a run from its journal) and `--list-runs`.
//!
//! Data flows one way: facts → checks → findings → [`plan::plan`] → render or apply. Only
//! `--apply` and `--undo` change anything (README "Fixing").

pub mod apply;
pub mod journal;
pub mod plan;
pub mod render;
pub mod verify;
