//! The undo journal: what `dockdoc fix --apply` ran, and a copy of every file a step was about
//! to write. Root steps are journaled in `/var/lib/dockdoc/fix/RUN/`, user steps in
//! `$XDG_STATE_HOME/dockdoc/fix/RUN/` (default `~/.local/state`). Each holds `run.json` and
//! `backup/`, the copies (made with `cp -a`, so content, mode, owner and times come back).
//!
//! dockdoc writes the root journal itself when it runs as root; as a user, through `sudo`
//! with the same commands (`mkdir`, `cp -a`, `tee`, `mv`, `rm`), so it never sees a password.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use super::plan::RunsAs;

/// Where root steps are journaled.
pub const SYSTEM_DIR: &str = "/var/lib/dockdoc/fix";

/// A file a step was about to write.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Saved {
    pub path: String,
    /// Whether it existed: if not, undo removes it.
    pub existed: bool,
    /// The copy under the run's `backup/`, when it existed.
    pub backup: Option<String>,
}

/// What happened to a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Backed up, about to run (an interrupted run leaves this).
    Started,
    Ran,
    Failed,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// The step's number in the plan.
    pub seq: usize,
    pub check: String,
    pub step: String,
    pub command: String,
    pub runs_as: RunsAs,
    pub tier: crate::catalog::Tier,
    pub undo: Option<String>,
    pub saved: Vec<Saved>,
    pub outcome: Outcome,
    pub exit_status: Option<i32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Run {
    pub run: String,
    pub started: String,
    pub user: String,
    pub entries: Vec<Entry>,
    /// When `--undo` reverted it.
    pub undone: Option<String>,
}

/// One journal directory and how dockdoc writes into it.
#[derive(Clone, Debug)]
pub struct Store {
    pub dir: PathBuf,
    /// Write through `sudo` (a user's dockdoc, the root journal).
    pub sudo: bool,
}

/// The journal directory for user steps: `$XDG_STATE_HOME/dockdoc/fix`, or
/// `~/.local/state/dockdoc/fix`.
pub fn user_dir() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty() && Path::new(v).is_absolute())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    Some(state.join("dockdoc/fix"))
}

/// The store for steps run as `runs_as`, when dockdoc runs as root (`as_root`) or not. As
/// root every step runs as root and is journaled in the system directory.
pub fn store_for(runs_as: RunsAs, as_root: bool) -> Result<Store> {
    match (runs_as, as_root) {
        (_, true) => Ok(Store {
            dir: SYSTEM_DIR.into(),
            sudo: false,
        }),
        (RunsAs::Root, false) => Ok(Store {
            dir: SYSTEM_DIR.into(),
            sudo: true,
        }),
        (RunsAs::User, false) => Ok(Store {
            dir: user_dir().context(
                "neither XDG_STATE_HOME nor HOME is set: nowhere to keep the undo journal",
            )?,
            sudo: false,
        }),
    }
}

/// The stores `--undo` and `--list-runs` read.
pub fn stores(as_root: bool) -> Vec<Store> {
    let mut all = vec![Store {
        dir: SYSTEM_DIR.into(),
        sudo: !as_root,
    }];
    if !as_root && let Some(dir) = user_dir() {
        all.push(Store { dir, sudo: false });
    }
    all
}

impl Store {
    fn command(&self, program: &str) -> Command {
        if self.sudo {
            let mut c = Command::new("sudo");
            c.arg("--").arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
        let status = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("cannot run {program}"))?;
        if !status.success() {
            bail!("{program} {args:?}: {status}");
        }
        Ok(())
    }

    pub fn run_dir(&self, run: &str) -> PathBuf {
        self.dir.join(run)
    }

    /// Makes the run's directory: readable by all (run.json says what ran), its `backup/`
    /// only by its owner (the copies may hold what only root may read).
    pub fn create(&self, run: &str) -> Result<()> {
        let backup = self.run_dir(run).join("backup");
        self.run(
            "mkdir",
            &[
                "-p".as_ref(),
                "-m".as_ref(),
                "0755".as_ref(),
                "--".as_ref(),
                self.run_dir(run).as_os_str(),
            ],
        )?;
        self.run(
            "mkdir",
            &[
                "-p".as_ref(),
                "-m".as_ref(),
                "0700".as_ref(),
                "--".as_ref(),
                backup.as_os_str(),
            ],
        )
    }

    /// Copies `path` into the run's backup (as `NAME`) when it exists; says whether it did.
    pub fn save(&self, run: &str, path: &str, name: &str) -> Result<Saved> {
        let target = Path::new(path);
        let existed = match std::fs::symlink_metadata(target) {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            // A directory this user may not enter: ask with the store's rights.
            Err(_) => self
                .command("test")
                .args(["-e", path])
                .stdin(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        };
        if !existed {
            return Ok(Saved {
                path: path.to_owned(),
                existed: false,
                backup: None,
            });
        }
        let copy = self.run_dir(run).join("backup").join(name);
        self.run(
            "cp",
            &[
                "-a".as_ref(),
                "--".as_ref(),
                target.as_os_str(),
                copy.as_os_str(),
            ],
        )?;
        Ok(Saved {
            path: path.to_owned(),
            existed: true,
            backup: Some(copy.to_string_lossy().into_owned()),
        })
    }

    /// Puts a saved file back byte for byte (or removes it when it did not exist).
    pub fn restore(&self, saved: &Saved) -> Result<()> {
        match (&saved.backup, saved.existed) {
            (Some(copy), true) => self.run(
                "cp",
                &[
                    "-a".as_ref(),
                    "--".as_ref(),
                    copy.as_ref(),
                    saved.path.as_ref(),
                ],
            ),
            _ => self.run("rm", &["-f".as_ref(), "--".as_ref(), saved.path.as_ref()]),
        }
    }

    /// Writes run.json (to a temporary name, then renamed over it).
    pub fn write(&self, run: &Run) -> Result<()> {
        let file = self.run_dir(&run.run).join("run.json");
        let tmp = self.run_dir(&run.run).join("run.json.tmp");
        let text = serde_json::to_vec_pretty(run)?;
        if self.sudo {
            let mut child = self
                .command("tee")
                .arg("--")
                .arg(&tmp)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .context("cannot run sudo tee")?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(&text)?;
            }
            let status = child.wait()?;
            if !status.success() {
                bail!("sudo tee {}: {status}", tmp.display());
            }
            self.run(
                "mv",
                &[
                    "-f".as_ref(),
                    "--".as_ref(),
                    tmp.as_os_str(),
                    file.as_os_str(),
                ],
            )
        } else {
            std::fs::write(&tmp, &text)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &file).with_context(|| format!("cannot write {}", file.display()))
        }
    }

    /// Every run in this store, oldest first. run.json is readable by everyone, so no sudo.
    pub fn runs(&self) -> Vec<Run> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut runs: Vec<Run> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let bytes = crate::facts::sysroot::read_regular_file(
                    &e.path().join("run.json"),
                    4 * 1024 * 1024,
                )
                .ok()?;
                serde_json::from_slice(&bytes).ok()
            })
            .collect();
        runs.sort_by(|a, b| a.run.cmp(&b.run));
        runs
    }
}

/// A new run's name: the time in UTC, unique among the stores' runs.
pub fn new_run_name(stores: &[Store]) -> String {
    let base = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let taken = |name: &str| stores.iter().any(|s| s.run_dir(name).exists());
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|name| !taken(name))
        .unwrap_or(base)
}
