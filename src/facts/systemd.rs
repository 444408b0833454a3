//! systemd over D-Bus (zbus): unit states of docker, its socket and containerd on the system
//! bus, and of libvirt's daemons when a selected check reads them, and the rootless
//! docker.service on the user bus. One connection per bus.

use std::future::Future;
use std::time::Duration;

use zbus::proxy::CacheProperties;
use zbus::{Connection, OwnedObjectPath, proxy};

use super::{Context, Fact, FactKind::*, FactSpec, Facts, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec("systemd.system_bus", Bool, "the system bus answered"),
    spec(
        "systemd.docker_service_load_state",
        Text,
        "docker.service LoadState (loaded, not-found, masked, …)",
    ),
    spec(
        "systemd.docker_service_active_state",
        Text,
        "docker.service ActiveState (active, inactive, failed, activating, …)",
    ),
    spec(
        "systemd.docker_service_sub_state",
        Text,
        "docker.service SubState",
    ),
    spec(
        "systemd.docker_service_result",
        Text,
        "docker.service Result (success, exit-code, start-limit-hit, …)",
    ),
    spec(
        "systemd.docker_service_exit_status",
        Int,
        "docker.service ExecMainStatus of the last run",
    ),
    spec(
        "systemd.docker_service_unit_file_state",
        Text,
        "docker.service UnitFileState (enabled, disabled, static, …)",
    ),
    spec(
        "systemd.docker_service_exec_start",
        Text,
        "docker.service ExecStart command line",
    ),
    spec(
        "systemd.docker_socket_load_state",
        Text,
        "docker.socket LoadState",
    ),
    spec(
        "systemd.docker_socket_active_state",
        Text,
        "docker.socket ActiveState",
    ),
    spec(
        "systemd.docker_socket_sub_state",
        Text,
        "docker.socket SubState (listening, …)",
    ),
    spec(
        "systemd.docker_socket_result",
        Text,
        "docker.socket Result (success, service-start-limit-hit, …)",
    ),
    spec(
        "systemd.docker_socket_unit_file_state",
        Text,
        "docker.socket UnitFileState",
    ),
    spec(
        "systemd.libvirt_daemon_active",
        Bool,
        "libvirtd or the modular virtqemud is active or its socket is listening",
    ),
    spec(
        "systemd.libvirt_daemon_states",
        Text,
        "ActiveState of libvirtd.service, libvirtd.socket, virtqemud.service, virtqemud.socket",
    ),
    spec(
        "systemd.virtlogd_active",
        Bool,
        "virtlogd.service is active or virtlogd.socket is listening",
    ),
    spec(
        "systemd.libvirt_units_loaded",
        Bool,
        "systemd knows libvirtd or virtqemud (a .service or .socket is loaded): libvirt is installed",
    ),
    spec(
        "systemd.containerd_service_load_state",
        Text,
        "containerd.service LoadState (loaded, not-found, masked, …)",
    ),
    spec(
        "systemd.containerd_service_active_state",
        Text,
        "containerd.service ActiveState (active, inactive, failed, activating, …)",
    ),
    spec(
        "systemd.containerd_service_sub_state",
        Text,
        "containerd.service SubState",
    ),
    spec(
        "systemd.containerd_service_result",
        Text,
        "containerd.service Result (success, exit-code, …)",
    ),
    spec(
        "systemd.containerd_service_exit_status",
        Int,
        "containerd.service ExecMainStatus of the last run (203: systemd could not execute the program, EXEC)",
    ),
    spec(
        "systemd.containerd_service_unit_file_state",
        Text,
        "containerd.service UnitFileState (enabled, disabled, …)",
    ),
    spec("systemd.user_bus", Bool, "the user bus answered"),
    spec(
        "systemd.user_docker_service_active_state",
        Text,
        "ActiveState of the rootless docker.service under systemd --user",
    ),
    spec(
        "systemd.user_docker_service_result",
        Text,
        "Result of the rootless docker.service under systemd --user (success, exit-code, …)",
    ),
    spec(
        "systemd.user_docker_service_unit_file_state",
        Text,
        "UnitFileState of the rootless docker.service under systemd --user (enabled, disabled, …); null when it has no unit file",
    ),
];

/// What this run's own connection to the Docker socket did to docker.service (socket
/// activation), and the derived description of a failure, set by the orchestration
/// (`crate::gather`) and [`derive`].
pub const ACTIVATION_SCHEMA: &[FactSpec] = &[
    spec(
        "systemd.docker_activation",
        Text,
        "what connecting to the Docker socket did to docker.service: none (it was running, or the endpoint is not systemd's docker.socket), answered (this run started it through docker.socket and the daemon answered), failed (this run started it and the start failed), starting (still starting when the probe gave up), skipped (--no-activate: not contacted, as that would have started it)",
    ),
    spec(
        "systemd.docker_service_after_connect",
        Text,
        "docker.service as read again after this run's connection started it: ActiveState (SubState), Result and exit status; null when the run started nothing",
    ),
    spec(
        "systemd.containerd_unavailable",
        Text,
        "why the containerd dockerd's `--containerd` flag names is not there: containerd.service failed (with its result and exit status; 203 means its program is missing), is not installed, or is stopped while docker.service runs, starts or failed; or dockerd's last error says it cannot dial containerd's socket. Null when containerd is there, or docker.service runs no external containerd",
    ),
    spec(
        "systemd.docker_service_failure",
        Text,
        "how docker.service failed, with dockerd's last error when the journal shows it: from the snapshot (failed, or docker.socket failed) or from this run's start; null when it did not fail",
    ),
];

/// The system bus of a systemd host (`/var/run` is a symlink to `/run` there).
pub const DEFAULT_SYSTEM_BUS: &str = "unix:path=/run/dbus/system_bus_socket";

/// The keys the system bus gives.
pub const SYSTEM_KEYS: &[&str] = &[
    "systemd.system_bus",
    "systemd.docker_service_load_state",
    "systemd.docker_service_active_state",
    "systemd.docker_service_sub_state",
    "systemd.docker_service_result",
    "systemd.docker_service_exit_status",
    "systemd.docker_service_unit_file_state",
    "systemd.docker_service_exec_start",
    "systemd.docker_socket_load_state",
    "systemd.docker_socket_active_state",
    "systemd.docker_socket_sub_state",
    "systemd.docker_socket_result",
    "systemd.docker_socket_unit_file_state",
    "systemd.libvirt_daemon_active",
    "systemd.libvirt_daemon_states",
    "systemd.libvirt_units_loaded",
    "systemd.virtlogd_active",
    "systemd.containerd_service_load_state",
    "systemd.containerd_service_active_state",
    "systemd.containerd_service_sub_state",
    "systemd.containerd_service_result",
    "systemd.containerd_service_exit_status",
    "systemd.containerd_service_unit_file_state",
];

/// The facts the user bus gives: the last entries of [`SCHEMA`].
pub const USER_SCHEMA: &[FactSpec] = SCHEMA.split_at(SCHEMA.len() - USER_KEYS.len()).1;

const USER_KEYS: &[&str] = &[
    "systemd.user_bus",
    "systemd.user_docker_service_active_state",
    "systemd.user_docker_service_result",
    "systemd.user_docker_service_unit_file_state",
];

/// The facts of libvirt's and virtlogd's units, read only when a selected check reads one
/// ([`super::Questions::libvirt_units`]).
pub const LIBVIRT_KEYS: &[&str] = &[
    "systemd.libvirt_daemon_active",
    "systemd.libvirt_daemon_states",
    "systemd.libvirt_units_loaded",
    "systemd.virtlogd_active",
];

/// Why [`LIBVIRT_KEYS`] were not read.
pub const LIBVIRT_NOT_ASKED: &str =
    "systemd is asked for libvirt's units only when a selected check reads them";

/// libvirt's units: the monolithic daemon and the modular QEMU driver.
const LIBVIRT_UNITS: [&str; 4] = [
    "libvirtd.service",
    "libvirtd.socket",
    "virtqemud.service",
    "virtqemud.socket",
];
const VIRTLOGD_UNITS: [&str; 2] = ["virtlogd.service", "virtlogd.socket"];
/// The containerd dockerd dials when docker.service passes `--containerd` (Arch's unit:
/// `--containerd=/run/containerd/containerd.sock`, `Wants=` and `After=containerd.service`).
const CONTAINERD_SERVICE: &str = "containerd.service";

/// One row of ListUnitsByNames: name, description, load, active and sub state, following,
/// object path, job id, job type, job path.
type UnitRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    OwnedObjectPath,
    u32,
    String,
    OwnedObjectPath,
);

#[proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait Manager {
    fn list_units_by_names(&self, names: &[&str]) -> zbus::Result<Vec<UnitRow>>;
}

#[proxy(
    interface = "org.freedesktop.systemd1.Unit",
    default_service = "org.freedesktop.systemd1"
)]
trait Unit {
    #[zbus(property)]
    fn unit_file_state(&self) -> zbus::Result<String>;
}

/// One entry of ExecStart: path, argv, ignore-failure, start/exit timestamps, pid, code, status.
type ExecCommand = (String, Vec<String>, bool, u64, u64, u64, u64, u32, i32, i32);

#[proxy(
    interface = "org.freedesktop.systemd1.Service",
    default_service = "org.freedesktop.systemd1"
)]
trait Service {
    #[zbus(property)]
    fn result(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn exec_main_status(&self) -> zbus::Result<i32>;
    #[zbus(property)]
    fn exec_start(&self) -> zbus::Result<Vec<ExecCommand>>;
    #[zbus(property, name = "NRestarts")]
    fn n_restarts(&self) -> zbus::Result<u32>;
}

#[proxy(
    interface = "org.freedesktop.systemd1.Socket",
    default_service = "org.freedesktop.systemd1"
)]
trait Socket {
    #[zbus(property)]
    fn result(&self) -> zbus::Result<String>;
}

/// What systemd said about one unit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnitState {
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    pub unit_file_state: String,
    /// Service and socket units have a Result; other types do not.
    pub result: Option<String>,
    pub exec_main_status: Option<i32>,
    /// ExecStart rendered as a command line; `None` when the unit has none.
    pub exec_start: Option<String>,
    /// How often a service was restarted automatically since it was last started by hand
    /// (NRestarts): above 0, a start failed and `Restart=` is retrying it.
    pub n_restarts: Option<u32>,
    /// The properties not asked because no fact read them in this run (their facts are
    /// skipped); a unit systemd did not find has none to skip.
    pub skipped: Properties,
}

impl UnitState {
    /// Active for a service (running or reloading), or listening/running for a socket.
    pub fn is_active(&self) -> bool {
        matches!(self.active_state.as_str(), "active" | "reloading")
    }
}

/// A unit read: its state, or why it could not be read (the reason names the unit).
pub type UnitRead = Result<UnitState, String>;

/// How a bus is reached, or why it is not.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Address(String),
    /// Not contacted (under `--root` without an explicit address).
    Skip(String),
    /// No address is known: the bus is known to be absent, with this reason.
    Absent(String),
}

fn system_target(ctx: &Context) -> Target {
    match (&ctx.endpoints.system_bus, ctx.endpoints.use_defaults) {
        (Some(addr), _) => Target::Address(addr.clone()),
        (None, true) => Target::Address(DEFAULT_SYSTEM_BUS.to_owned()),
        (None, false) => Target::Skip(ctx.live_skip_reason("systemd", "--system-bus")),
    }
}

fn user_target(ctx: &Context) -> Target {
    if let Some(addr) = &ctx.endpoints.user_bus {
        return Target::Address(addr.clone());
    }
    if !ctx.endpoints.use_defaults {
        return Target::Skip(ctx.live_skip_reason("the user's systemd", "--user-bus"));
    }
    if let Some(addr) = ctx.env.get("DBUS_SESSION_BUS_ADDRESS") {
        return Target::Address(addr.to_owned());
    }
    match ctx.env.get("XDG_RUNTIME_DIR") {
        Some(dir) => Target::Address(format!("unix:path={}/bus", dir.trim_end_matches('/'))),
        None => Target::Absent(
            "no user bus address: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set"
                .to_owned(),
        ),
    }
}

fn wait_text(timeout: Duration) -> String {
    humantime::format_duration(timeout).to_string()
}

/// Runs one D-Bus exchange under the context's timeout; errors become reasons.
async fn bounded<T, F>(timeout: Duration, what: &str, call: F) -> Result<T, String>
where
    F: Future<Output = zbus::Result<T>>,
{
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within {}", wait_text(timeout))),
    }
}

/// Opens a connection to the bus at `address` (authentication and Hello included).
async fn connect(address: &str, which: &str, timeout: Duration) -> Result<Connection, String> {
    let build = async {
        zbus::connection::Builder::address(address)
            .method_timeout(timeout)
            .build()
            .await
    };
    match tokio::time::timeout(timeout, build).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => {
            // zbus repeats the address; say it once.
            let e = e.to_string();
            let e = e
                .strip_prefix(&format!("failed to connect to `{address}`: "))
                .unwrap_or(&e);
            Err(format!("cannot connect to the {which} at {address}: {e}"))
        }
        Err(_) => Err(format!(
            "cannot connect to the {which} at {address}: no answer within {}",
            wait_text(timeout)
        )),
    }
}

/// Renders ExecStart entries as command lines: argv joined by spaces, entries by " ; ".
pub fn render_exec_start(commands: &[ExecCommand]) -> Option<String> {
    let lines: Vec<String> = commands
        .iter()
        .map(|(path, argv, ..)| {
            if argv.is_empty() {
                path.clone()
            } else {
                argv.join(" ")
            }
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join(" ; "))
}

/// The properties read of a unit beyond its load, active and sub states: each is one D-Bus
/// call, and every call costs systemd and dbus-daemon CPU that the daemon being asked at the
/// same time would otherwise have, so a unit is asked only what its facts read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Properties {
    pub unit_file_state: bool,
    /// A service's or a socket's Result.
    pub result: bool,
    /// A service's ExecMainStatus.
    pub exec_main_status: bool,
    /// A service's ExecStart.
    pub exec_start: bool,
    /// A service's NRestarts.
    pub n_restarts: bool,
}

impl Properties {
    /// The states alone.
    pub const STATES: Properties = Properties {
        unit_file_state: false,
        result: false,
        exec_main_status: false,
        exec_start: false,
        n_restarts: false,
    };
    /// The unit-file state and the result: a socket, or a service whose exit status no fact reads.
    pub const RESULT: Properties = Properties {
        unit_file_state: true,
        result: true,
        ..Properties::STATES
    };
    /// Everything.
    pub const ALL: Properties = Properties {
        unit_file_state: true,
        result: true,
        exec_main_status: true,
        exec_start: true,
        n_restarts: true,
    };

    /// These properties without those of `other`.
    pub const fn without(self, other: Properties) -> Properties {
        Properties {
            unit_file_state: self.unit_file_state && !other.unit_file_state,
            result: self.result && !other.result,
            exec_main_status: self.exec_main_status && !other.exec_main_status,
            exec_start: self.exec_start && !other.exec_start,
            n_restarts: self.n_restarts && !other.n_restarts,
        }
    }
}

/// Reads one unit in full: its states, unit-file state and result (and a service's exit
/// status, ExecStart and NRestarts).
pub async fn read_unit(conn: &Connection, name: &str, timeout: Duration) -> UnitRead {
    read_units(conn, &[(name, Properties::ALL)], timeout)
        .await
        .pop()
        .unwrap_or_else(|| Err(format!("{name}: systemd listed no unit")))
}

/// Reads several units: their load, active and sub states in one ListUnitsByNames call, then
/// the properties each unit is given, all asked at once ([`list_units`], [`read_listed`]).
/// Two round trips in all, whatever the number of units; the reads come back in the order of
/// `units`, each error naming its unit.
pub async fn read_units(
    conn: &Connection,
    units: &[(&str, Properties)],
    timeout: Duration,
) -> Vec<UnitRead> {
    let names: Vec<&str> = units.iter().map(|(n, _)| *n).collect();
    match list_units(conn, &names, timeout).await {
        Ok(listed) => read_listed(conn, units, listed, timeout).await,
        Err(reason) => fail_all(&names, &reason),
    }
}

/// Every unit's read failed for one reason.
fn fail_all(names: &[&str], reason: &str) -> Vec<UnitRead> {
    names
        .iter()
        .map(|n| Err(format!("{n}: {reason}")))
        .collect()
}

/// A unit as ListUnitsByNames gave it: its states and its object path.
pub type Listed = (UnitState, OwnedObjectPath);

/// The load, active and sub states of `names`, in one ListUnitsByNames call (which loads each
/// unit as LoadUnit would, so a missing one is listed as not-found), in the order of `names`.
pub async fn list_units(
    conn: &Connection,
    names: &[&str],
    timeout: Duration,
) -> Result<Vec<Listed>, String> {
    let listed = async {
        let manager = ManagerProxy::builder(conn)
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        manager.list_units_by_names(names).await
    };
    let rows = bounded(timeout, "ListUnitsByNames", listed).await?;
    if rows.len() != names.len() {
        return Err(format!(
            "ListUnitsByNames answered {} units for {} names",
            rows.len(),
            names.len()
        ));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let (_, _, load_state, active_state, sub_state, _, path, ..) = row;
            let state = UnitState {
                load_state,
                active_state,
                sub_state,
                ..UnitState::default()
            };
            (state, path)
        })
        .collect())
}

/// Whether a listed unit has no property to ask: systemd did not find it. A unit that failed
/// and whose file was removed afterwards is still loaded, and still has its result.
fn nothing_to_ask(state: &UnitState) -> bool {
    state.load_state == "not-found" && state.active_state != "failed"
}

/// Asks each listed unit the properties `units` gives it, all at once, but none of a unit
/// systemd did not find ([`nothing_to_ask`]).
pub async fn read_listed(
    conn: &Connection,
    units: &[(&str, Properties)],
    listed: Vec<Listed>,
    timeout: Duration,
) -> Vec<UnitRead> {
    let reads = units
        .iter()
        .zip(listed)
        .map(|(&(name, asked), (state, path))| {
            let asked = match nothing_to_ask(&state) {
                true => Properties::STATES,
                false => asked,
            };
            read_details(conn, name, path, state, asked, timeout)
        });
    futures_util::future::join_all(reads).await
}

/// Runs `call` when `asked`; `None` when it was not.
async fn if_asked<T>(
    asked: bool,
    call: impl Future<Output = Result<T, String>>,
) -> Result<Option<T>, String> {
    match asked {
        true => call.await.map(Some),
        false => Ok(None),
    }
}

/// A proxy of one of `name`'s interfaces at its object `path`, without a property cache: each
/// property is asked once, when it is read.
async fn proxy<'a, T>(
    conn: &Connection,
    name: &str,
    path: OwnedObjectPath,
    timeout: Duration,
) -> Result<T, String>
where
    T: From<zbus::Proxy<'a>> + zbus::proxy::Defaults,
{
    let built = zbus::proxy::Builder::<T>::new(conn)
        .path(path)
        .cache_properties(CacheProperties::No)
        .build();
    bounded(timeout, name, built).await
}

/// Adds the properties `asked` names to a unit's states: the unit-file state, and a service's
/// or socket's result (and a service's exit status, ExecStart and NRestarts).
async fn read_details(
    conn: &Connection,
    name: &str,
    path: OwnedObjectPath,
    mut state: UnitState,
    asked: Properties,
    timeout: Duration,
) -> UnitRead {
    let unit_path = path.clone();
    let file_state = async move {
        let unit: UnitProxy = proxy(conn, name, unit_path, timeout).await?;
        bounded(timeout, name, unit.unit_file_state()).await
    };
    let file_state = if_asked(asked.unit_file_state, file_state);
    let service_asked =
        asked.result || asked.exec_main_status || asked.exec_start || asked.n_restarts;
    if name.ends_with(".service") && service_asked {
        let service: ServiceProxy = proxy(conn, name, path, timeout).await?;
        let (file, result, status, exec, restarts) = tokio::join!(
            file_state,
            if_asked(asked.result, bounded(timeout, name, service.result())),
            if_asked(
                asked.exec_main_status,
                bounded(timeout, name, service.exec_main_status())
            ),
            if_asked(
                asked.exec_start,
                bounded(timeout, name, service.exec_start())
            ),
            // Older systemd has no NRestarts: its absence is no error.
            if_asked(asked.n_restarts, async {
                Ok(bounded(timeout, name, service.n_restarts()).await.ok())
            }),
        );
        state.unit_file_state = file?.unwrap_or_default();
        state.n_restarts = restarts?.flatten();
        state.result = result?;
        state.exec_main_status = status?;
        state.exec_start = exec?.as_deref().and_then(render_exec_start);
    } else if name.ends_with(".socket") && asked.result {
        let socket: SocketProxy = proxy(conn, name, path, timeout).await?;
        let (file, result) = tokio::join!(file_state, bounded(timeout, name, socket.result()));
        state.unit_file_state = file?.unwrap_or_default();
        state.result = Some(result?);
    } else {
        state.unit_file_state = file_state.await?.unwrap_or_default();
    }
    Ok(state)
}

fn text(read: &UnitRead, f: impl Fn(&UnitState) -> Option<String>) -> Fact {
    match read {
        Ok(state) => Fact::known(f(state)),
        Err(reason) => Fact::unknown(reason.clone()),
    }
}

/// UnitFileState, or no value when the unit has no unit file (systemd says "").
fn unit_file_state(s: &UnitState) -> Option<String> {
    (!s.unit_file_state.is_empty()).then(|| s.unit_file_state.clone())
}

/// Whether any of the units is active. Known true as soon as one is; unknown when none is
/// and some could not be read.
pub fn any_active(reads: &[(&str, &UnitRead)]) -> Fact {
    any_unit(reads, UnitState::is_active)
}

/// Whether any of the units is loaded (installed). Same three-valued rule as [`any_active`].
pub fn any_loaded(reads: &[(&str, &UnitRead)]) -> Fact {
    any_unit(reads, |s| s.load_state == "loaded")
}

/// True as soon as one unit that could be read satisfies `pred`; else unknown with the read
/// errors, or false when every unit was read.
fn any_unit(reads: &[(&str, &UnitRead)], pred: impl Fn(&UnitState) -> bool) -> Fact {
    if reads.iter().any(|(_, r)| r.as_ref().is_ok_and(&pred)) {
        return Fact::known(true);
    }
    let errors: Vec<&str> = reads
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().map(String::as_str))
        .collect();
    if errors.is_empty() {
        Fact::known(false)
    } else {
        Fact::unknown(errors.join("; "))
    }
}

/// `name=ActiveState` for each unit; units that are not loaded show their LoadState instead.
pub fn render_states(reads: &[(&str, &UnitRead)]) -> Fact {
    if let Some(Err(reason)) = reads
        .iter()
        .all(|(_, r)| r.is_err())
        .then(|| reads.first().map(|(_, r)| *r))
        .flatten()
    {
        return Fact::unknown(reason.clone());
    }
    let parts: Vec<String> = reads
        .iter()
        .map(|(name, r)| match r {
            Ok(s) if s.load_state == "loaded" => format!("{name}={}", s.active_state),
            Ok(s) => format!("{name}={}", s.load_state),
            Err(_) => format!("{name}=unknown"),
        })
        .collect();
    Fact::known(parts.join(", "))
}

/// Turns the unit reads of the system bus into facts.
/// The states every unit has, as `<prefix>_load_state`, `_active_state`, `_sub_state`, `_result`
/// and `_unit_file_state`.
fn set_unit_states(facts: &mut Facts, prefix: &str, unit: &UnitRead) {
    facts.set(
        &format!("{prefix}_load_state"),
        text(unit, |s| Some(s.load_state.clone())),
    );
    facts.set(
        &format!("{prefix}_active_state"),
        text(unit, |s| Some(s.active_state.clone())),
    );
    facts.set(
        &format!("{prefix}_sub_state"),
        text(unit, |s| Some(s.sub_state.clone())),
    );
    facts.set(
        &format!("{prefix}_result"),
        asked(unit, |p| p.result, |s| s.result.clone()),
    );
    facts.set(
        &format!("{prefix}_unit_file_state"),
        asked(unit, |p| p.unit_file_state, unit_file_state),
    );
}

/// A property's fact: skipped when the run did not ask for it, else as [`text`].
fn asked(
    read: &UnitRead,
    property: impl Fn(&Properties) -> bool,
    f: impl Fn(&UnitState) -> Option<String>,
) -> Fact {
    match read {
        Ok(state) if property(&state.skipped) => Fact::skipped(UNIT_DETAILS_NOT_ASKED),
        _ => text(read, f),
    }
}

/// A service's exit status fact.
fn exit_status(read: &UnitRead) -> Fact {
    match read {
        Ok(s) if s.skipped.exec_main_status => Fact::skipped(UNIT_DETAILS_NOT_ASKED),
        Ok(s) => Fact::known(s.exec_main_status.map(i64::from)),
        Err(reason) => Fact::unknown(reason.clone()),
    }
}

pub fn system_facts(
    docker_service: &UnitRead,
    docker_socket: &UnitRead,
    containerd: &UnitRead,
) -> Facts {
    let mut facts = Facts::default();
    facts.set("systemd.system_bus", Fact::known(true));
    set_unit_states(&mut facts, "systemd.docker_service", docker_service);
    facts.set(
        "systemd.docker_service_exit_status",
        exit_status(docker_service),
    );
    facts.set(
        "systemd.docker_service_exec_start",
        text(docker_service, |s| s.exec_start.clone()),
    );
    set_unit_states(&mut facts, "systemd.docker_socket", docker_socket);
    set_unit_states(&mut facts, "systemd.containerd_service", containerd);
    facts.set(
        "systemd.containerd_service_exit_status",
        exit_status(containerd),
    );
    facts
}

/// Sets [`LIBVIRT_KEYS`] from the reads of libvirt's and virtlogd's units.
pub fn set_libvirt_facts(
    facts: &mut Facts,
    libvirt: &[(&str, &UnitRead)],
    virtlogd: &[(&str, &UnitRead)],
) {
    facts.set("systemd.libvirt_daemon_active", any_active(libvirt));
    facts.set("systemd.libvirt_daemon_states", render_states(libvirt));
    facts.set("systemd.libvirt_units_loaded", any_loaded(libvirt));
    facts.set("systemd.virtlogd_active", any_active(virtlogd));
}

fn set_keys(facts: &mut Facts, keys: &[&str], fact: &Fact) {
    for key in keys {
        facts.set(key, fact.clone());
    }
}

/// The snapshot of the system bus: every unit's states, read before anything connects to a
/// socket systemd activates. Also returns the connection, so what a later connection caused can
/// be read on it ([`read_docker_service`]). A bus given with `--system-bus` that does not answer
/// leaves `systemd.system_bus` unknown with the reason (the checks that need it say unknown); the
/// default bus that does not answer is known absent.
pub async fn gather_system(ctx: &Context) -> (Facts, Option<Connection>) {
    let mut facts = Facts::default();
    let address = match system_target(ctx) {
        Target::Address(a) => a,
        Target::Skip(reason) => {
            set_keys(&mut facts, SYSTEM_KEYS, &Fact::skipped(reason));
            return (facts, None);
        }
        Target::Absent(reason) => {
            set_keys(&mut facts, SYSTEM_KEYS, &Fact::unknown(reason));
            facts.set("systemd.system_bus", Fact::known(false));
            return (facts, None);
        }
    };
    let conn = match connect(&address, "system bus", ctx.timeout).await {
        Ok(c) => c,
        Err(reason) => {
            set_keys(&mut facts, SYSTEM_KEYS, &Fact::unknown(reason.clone()));
            if ctx.endpoints.system_bus.is_none() {
                facts.set("systemd.system_bus", Fact::known(false));
            } else {
                facts.set(
                    "systemd.system_bus",
                    Fact::unknown(format!(
                        "the bus given with --system-bus did not answer: {reason}"
                    )),
                );
            }
            return (facts, None);
        }
    };
    // docker's units and containerd's: their states, then what this run's facts read of them
    // ([`snapshot_properties`]). libvirt's only when a selected check reads them, and then their
    // states say all the checks ask.
    let names = SNAPSHOT.map(|(name, _)| name);
    let (listed, asks) = tokio::join!(
        list_units(&conn, &names, ctx.timeout),
        ctx.asks.decided_within(ctx.timeout / 2)
    );
    let docker_units = async {
        match listed {
            Ok(listed) => {
                let units = snapshot_properties(&listed, asks.unwrap_or_default());
                let mut reads = read_listed(&conn, &units, listed, ctx.timeout).await;
                for ((read, (_, full)), (_, asked)) in reads.iter_mut().zip(SNAPSHOT).zip(units) {
                    if let Ok(state) = read
                        && !nothing_to_ask(state)
                    {
                        state.skipped = full.without(asked);
                    }
                }
                reads
            }
            Err(reason) => fail_all(&names, &reason),
        }
    };
    let libvirt_units = async {
        match asks {
            Some(asks) if asks.libvirt_units => {
                let units: Vec<(&str, Properties)> = LIBVIRT_UNITS
                    .iter()
                    .chain(&VIRTLOGD_UNITS)
                    .map(|name| (*name, Properties::STATES))
                    .collect();
                Ok(read_units(&conn, &units, ctx.timeout).await)
            }
            Some(_) => Err(Fact::skipped(LIBVIRT_NOT_ASKED)),
            None => Err(Fact::skipped(
                "the run stopped before libvirt's units were read",
            )),
        }
    };
    let (docker_reads, libvirt_reads) = tokio::join!(docker_units, libvirt_units);
    let [svc, sock, ctrd] = in_order(docker_reads);
    let mut facts = system_facts(&svc, &sock, &ctrd);
    match libvirt_reads {
        Ok(reads) => {
            let [lsvc, lsock, qsvc, qsock, vsvc, vsock] = in_order(reads);
            let libvirt = [
                (LIBVIRT_UNITS[0], &lsvc),
                (LIBVIRT_UNITS[1], &lsock),
                (LIBVIRT_UNITS[2], &qsvc),
                (LIBVIRT_UNITS[3], &qsock),
            ];
            let virtlogd = [(VIRTLOGD_UNITS[0], &vsvc), (VIRTLOGD_UNITS[1], &vsock)];
            set_libvirt_facts(&mut facts, &libvirt, &virtlogd);
        }
        Err(skipped) => set_keys(&mut facts, LIBVIRT_KEYS, &skipped),
    }
    (facts, Some(conn))
}

/// The reads of `N` units asked together, in the order asked: each an error should systemd's
/// answer have lost one.
fn in_order<const N: usize>(reads: Vec<UnitRead>) -> [UnitRead; N] {
    <[UnitRead; N]>::try_from(reads)
        .unwrap_or_else(|_| std::array::from_fn(|_| Err("systemd's answer lost a unit".to_owned())))
}

/// docker's units and containerd's, with everything the snapshot may ask of each: the facts
/// read all of it (NRestarts only matters after a start this run caused, see `read_unit`).
const SNAPSHOT: [(&str, Properties); 3] = [
    (
        "docker.service",
        Properties::ALL.without(Properties {
            n_restarts: true,
            ..Properties::STATES
        }),
    ),
    ("docker.socket", Properties::RESULT),
    (
        CONTAINERD_SERVICE,
        Properties {
            exec_main_status: true,
            ..Properties::RESULT
        },
    ),
];

/// The facts of [`SNAPSHOT`]'s properties that no built-in check reads itself: a derived fact
/// reads them only when one of the units has failed (`systemd.docker_service_failure`,
/// `systemd.containerd_unavailable`).
pub const UNIT_DETAIL_KEYS: &[&str] = &[
    "systemd.docker_service_result",
    "systemd.docker_service_exit_status",
    "systemd.docker_socket_result",
    "systemd.containerd_service_result",
    "systemd.containerd_service_exit_status",
    "systemd.containerd_service_unit_file_state",
];

/// Why a fact of [`UNIT_DETAIL_KEYS`] was not read.
pub const UNIT_DETAILS_NOT_ASKED: &str = "systemd is asked for it only when docker.service, docker.socket or containerd.service has failed, or a selected check reads it";

/// What the snapshot asks of each of [`SNAPSHOT`]'s units: all of it when one of them has
/// failed or a selected check reads a fact of [`UNIT_DETAIL_KEYS`]
/// ([`super::Questions::unit_details`]), else only what the checks read on every run:
/// docker.service's ExecStart and the unit-file states of docker's two units.
fn snapshot_properties(
    listed: &[Listed],
    asks: super::Questions,
) -> [(&'static str, Properties); 3] {
    let failed = listed.iter().any(|(s, _)| s.active_state == "failed");
    if failed || asks.unit_details {
        return SNAPSHOT;
    }
    let file_state = Properties {
        unit_file_state: true,
        ..Properties::STATES
    };
    [
        (
            SNAPSHOT[0].0,
            Properties {
                exec_start: true,
                ..file_state
            },
        ),
        (SNAPSHOT[1].0, file_state),
        (SNAPSHOT[2].0, Properties::STATES),
    ]
}

/// `ActiveState (SubState), result R, exit status N` of a unit read.
pub fn describe(state: &UnitState) -> String {
    let mut text = format!("{} ({})", state.active_state, state.sub_state);
    if let Some(result) = &state.result {
        text.push_str(&format!(", result {result}"));
    }
    if let Some(status) = state.exec_main_status {
        text.push_str(&format!(", exit status {status}"));
    }
    if let Some(n) = state.n_restarts.filter(|n| *n > 0) {
        text.push_str(&format!(", restarted {n} times"));
    }
    text
}

/// Whether a service read after a start attempt shows that the start failed: failed; restarted
/// by `Restart=` since the start (NRestarts above 0: Arch's unit retries every 2 s); or, between
/// two attempts, not running with a result other than success.
pub fn start_failed(state: &UnitState) -> bool {
    state.active_state == "failed"
        || state.n_restarts.is_some_and(|n| n > 0)
        || (state.active_state != "active"
            && state.sub_state != "start"
            && state.result.as_deref().is_some_and(|r| r != "success"))
}

/// The derived facts of this module: `systemd.containerd_unavailable` and
/// `systemd.docker_service_failure`.
pub fn derive(facts: &mut Facts) {
    let containerd = containerd_unavailable(facts);
    facts.set("systemd.containerd_unavailable", containerd);
    let failure = failure(facts);
    facts.set("systemd.docker_service_failure", failure);
}

/// Whether dockerd's last error says it could not reach containerd's socket: "failed to dial
/// \"/run/containerd/containerd.sock\"" (dockerd gives up after 60 s) or the gRPC dialer's "dial
/// unix /run/containerd/containerd.sock: connect: connection refused".
pub fn says_containerd_unreachable(line: &str) -> bool {
    let line = line.replace("/var/run/", "/run/");
    line.contains("/run/containerd/containerd.sock")
        && (line.contains("failed to dial")
            || line.contains("connection refused")
            || line.contains("no such file or directory"))
}

/// Why the external containerd docker.service uses is not there, or null; see the schema.
fn containerd_unavailable(facts: &Facts) -> Fact {
    use super::Value;
    let exec = facts.get("systemd.docker_service_exec_start");
    let Some(exec) = exec.value() else {
        return Fact::unknown(format!("systemd.docker_service_exec_start: {exec}"));
    };
    let Value::Text(exec) = exec else {
        // No docker.service: nothing to judge.
        return Fact::known(Value::Null);
    };
    let socket = exec.split_whitespace().find_map(|w| {
        w.strip_prefix("--containerd=")
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
    });
    let socket = match socket {
        Some(s) => s,
        // `--containerd SOCKET` as two words.
        None => match exec
            .split_whitespace()
            .skip_while(|w| *w != "--containerd")
            .nth(1)
        {
            Some(s) => s.to_owned(),
            // dockerd starts a containerd of its own: containerd.service plays no part.
            None => return Fact::known(Value::Null),
        },
    };
    // dockerd's last words count unless containerd.service is known to run now: after a
    // repair, the journal still holds the failure it caused.
    let journal = facts
        .text("journal.docker_last_error")
        .filter(|line| says_containerd_unreachable(line))
        .map(|line| format!("dockerd cannot reach containerd at {socket}: {line}"));
    let load = facts.get("systemd.containerd_service_load_state");
    let active = facts.get("systemd.containerd_service_active_state");
    let (Some(load), Some(active)) = (load.as_text(), active.as_text()) else {
        if let Some(said) = journal {
            return Fact::known(said);
        }
        let blocked = if load.as_text().is_none() {
            format!("systemd.containerd_service_load_state: {load}")
        } else {
            format!("systemd.containerd_service_active_state: {active}")
        };
        return match load.clone() {
            Fact::Skipped { reason } => Fact::skipped(reason),
            _ => Fact::unknown(blocked),
        };
    };
    let docker = facts
        .text("systemd.docker_service_active_state")
        .unwrap_or("unknown");
    let docker_wants = matches!(docker, "active" | "activating" | "reloading" | "failed");
    // A daemon that answers has its containerd: dockerd dials it before it serves the API. A
    // containerd.service that is not installed then only means another one runs it.
    let answers = facts.bool("docker.reachable") == Some(true);
    let verdict = if load != "loaded" && answers {
        None
    } else if load != "loaded" {
        Some(format!(
            "containerd.service is {load}, and docker.service runs dockerd with --containerd={socket}"
        ))
    } else if active == "failed" {
        let result = facts
            .text("systemd.containerd_service_result")
            .unwrap_or("unknown");
        let status = facts.int("systemd.containerd_service_exit_status");
        let status = match status {
            Some(203) => {
                ", exit status 203/EXEC: systemd could not execute the program its ExecStart names"
                    .to_owned()
            }
            Some(n) => format!(", exit status {n}"),
            None => String::new(),
        };
        Some(format!(
            "containerd.service is failed (result {result}{status})"
        ))
    } else if matches!(active, "inactive" | "deactivating") && docker_wants {
        Some(format!(
            "containerd.service is {active} while docker.service is {docker}"
        ))
    } else if matches!(active, "active" | "reloading" | "activating") {
        None
    } else {
        journal
    };
    Fact::known(verdict)
}

fn failure(facts: &Facts) -> Fact {
    let last_words = match facts.get("journal.docker_last_error") {
        Fact::Known {
            value: super::Value::Text(line),
        } => format!("; dockerd's last error: {line}"),
        _ => String::new(),
    };
    if facts.text("systemd.docker_activation") == Some("failed") {
        let after = facts
            .text("systemd.docker_service_after_connect")
            .unwrap_or("(unknown)");
        return Fact::known(format!(
            "docker.service was inactive; this run's connection to docker.socket started it and the start failed: {after}{last_words}"
        ));
    }
    let service = facts.get("systemd.docker_service_active_state");
    let socket = facts.get("systemd.docker_socket_active_state");
    match (service.as_text(), socket.as_text()) {
        (Some("failed"), _) | (_, Some("failed")) => {
            let shown = |k: &str| match facts.get(k) {
                Fact::Known { value } => value.to_string(),
                _ => "(unknown)".to_owned(),
            };
            Fact::known(format!(
                "docker.service is {} (result {}, exit status {}), docker.socket is {} (result {}){last_words}",
                shown("systemd.docker_service_active_state"),
                shown("systemd.docker_service_result"),
                shown("systemd.docker_service_exit_status"),
                shown("systemd.docker_socket_active_state"),
                shown("systemd.docker_socket_result"),
            ))
        }
        (Some(_), Some(_)) => Fact::known(super::Value::Null),
        _ => match (&service, &socket) {
            (Fact::Known { .. }, other) | (other, _) => other.clone(),
        },
    }
}

/// Reads docker.service again, in full: what a connection to docker.socket made of it.
pub async fn read_docker_service(conn: &Connection, timeout: Duration) -> UnitRead {
    read_unit(conn, "docker.service", timeout).await
}

/// Reads the system bus and the user bus concurrently (the snapshot only: nothing is
/// connected to the Docker socket here). A bus that cannot be reached leaves its keys unknown
/// with the reason; nothing here panics.
pub async fn gather(ctx: &Context) -> Facts {
    let ((mut system, _), user) =
        tokio::join!(Box::pin(gather_system(ctx)), Box::pin(gather_user(ctx)));
    system.facts.extend(user.facts);
    system
}

/// The user bus: the rootless docker.service under `systemd --user`.
pub async fn gather_user(ctx: &Context) -> Facts {
    let mut facts = Facts::default();
    let address = match user_target(ctx) {
        Target::Address(a) => a,
        Target::Skip(reason) => {
            set_keys(&mut facts, USER_KEYS, &Fact::skipped(reason));
            return facts;
        }
        Target::Absent(reason) => {
            set_keys(&mut facts, USER_KEYS, &Fact::unknown(reason));
            facts.set("systemd.user_bus", Fact::known(false));
            return facts;
        }
    };
    match connect(&address, "user bus", ctx.timeout).await {
        Ok(conn) => {
            facts.set("systemd.user_bus", Fact::known(true));
            let read = read_units(
                &conn,
                &[("docker.service", Properties::RESULT)],
                ctx.timeout,
            )
            .await
            .pop()
            .unwrap_or_else(|| Err("docker.service: systemd listed no unit".to_owned()));
            facts.set(
                "systemd.user_docker_service_active_state",
                text(&read, |s| Some(s.active_state.clone())),
            );
            facts.set(
                "systemd.user_docker_service_result",
                text(&read, |s| s.result.clone()),
            );
            facts.set(
                "systemd.user_docker_service_unit_file_state",
                text(&read, unit_file_state),
            );
        }
        Err(reason) => {
            set_keys(&mut facts, USER_KEYS, &Fact::unknown(reason));
            facts.set("systemd.user_bus", Fact::known(false));
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Endpoints, Env, Sysroot};

    fn ctx(endpoints: Endpoints, env: &[(&str, &str)]) -> Context {
        Context::new(
            Sysroot::new("/srv/root"),
            endpoints,
            Env::from_pairs(env.iter().copied()),
            Duration::from_secs(2),
        )
    }

    fn state(load: &str, active: &str, sub: &str) -> UnitRead {
        Ok(UnitState {
            load_state: load.into(),
            active_state: active.into(),
            sub_state: sub.into(),
            unit_file_state: "disabled".into(),
            result: Some("success".into()),
            ..UnitState::default()
        })
    }

    fn listed(active: [&str; 3]) -> Vec<Listed> {
        active
            .iter()
            .map(|a| {
                let state = UnitState {
                    load_state: "loaded".into(),
                    active_state: (*a).into(),
                    ..UnitState::default()
                };
                (state, OwnedObjectPath::default())
            })
            .collect()
    }

    #[test]
    fn the_results_are_asked_when_a_unit_failed_or_a_check_reads_them() {
        use crate::facts::Questions;
        let quiet = listed(["active", "active", "active"]);
        let lean = snapshot_properties(&quiet, Questions::default());
        assert_eq!(
            lean.map(|(_, p)| (p.unit_file_state, p.result, p.exec_start)),
            [
                (true, false, true),
                (true, false, false),
                (false, false, false)
            ]
        );
        for (name, p) in lean {
            assert!(!p.exec_main_status && !p.n_restarts, "{name}: {p:?}");
        }
        let asked = Questions::for_keys(["systemd.containerd_service_exit_status"]);
        assert!(asked.unit_details);
        assert_eq!(snapshot_properties(&quiet, asked), SNAPSHOT);
        for failed in [
            ["failed", "active", "active"],
            ["inactive", "failed", "inactive"],
            ["active", "active", "failed"],
        ] {
            let units = snapshot_properties(&listed(failed), Questions::default());
            assert_eq!(units, SNAPSHOT, "{failed:?}");
        }
        // The snapshot never needs NRestarts: only a re-read after this run's start does.
        assert!(SNAPSHOT.iter().all(|(_, p)| !p.n_restarts));
        for key in UNIT_DETAIL_KEYS.iter().chain(LIBVIRT_KEYS) {
            assert!(SYSTEM_KEYS.contains(key), "{key}");
        }
    }

    /// The facts a derivation reads decide nothing here: [`UNIT_DETAIL_KEYS`] are asked only
    /// when a unit has failed, which is when the two derivations below read them, and
    /// [`LIBVIRT_KEYS`] only for a check that reads them itself. A new derivation that reads
    /// either must be weighed against that, and this fails until it is.
    #[test]
    fn only_the_failure_derivations_read_the_facts_asked_on_demand() {
        use crate::facts::{Source, schema, source_of};
        let reads = |input: &str, key: &str| match input.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => input == key,
        };
        for spec in schema() {
            let Some(Source::Derived(inputs)) = source_of(spec.key) else {
                continue;
            };
            let inputs: Vec<&str> = inputs.split([',', ' ']).filter(|i| !i.is_empty()).collect();
            let any = |keys: &[&str]| {
                inputs
                    .iter()
                    .any(|input| keys.iter().any(|k| reads(input, k)))
            };
            assert!(!any(LIBVIRT_KEYS), "{} reads libvirt's units", spec.key);
            assert!(
                !any(UNIT_DETAIL_KEYS)
                    || [
                        "systemd.docker_service_failure",
                        "systemd.containerd_unavailable"
                    ]
                    .contains(&spec.key),
                "{} reads a unit's details",
                spec.key
            );
        }
    }

    #[test]
    fn a_unit_that_failed_before_its_file_went_away_is_still_asked() {
        let unit = |load: &str, active: &str| UnitState {
            load_state: load.into(),
            active_state: active.into(),
            ..UnitState::default()
        };
        assert!(nothing_to_ask(&unit("not-found", "inactive")));
        assert!(!nothing_to_ask(&unit("not-found", "failed")));
        assert!(!nothing_to_ask(&unit("loaded", "inactive")));
        assert!(!nothing_to_ask(&unit("masked", "inactive")));
    }

    #[test]
    fn a_property_not_asked_is_skipped_and_one_not_found_has_no_value() {
        let mut service = state("loaded", "active", "running");
        if let Ok(s) = &mut service {
            s.skipped = Properties {
                result: true,
                exec_main_status: true,
                ..Properties::STATES
            };
        }
        let missing: UnitRead = Ok(UnitState {
            load_state: "not-found".into(),
            active_state: "inactive".into(),
            sub_state: "dead".into(),
            ..UnitState::default()
        });
        let facts = system_facts(&service, &service, &missing);
        for key in [
            "systemd.docker_service_result",
            "systemd.docker_service_exit_status",
        ] {
            assert_eq!(
                facts.get(key),
                Fact::skipped(UNIT_DETAILS_NOT_ASKED),
                "{key}"
            );
        }
        assert_eq!(
            facts.get("systemd.docker_service_unit_file_state"),
            Fact::known("disabled")
        );
        for key in [
            "systemd.containerd_service_result",
            "systemd.containerd_service_exit_status",
            "systemd.containerd_service_unit_file_state",
        ] {
            assert_eq!(
                facts.get(key),
                Fact::known(super::super::Value::Null),
                "{key}"
            );
        }
    }

    #[test]
    fn every_schema_key_is_a_system_or_user_key() {
        for spec in SCHEMA {
            assert!(
                SYSTEM_KEYS.contains(&spec.key) || USER_KEYS.contains(&spec.key),
                "{} is set by no branch",
                spec.key
            );
        }
        assert_eq!(SYSTEM_KEYS.len() + USER_KEYS.len(), SCHEMA.len());
        let user: Vec<&str> = USER_SCHEMA.iter().map(|s| s.key).collect();
        assert_eq!(user, USER_KEYS);
    }

    #[test]
    fn exec_start_renders_argv_not_path() {
        let cmd: ExecCommand = (
            "/usr/bin/dockerd".into(),
            vec![
                "/usr/bin/dockerd".into(),
                "-H".into(),
                "fd://".into(),
                "--containerd=/run/containerd/containerd.sock".into(),
            ],
            false,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        );
        assert_eq!(
            render_exec_start(std::slice::from_ref(&cmd)).as_deref(),
            Some("/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock")
        );
        let second: ExecCommand = ("/bin/true".into(), vec![], false, 0, 0, 0, 0, 0, 0, 0);
        assert_eq!(
            render_exec_start(&[cmd, second]).as_deref(),
            Some(
                "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock ; /bin/true"
            )
        );
        assert_eq!(render_exec_start(&[]), None);
    }

    #[test]
    fn a_listening_socket_makes_libvirt_active() {
        let off = state("loaded", "inactive", "dead");
        let listening = state("loaded", "active", "listening");
        let missing = state("not-found", "inactive", "dead");
        let reads = [
            ("libvirtd.service", &missing),
            ("libvirtd.socket", &missing),
            ("virtqemud.service", &off),
            ("virtqemud.socket", &listening),
        ];
        assert_eq!(any_active(&reads), Fact::known(true));
        assert_eq!(any_loaded(&reads), Fact::known(true));
        assert_eq!(
            render_states(&reads),
            Fact::known(
                "libvirtd.service=not-found, libvirtd.socket=not-found, virtqemud.service=inactive, virtqemud.socket=active"
            )
        );
    }

    #[test]
    fn an_unreadable_unit_makes_inactive_unknown_but_not_active() {
        let off = state("loaded", "inactive", "dead");
        let on = state("loaded", "active", "running");
        let err: UnitRead = Err("virtlogd.socket: access denied".into());
        assert_eq!(
            any_active(&[("virtlogd.service", &off), ("virtlogd.socket", &err)]),
            Fact::unknown("virtlogd.socket: access denied")
        );
        assert_eq!(
            any_active(&[("virtlogd.service", &on), ("virtlogd.socket", &err)]),
            Fact::known(true)
        );
        assert_eq!(
            render_states(&[("virtlogd.socket", &err)]),
            Fact::unknown("virtlogd.socket: access denied")
        );
    }

    #[test]
    fn containerd_words_in_dockerd_last_error() {
        // dockerd 20.10 with Arch's --containerd and nothing listening, after 60 s (seen here).
        assert!(says_containerd_unreachable(
            r#"failed to start daemon: failed to dial "/run/containerd/containerd.sock": failed to dial "/run/containerd/containerd.sock": context deadline exceeded"#
        ));
        assert!(says_containerd_unreachable(
            r#"level=error msg="failed to get event" error="rpc error: code = Unavailable desc = all SubConns are in TransientFailure, latest connection error: connection error: desc = \"transport: Error while dialing dial unix /run/containerd/containerd.sock: connect: connection refused\"""#
        ));
        // Docker 18's own supervised containerd is another socket and another cause.
        assert!(!says_containerd_unreachable(
            r#"Failed to connect to containerd: failed to dial "/var/run/docker/containerd/docker-containerd.sock": context deadline exceeded"#
        ));
    }

    #[test]
    fn containerd_is_judged_by_its_unit_and_else_by_dockerd_last_words() {
        let line = r#"failed to start daemon: failed to dial "/run/containerd/containerd.sock": context deadline exceeded"#;
        let judge = |containerd: Option<&str>| {
            let mut f = Facts::default();
            f.set(
                "systemd.docker_service_exec_start",
                Fact::known(
                    "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
                ),
            );
            f.set("systemd.docker_service_active_state", Fact::known("failed"));
            f.set("journal.docker_last_error", Fact::known(line));
            match containerd {
                Some(state) => {
                    f.set(
                        "systemd.containerd_service_load_state",
                        Fact::known("loaded"),
                    );
                    f.set(
                        "systemd.containerd_service_active_state",
                        Fact::known(state),
                    );
                }
                None => {
                    for key in [
                        "systemd.containerd_service_load_state",
                        "systemd.containerd_service_active_state",
                    ] {
                        f.set(key, Fact::skipped("systemd is not contacted (--root)"));
                    }
                }
            }
            containerd_unavailable(&f)
        };
        // Under --root the unit is not read: dockerd's words decide.
        assert!(
            judge(None)
                .as_text()
                .is_some_and(|t| t.contains("failed to dial"))
        );
        // containerd runs again (repaired): the old journal line no longer counts.
        assert_eq!(
            judge(Some("active")),
            Fact::known(super::super::Value::Null)
        );
        // Stopped while docker.service failed: the unit says so first.
        assert_eq!(
            judge(Some("inactive")),
            Fact::known("containerd.service is inactive while docker.service is failed")
        );
        // No --containerd: dockerd runs its own containerd, and containerd.service plays no part.
        let mut f = Facts::default();
        f.set(
            "systemd.docker_service_exec_start",
            Fact::known("/usr/bin/dockerd -H fd://"),
        );
        assert_eq!(
            containerd_unavailable(&f),
            Fact::known(super::super::Value::Null)
        );
    }

    #[test]
    fn unit_errors_name_the_unit_and_stay_per_unit() {
        let svc: UnitRead = Err("docker.service: org.freedesktop.DBus.Error.AccessDenied".into());
        let sock = state("loaded", "active", "listening");
        let ctrd = state("loaded", "active", "running");
        let mut facts = system_facts(&svc, &sock, &ctrd);
        set_libvirt_facts(&mut facts, &[], &[]);
        assert_eq!(facts.get("systemd.system_bus"), Fact::known(true));
        assert_eq!(
            facts.get("systemd.docker_service_active_state"),
            Fact::unknown("docker.service: org.freedesktop.DBus.Error.AccessDenied")
        );
        assert_eq!(
            facts.get("systemd.docker_socket_sub_state"),
            Fact::known("listening")
        );
        assert_eq!(
            facts.get("systemd.libvirt_daemon_active"),
            Fact::known(false)
        );
    }

    #[test]
    fn targets_follow_endpoints_and_environment() {
        let live = Endpoints {
            use_defaults: true,
            ..Endpoints::default()
        };
        let c = ctx(live.clone(), &[("XDG_RUNTIME_DIR", "/run/user/1000/")]);
        assert_eq!(
            system_target(&c),
            Target::Address(DEFAULT_SYSTEM_BUS.into())
        );
        assert_eq!(
            user_target(&c),
            Target::Address("unix:path=/run/user/1000/bus".into())
        );
        let c = ctx(
            live.clone(),
            &[
                ("XDG_RUNTIME_DIR", "/run/user/1000"),
                ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/tmp/session"),
            ],
        );
        assert_eq!(
            user_target(&c),
            Target::Address("unix:path=/tmp/session".into())
        );
        assert!(matches!(user_target(&ctx(live, &[])), Target::Absent(_)));

        let root = ctx(
            Endpoints::default(),
            &[("XDG_RUNTIME_DIR", "/run/user/1000")],
        );
        assert_eq!(
            system_target(&root),
            Target::Skip(root.live_skip_reason("systemd", "--system-bus"))
        );
        assert!(matches!(user_target(&root), Target::Skip(_)));
        let explicit = ctx(
            Endpoints {
                system_bus: Some("unix:path=/x".into()),
                ..Endpoints::default()
            },
            &[],
        );
        assert_eq!(
            system_target(&explicit),
            Target::Address("unix:path=/x".into())
        );
    }
}
