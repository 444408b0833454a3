//! Facts: what dockdoc learned about the machine, each either known or unknown with a reason.
//!
//! Gathering is the only part of dockdoc that touches the system. Everything after it
//! (evaluation, reports, explain) is a pure function of [`Facts`], so a facts file can be
//! dumped with `dockdoc facts --format json`, attached to a bug report and replayed with
//! `dockdoc check --facts FILE`.

pub mod display;
pub mod docker;
pub mod host;
pub mod journal;
pub mod kernel;
pub mod kvm;
pub mod netfilter;
pub mod network;
pub mod nvidia;
pub mod os;
pub mod pacman;
pub mod rootless;
pub mod source;
pub mod storage;
pub mod sysroot;
pub mod systemd;
pub mod units;
pub mod user;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use source::{Source, source_of};
pub use sysroot::Sysroot;

/// A fact's value. Lists hold strings (module names, group names, package names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<String>),
}

impl Value {
    pub fn kind(&self) -> Option<FactKind> {
        match self {
            Value::Null => None,
            Value::Bool(_) => Some(FactKind::Bool),
            Value::Int(_) => Some(FactKind::Int),
            Value::Text(_) => Some(FactKind::Text),
            Value::List(_) => Some(FactKind::List),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("(none)"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Text(s) => f.write_str(s),
            Value::List(items) if items.is_empty() => f.write_str("(none)"),
            Value::List(items) => f.write_str(&items.join(", ")),
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::List(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One fact: known, unknown because a probe could not read its source, or skipped because
/// dockdoc was told not to contact that source (e.g. live endpoints under `--root`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Fact {
    Known { value: Value },
    Unknown { reason: String },
    Skipped { reason: String },
}

impl Fact {
    /// The fact with every text in it shown through [`crate::terminal::visible`], for a format
    /// a person reads.
    pub fn visible(&self) -> Fact {
        let shown = |s: &String| crate::terminal::visible(s).into_owned();
        match self {
            Fact::Known { value } => Fact::Known {
                value: match value {
                    Value::Text(s) => Value::Text(shown(s)),
                    Value::List(items) => Value::List(items.iter().map(shown).collect()),
                    other => other.clone(),
                },
            },
            Fact::Unknown { reason } => Fact::Unknown {
                reason: shown(reason),
            },
            Fact::Skipped { reason } => Fact::Skipped {
                reason: shown(reason),
            },
        }
    }

    pub fn known(value: impl Into<Value>) -> Self {
        Fact::Known {
            value: value.into(),
        }
    }
    pub fn unknown(reason: impl Into<String>) -> Self {
        Fact::Unknown {
            reason: reason.into(),
        }
    }
    pub fn skipped(reason: impl Into<String>) -> Self {
        Fact::Skipped {
            reason: reason.into(),
        }
    }
    pub fn value(&self) -> Option<&Value> {
        match self {
            Fact::Known { value } => Some(value),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self.value() {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self.value() {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }
    pub fn as_text(&self) -> Option<&str> {
        match self.value() {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[String]> {
        match self.value() {
            Some(Value::List(l)) => Some(l),
            _ => None,
        }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fact::Known { value } => value.fmt(f),
            Fact::Unknown { reason } => write!(f, "unknown, because {reason}"),
            Fact::Skipped { reason } => write!(f, "skipped: {reason}"),
        }
    }
}

impl<T: Into<Value>, E: fmt::Display> From<Result<T, E>> for Fact {
    fn from(r: Result<T, E>) -> Self {
        match r {
            Ok(v) => Fact::known(v),
            Err(e) => Fact::unknown(e.to_string()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    Bool,
    Int,
    Text,
    List,
}

impl fmt::Display for FactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FactKind::Bool => "bool",
            FactKind::Int => "int",
            FactKind::Text => "text",
            FactKind::List => "list",
        })
    }
}

/// The schema entry of one fact: its key, its type and a one-line description.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FactSpec {
    pub key: &'static str,
    pub kind: FactKind,
    pub doc: &'static str,
}

pub const fn spec(key: &'static str, kind: FactKind, doc: &'static str) -> FactSpec {
    FactSpec { key, kind, doc }
}

/// Facts that are not gathered but describe the run itself.
pub const RUN_SCHEMA: &[FactSpec] = &[
    spec(
        "run.profiles",
        FactKind::List,
        "the profiles selected for this run (docker, docker-osx, kernel-upgrade, rootless, registry, all)",
    ),
    spec(
        "run.pasted_ports",
        FactKind::List,
        "dockdoc explain: the host ports the pasted error says could not be exposed (\"cannot expose privileged port N\"); absent outside explain",
    ),
];

/// The ports a pasted error says could not be exposed, as a run fact (`run.pasted_ports`), and
/// the rootless facts derived again with them: `dockdoc explain` judges the port a failed
/// `docker run -p` asked for even after `--rm` removed its container.
pub fn with_pasted_ports(facts: &mut Facts, ports: &[u16]) {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    facts.set("run.pasted_ports", Fact::known(ports));
    rootless::derive(facts);
}

/// Every fact dockdoc knows, module by module.
pub fn schema() -> impl Iterator<Item = &'static FactSpec> {
    [
        RUN_SCHEMA,
        os::SCHEMA,
        kernel::SCHEMA,
        user::SCHEMA,
        pacman::SCHEMA,
        pacman::DERIVED_SCHEMA,
        systemd::SCHEMA,
        systemd::ACTIVATION_SCHEMA,
        journal::SCHEMA,
        docker::SCHEMA,
        kvm::SCHEMA,
        display::SCHEMA,
        host::SCHEMA,
        storage::SCHEMA,
        nvidia::SCHEMA,
        network::SCHEMA,
        netfilter::SCHEMA,
        rootless::SCHEMA,
    ]
    .into_iter()
    .flatten()
}

pub fn spec_of(key: &str) -> Option<&'static FactSpec> {
    schema().find(|s| s.key == key)
}

/// The snapshot of every fact, keyed by fact key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    #[serde(default)]
    pub host: BTreeMap<String, String>,
    pub facts: BTreeMap<String, Fact>,
}

impl Facts {
    pub fn set(&mut self, key: &str, fact: impl Into<Fact>) {
        self.facts.insert(key.to_owned(), fact.into());
    }

    pub fn get(&self, key: &str) -> Fact {
        self.facts
            .get(key)
            .cloned()
            .unwrap_or_else(|| Fact::unknown(format!("the fact {key} was not gathered")))
    }

    pub fn value(&self, key: &str) -> Option<&Value> {
        self.facts.get(key).and_then(Fact::value)
    }
    pub fn bool(&self, key: &str) -> Option<bool> {
        self.facts.get(key).and_then(Fact::as_bool)
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        self.facts.get(key).and_then(Fact::as_int)
    }
    pub fn text(&self, key: &str) -> Option<&str> {
        self.facts.get(key).and_then(Fact::as_text)
    }
    pub fn list(&self, key: &str) -> Option<&[String]> {
        self.facts.get(key).and_then(Fact::as_list)
    }

    /// Sets every key of `schema` that is not yet set to the given fact.
    pub fn fill_missing(&mut self, schema: &[FactSpec], fact: &Fact) {
        for s in schema {
            self.facts
                .entry(s.key.to_owned())
                .or_insert_with(|| fact.clone());
        }
    }

    /// Sets every key of `schema` to the given fact, replacing what is there.
    pub fn set_all(&mut self, schema: &[FactSpec], fact: &Fact) {
        for s in schema {
            self.facts.insert(s.key.to_owned(), fact.clone());
        }
    }
}

/// The environment variables dockdoc reads, captured once so tests can inject them.
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    const NAMES: &'static [&'static str] = &[
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_CONFIG",
        // Only whether it holds a Docker Hub login is read; its value is never shown.
        "DOCKER_AUTH_CONFIG",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "XDG_SESSION_TYPE",
        "XDG_RUNTIME_DIR",
        "XDG_SESSION_ID",
        "XAUTHORITY",
        "HOME",
        "USER",
        "SUDO_USER",
        "SUDO_UID",
        "SUDO_GID",
        "DBUS_SESSION_BUS_ADDRESS",
        "PATH",
        "PASSWORD_STORE_DIR",
    ];

    pub fn from_process() -> Self {
        let vars = Self::NAMES
            .iter()
            .filter_map(|n| std::env::var(n).ok().map(|v| ((*n).to_owned(), v)))
            .collect();
        Env { vars }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Which live endpoints dockdoc may contact. Under `--root` none is contacted unless it was
/// given explicitly, because the endpoints of the running system do not belong to that root.
#[derive(Clone, Debug, Default)]
pub struct Endpoints {
    pub docker_host: Option<String>,
    pub system_bus: Option<String>,
    pub user_bus: Option<String>,
    /// Whether the default endpoints (the system's own buses, sockets, X server) may be used.
    pub use_defaults: bool,
}

/// Everything a probe needs: where to read files, which endpoints it may contact, the
/// environment and the per-probe timeout.
#[derive(Clone, Debug)]
pub struct Context {
    pub sysroot: Sysroot,
    pub endpoints: Endpoints,
    pub env: Env,
    pub timeout: Duration,
    /// The optional questions the probes ask: only those a run's selected checks read the
    /// answers of (`app` sets them from their fact keys).
    pub asks: Ask,
    /// Whether daemon.json may be handed to the installed `dockerd --validate` (a process
    /// dockdoc starts); `--no-validate` turns it off.
    pub dockerd_validate: bool,
}

/// The optional questions: each costs a daemon real work on every run, so a run asks one only
/// when a selected check reads what it gives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Questions {
    /// The daemon's `/version`, for `docker.min_api_version`: it costs the daemon about as much
    /// as `/info` (it runs runc and docker-init to ask their versions).
    pub min_api_version: bool,
    /// libvirt's and virtlogd's units, for [`systemd::LIBVIRT_KEYS`]: for a unit that is not
    /// installed, systemd searches every unit directory before it answers not-found, which cost
    /// it more than all of docker's units together (about 0.8 ms of its CPU per run for the six).
    pub libvirt_units: bool,
    /// The results and exit statuses of docker's units and containerd's, and containerd's
    /// unit-file state ([`systemd::UNIT_DETAIL_KEYS`]): a derived fact reads them only when a
    /// unit has failed, which the snapshot asks for anyway, so only a check that reads one
    /// itself asks for them on every run (each is a D-Bus call).
    pub unit_details: bool,
    /// The container list, for [`docker::live::CONTAINER_KEYS`]: listing costs the daemon
    /// about a millisecond of CPU while it works out `/info`, and only the `docker-osx` and
    /// `rootless` checks read what it gives.
    pub containers: bool,
}

impl Questions {
    /// Every question: what `dockdoc facts` asks, so that a saved facts file answers any check.
    pub const ALL: Questions = Questions {
        min_api_version: true,
        libvirt_units: true,
        unit_details: true,
        containers: true,
    };

    /// The questions whose answers `fact_keys` (the selected checks' facts) read.
    pub fn for_keys<'a>(fact_keys: impl IntoIterator<Item = &'a str>) -> Self {
        let mut asks = Questions::default();
        for key in fact_keys {
            asks.min_api_version |= key == "docker.min_api_version";
            asks.libvirt_units |= systemd::LIBVIRT_KEYS.contains(&key);
            asks.unit_details |= systemd::UNIT_DETAIL_KEYS.contains(&key);
            asks.containers |= docker::live::CONTAINER_KEYS.contains(&key);
        }
        asks
    }
}

/// Which optional questions are asked: known when the probes start, or decided by the checks
/// once they have loaded. `check` loads them while the probes start, so loading them is not on
/// the way of the first request; the answers are needed only later.
#[derive(Clone, Debug)]
pub enum Ask {
    Now(Questions),
    Later(tokio::sync::watch::Receiver<Option<Questions>>),
}

impl Ask {
    /// The decision, waiting for it when it is still to come; `None` when the run stopped
    /// before deciding (the checks did not load, or the selection named no check).
    pub async fn decided(&self) -> Option<Questions> {
        match self {
            Ask::Now(asks) => Some(*asks),
            Ask::Later(rx) => {
                let mut rx = rx.clone();
                rx.wait_for(Option::is_some).await.ok().and_then(|v| *v)
            }
        }
    }

    /// The decision, waiting for it at most `limit`: a probe asks this under its own timeout,
    /// and the checks may still be loading (a large `--checks-dir`), which is no fault of the
    /// daemon asked. Past `limit`, every question is asked. `None` when the run stopped before
    /// deciding.
    pub async fn decided_within(&self, limit: Duration) -> Option<Questions> {
        tokio::time::timeout(limit, self.decided())
            .await
            .unwrap_or(Some(Questions::ALL))
    }
}

impl Context {
    pub fn new(sysroot: Sysroot, endpoints: Endpoints, env: Env, timeout: Duration) -> Self {
        Context {
            sysroot,
            endpoints,
            env,
            timeout,
            asks: Ask::Now(Questions::default()),
            dockerd_validate: true,
        }
    }

    /// Sets [`Context::asks`].
    pub fn asking(mut self, asks: Questions) -> Self {
        self.asks = Ask::Now(asks);
        self
    }

    /// Leaves [`Context::asks`] to be decided through `decision`.
    pub fn asking_later(
        mut self,
        decision: tokio::sync::watch::Receiver<Option<Questions>>,
    ) -> Self {
        self.asks = Ask::Later(decision);
        self
    }

    /// The reason a live probe is skipped when its endpoint was not given under `--root`.
    pub fn live_skip_reason(&self, what: &str, flag: &str) -> String {
        format!(
            "{what} is not contacted when reading another root (--root); pass {flag} to use one"
        )
    }
}

/// Computes the derived facts, which combine what several sources said. It runs after every
/// probe, and again in tests that override the facts a derivation reads.
pub fn derive(facts: &mut Facts) {
    systemd::derive(facts);
    user::derive(facts);
    docker::derive(facts);
    kernel::derive(facts);
    pacman::derive(facts);
    kvm::derive(facts);
    display::derive(facts);
    host::derive(facts);
    // After host: the data root is final there.
    storage::derive(facts);
    nvidia::derive(facts);
    network::derive(facts);
    rootless::derive(facts);
    netfilter::derive(facts);
}

/// The facts read from files (through the sysroot), in module order. The live probes and the
/// order they run in are `crate::gather`'s.
pub fn gather_files(ctx: &Context) -> Facts {
    let mut facts = Facts::default();
    facts
        .host
        .insert("root".into(), ctx.sysroot.root().display().to_string());
    os::gather(ctx, &mut facts);
    kernel::gather(ctx, &mut facts);
    user::gather(ctx, &mut facts);
    // After user: it judges the user that module found.
    rootless::gather(ctx, &mut facts);
    pacman::gather(ctx, &mut facts);
    kvm::gather(ctx, &mut facts);
    host::gather(ctx, &mut facts);
    storage::gather(ctx, &mut facts);
    nvidia::gather(ctx, &mut facts);
    network::gather(ctx, &mut facts);
    docker::gather_files(ctx, &mut facts);
    display::gather_files(ctx, &mut facts);
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn questions_not_decided_in_time_are_all_asked() {
        let (decide, decision) = tokio::sync::watch::channel(None);
        let ask = Ask::Later(decision);
        let limit = Duration::from_millis(20);
        assert_eq!(ask.decided_within(limit).await, Some(Questions::ALL));
        let asks = Questions::for_keys(["docker.min_api_version"]);
        decide.send(Some(asks)).unwrap();
        assert_eq!(ask.decided_within(limit).await, Some(asks));
        let (decide, decision) = tokio::sync::watch::channel(None);
        drop(decide);
        assert_eq!(Ask::Later(decision).decided_within(limit).await, None);
    }
}
