//! The live daemon: a plain connect first (so EACCES, ENOENT and ECONNREFUSED are told apart
//! as the CLI's messages do), then all at once: `GET /_ping` by hand on that connection (its
//! headers name the API version and the release, see `ping`) and bollard's `/info` and
//! container list. `/info` alone takes the daemon several milliseconds, and asking in turn
//! would add up every answer's wait. Every call has its own timeout, and all of them share a
//! deadline a little shorter than the context's timeout so this probe always reports its own
//! reason before the orchestrator's bound gives up on it.

use std::io::ErrorKind;
use std::time::Duration;

use bollard::models::{ContainerInspectResponse, ContainerSummary, SystemInfo};
use bollard::query_parameters::ListContainersOptionsBuilder;
use bollard::{API_DEFAULT_VERSION, ClientVersion, Docker};
use tokio::time::{Instant, timeout};

use super::{endpoint, osx, ping, ports};
use crate::facts::{Fact, Facts};

/// The facts this module sets.
pub const KEYS: &[&str] = &[
    "docker.connect_error",
    "docker.reachable",
    "docker.unreachable_reason",
    "docker.server_version",
    "docker.api_version",
    "docker.storage_driver",
    "docker.data_root",
    "docker.osx_stopped_containers",
    "docker.osx_containers",
    "docker.min_api_version",
    "docker.published_host_ports",
];

/// Why `docker.published_host_ports` was not asked.
pub const PUBLISHED_PORTS_NOT_ASKED: &str = "the containers' host ports are asked only of a rootless daemon (docker.endpoint_kind rootless), where ports below net.ipv4.ip_unprivileged_port_start cannot be published";

/// Why `docker.min_api_version` was not asked: `/version` costs the daemon about as much as
/// `/info`, so it is asked only when a selected check reads it.
pub const MIN_API_VERSION_NOT_ASKED: &str =
    "the daemon's /version is asked only when a selected check reads docker.min_api_version";

struct Budget {
    per_call: Duration,
    deadline: Instant,
}

impl Budget {
    fn new(total: Duration) -> Self {
        Budget {
            per_call: total,
            deadline: Instant::now() + total.mul_f64(0.9),
        }
    }
    fn left(&self) -> Duration {
        self.per_call
            .min(self.deadline.saturating_duration_since(Instant::now()))
    }
}

fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
}

/// Runs one call under the budget; a timeout is an error text.
async fn call<T, F>(budget: &Budget, what: &str, fut: F) -> Result<T, String>
where
    F: Future<Output = Result<T, bollard::errors::Error>>,
{
    let limit = budget.left();
    match timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {}", describe(&e))),
        Err(_) => Err(format!("{what}: no answer within {}", human(limit))),
    }
}

/// A bollard error as one line, with its sources.
fn describe(e: &bollard::errors::Error) -> String {
    use bollard::errors::Error as B;
    match e {
        B::DockerResponseServerError {
            status_code,
            message,
        } => format!("HTTP {status_code}: {}", message.trim()),
        B::JsonDataError { message, .. } => format!("the answer is not valid JSON: {message}"),
        B::JsonSerdeError { err } => format!("the answer is not valid JSON: {err}"),
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                let s_text = s.to_string();
                if !text.contains(&s_text) {
                    text.push_str(": ");
                    text.push_str(&s_text);
                }
                source = s.source();
            }
            text
        }
    }
}

/// `client version 1.53 is too new. Maximum supported API version is 1.41` → 1.41.
fn max_supported(e: &bollard::errors::Error) -> Option<ClientVersion> {
    let bollard::errors::Error::DockerResponseServerError {
        status_code: 400,
        message,
    } = e
    else {
        return None;
    };
    let rest = message.split("Maximum supported API version is ").nth(1)?;
    let version: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let (major, minor) = version.split_once('.')?;
    Some(ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.trim_end_matches('.').parse().ok()?,
    })
}

enum Target {
    Unix(String),
    Tcp(String),
}

fn target(uri: &str) -> Result<Target, String> {
    if let Some(path) = endpoint::socket_path(uri) {
        return Ok(Target::Unix(path.to_owned()));
    }
    for scheme in ["tcp://", "http://"] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            let addr = rest.trim_end_matches('/');
            return Ok(Target::Tcp(if addr.contains(':') {
                addr.to_owned()
            } else {
                format!("{addr}:2375")
            }));
        }
    }
    Err(format!(
        "{uri}: dockdoc probes only unix:// and tcp:// endpoints; run it on the daemon's host"
    ))
}

fn classify(e: &std::io::Error) -> &'static str {
    match e.kind() {
        ErrorKind::PermissionDenied => "permission-denied",
        ErrorKind::NotFound => "not-found",
        ErrorKind::ConnectionRefused => "refused",
        ErrorKind::TimedOut => "timeout",
        _ => "other",
    }
}

/// A connection to the daemon, as the CLI's dial would open it.
enum Stream {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

/// Opens one connection: what the CLI's dial would meet.
async fn dial(target: &Target, budget: &Budget) -> Result<Stream, (&'static str, String)> {
    let limit = budget.left();
    let result = match target {
        Target::Unix(path) => timeout(limit, tokio::net::UnixStream::connect(path))
            .await
            .map(|r| r.map(Stream::Unix)),
        Target::Tcp(addr) => timeout(limit, tokio::net::TcpStream::connect(addr.as_str()))
            .await
            .map(|r| r.map(Stream::Tcp)),
    };
    match result {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err((classify(&e), e.to_string())),
        Err(_) => Err(("timeout", format!("no answer within {}", human(limit)))),
    }
}

/// `GET /_ping` on the dialled connection, under the budget.
async fn ping_on(stream: Stream, budget: &Budget) -> Result<ping::Pong, String> {
    let limit = budget.left();
    let answer = match stream {
        Stream::Unix(mut s) => timeout(limit, ping::ping(&mut s)).await,
        Stream::Tcp(mut s) => timeout(limit, ping::ping(&mut s)).await,
    };
    match answer {
        Ok(Ok(pong)) => Ok(pong),
        Ok(Err(e)) => Err(format!("GET /_ping: {e}")),
        Err(_) => Err(format!("GET /_ping: no answer within {}", human(limit))),
    }
}

fn client(target: &Target, secs: u64, version: &ClientVersion) -> Result<Docker, String> {
    match target {
        Target::Unix(path) => Docker::connect_with_unix(path, secs, version),
        Target::Tcp(addr) => Docker::connect_with_http(&format!("http://{addr}"), secs, version),
    }
    .map_err(|e| describe(&e))
}

/// Sets every live key to the same fact.
fn all(facts: &mut Facts, fact: &Fact) {
    for key in KEYS {
        facts.set(key, fact.clone());
    }
}

/// What the daemon answered besides `/_ping`.
struct Answers {
    info: Result<SystemInfo, bollard::errors::Error>,
    containers: Result<Vec<ContainerSummary>, String>,
}

/// Asks for the system info and the container list concurrently. The info's error is kept
/// whole: it may name the newest API version the daemon accepts.
async fn ask(docker: &Docker, budget: &Budget) -> Result<Answers, String> {
    let options = ListContainersOptionsBuilder::new().all(true).build();
    let limit = budget.left();
    let (info, containers) = tokio::join!(
        timeout(limit, docker.info()),
        call(
            budget,
            "GET /containers/json",
            docker.list_containers(Some(options))
        ),
    );
    let info = info.map_err(|_| format!("GET /info: no answer within {}", human(limit)))?;
    Ok(Answers { info, containers })
}

/// The API version (from `/_ping`) of the first release that raised the daemon's minimum:
/// Docker 29.0 (API 1.52) refuses clients older than 1.44; every release before it kept the
/// floor at 1.24 or lower.
const MIN_API_RAISED_IN: (u32, u32) = (1, 52);

/// Whether the daemon's API version is at least `MIN_API_RAISED_IN`; `None` when the ping
/// gave no version that parses.
fn minimum_may_be_raised(api_version: Option<&str>) -> Option<bool> {
    let (major, minor) = api_version?.trim().split_once('.')?;
    let v = (major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?);
    Some(v >= MIN_API_RAISED_IN)
}

/// The optional questions of [`probe`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Asks {
    /// `/version`, for `docker.min_api_version`.
    pub min_api_version: bool,
    /// The host ports of the containers that are not running (one inspection each), for
    /// `docker.published_host_ports`.
    pub published_ports: bool,
}

/// Probes the daemon at `uri`: dial, then at once the ping by hand (the API version and
/// release) on that connection, the info and the container list. When `asks.min_api_version`
/// and the ping shows API 1.52 or later, `/version` follows (for `MinAPIVersion`, the oldest API
/// version the daemon accepts); with `asks.published_ports`, the containers that are not running
/// are inspected for the ports they ask for.
pub async fn probe(uri: &str, limit: Duration, asks: Asks) -> Facts {
    let mut facts = Facts::default();
    let budget = Budget::new(limit);
    let target = match target(uri) {
        Ok(t) => t,
        Err(reason) => {
            all(&mut facts, &Fact::unknown(reason));
            return facts;
        }
    };
    let unreachable = |facts: &mut Facts, reason: String| {
        let daemon_facts = Fact::unknown(format!("the daemon at {uri} did not answer: {reason}"));
        all(facts, &daemon_facts);
        facts.set("docker.reachable", Fact::known(false));
        facts.set("docker.unreachable_reason", Fact::known(reason));
        facts.set("docker.connect_error", Fact::known("none"));
    };

    let stream = match dial(&target, &budget).await {
        Ok(s) => s,
        Err((kind, text)) => {
            unreachable(&mut facts, format!("connect {uri}: {text}"));
            facts.set("docker.connect_error", Fact::known(kind));
            return facts;
        }
    };
    // The ping and the questions go out together: the answers wait on the ping only when it
    // fails, and /info is the slow one.
    let secs = limit.as_secs().max(1);
    let mut version = ClientVersion {
        major_version: API_DEFAULT_VERSION.major_version,
        minor_version: API_DEFAULT_VERSION.minor_version,
    };
    let docker = match client(&target, secs, &version) {
        Ok(d) => d,
        Err(e) => {
            unreachable(&mut facts, format!("{uri}: {e}"));
            return facts;
        }
    };
    let (pinged, first) = tokio::join!(ping_on(stream, &budget), ask(&docker, &budget));
    let pong = match pinged {
        Ok(p) => p,
        Err(reason) => {
            unreachable(&mut facts, reason);
            return facts;
        }
    };
    let mut answers = first;
    // A daemon that refuses the client's API version names the newest it supports; the
    // questions are asked once more in that version.
    if let Ok(got) = &answers
        && let Some(v) = got.info.as_ref().err().and_then(max_supported)
        && (v.major_version, v.minor_version) != (version.major_version, version.minor_version)
    {
        version = v;
        answers = match client(&target, secs, &version) {
            Ok(d) => ask(&d, &budget).await,
            Err(e) => Err(format!("{uri}: {e}")),
        };
    }
    let Answers { info, containers } = match answers {
        Ok(a) => a,
        Err(reason) => {
            unreachable(&mut facts, reason);
            return facts;
        }
    };
    let info = match info {
        Ok(info) => info,
        Err(e) => {
            unreachable(&mut facts, format!("GET /info: {}", describe(&e)));
            return facts;
        }
    };
    facts.set("docker.connect_error", Fact::known("none"));
    facts.set("docker.reachable", Fact::known(true));
    facts.set("docker.unreachable_reason", Fact::known(None::<String>));
    facts.set(
        "docker.server_version",
        Fact::known(info.server_version.or(pong.server_version)),
    );
    facts.set("docker.api_version", Fact::known(pong.api_version.clone()));
    facts.set("docker.storage_driver", Fact::known(info.driver));
    facts.set("docker.data_root", Fact::known(info.docker_root_dir));
    // `/version` costs the daemon about as much as `/info` (it runs runc and docker-init to
    // ask their versions), so it is asked only when a selected check reads MinAPIVersion and
    // the daemon is recent enough to have raised it.
    let min_api_version = match (
        asks.min_api_version,
        minimum_may_be_raised(pong.api_version.as_deref()),
    ) {
        (false, _) => Fact::skipped(MIN_API_VERSION_NOT_ASKED),
        (true, Some(false)) => Fact::skipped(format!(
            "the daemon speaks API {}, older than {}.{} (Docker 29, the release that raised the minimum API version from 1.24): /version is not asked",
            pong.api_version.as_deref().unwrap_or_default(),
            MIN_API_RAISED_IN.0,
            MIN_API_RAISED_IN.1
        )),
        (true, _) => match client(&target, secs, &version) {
            Ok(d) => match call(&budget, "GET /version", d.version()).await {
                Ok(v) => Fact::known(v.min_api_version),
                Err(reason) => Fact::unknown(reason),
            },
            Err(e) => Fact::unknown(format!("{uri}: {e}")),
        },
    };
    facts.set("docker.min_api_version", min_api_version);

    // Only docker-osx containers are inspected, and for the ports only the containers that are
    // not running (a running one's bindings are in the list): none, no request and no client.
    let osx_ids = ids(&containers, is_osx);
    let stopped_ids = match asks.published_ports {
        true => ids(&containers, |c| !ports::holds_ports(c)),
        false => Vec::new(),
    };
    // A client is a configuration, not a connection: one per question is free.
    let inspect = async |ids: Vec<String>, read| -> Result<Vec<String>, String> {
        if ids.is_empty() {
            return containers
                .as_ref()
                .map(|_| Vec::new())
                .map_err(Clone::clone);
        }
        let docker = client(&target, secs, &version).map_err(|e| format!("{uri}: {e}"))?;
        inspect_each(&docker, ids, &budget, read).await
    };
    let (osx_containers, stopped_ports) = tokio::join!(
        inspect(osx_ids, |i| serde_json::to_string(&osx::from_inspect(i))
            .map(|t| vec![t])
            .map_err(|e| e.to_string())),
        inspect(stopped_ids, |i| Ok(ports::from_inspect(i))),
    );
    facts.set(
        "docker.osx_containers",
        match osx_containers {
            Ok(list) => Fact::known(list),
            Err(reason) => Fact::unknown(reason),
        },
    );
    facts.set(
        "docker.published_host_ports",
        match (asks.published_ports, &containers, stopped_ports) {
            (false, _, _) => Fact::skipped(PUBLISHED_PORTS_NOT_ASKED),
            (true, Ok(list), Ok(stopped)) => {
                let mut all: Vec<String> = list
                    .iter()
                    .filter(|c| ports::holds_ports(c))
                    .flat_map(ports::from_summary)
                    .chain(stopped)
                    .collect();
                all.sort();
                all.dedup();
                Fact::known(all)
            }
            (true, _, Err(reason)) => Fact::unknown(reason),
            (true, Err(reason), _) => Fact::unknown(reason.clone()),
        },
    );

    facts.set(
        "docker.osx_stopped_containers",
        match containers {
            Ok(list) => Fact::known(
                list.iter()
                    .filter(|c| {
                        let running = c.state.as_ref().is_some_and(|s| {
                            matches!(
                                s.to_string().as_str(),
                                "running" | "restarting" | "paused" | "removing"
                            )
                        });
                        is_osx(c) && !running
                    })
                    .map(ports::summary_name)
                    .collect::<Vec<_>>(),
            ),
            Err(reason) => Fact::unknown(reason),
        },
    );
    facts
}

/// Whether a listed container was created from a docker-osx image.
fn is_osx(c: &ContainerSummary) -> bool {
    osx::is_osx_image(c.image.as_deref().unwrap_or_default())
}

/// The ids of the listed containers that `keep` keeps.
fn ids(
    containers: &Result<Vec<ContainerSummary>, String>,
    keep: impl Fn(&ContainerSummary) -> bool,
) -> Vec<String> {
    match containers {
        Ok(list) => list
            .iter()
            .filter(|c| keep(c))
            .filter_map(|c| c.id.clone())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `GET /containers/{id}/json` for each of `ids`, all at once under the budget, each answer
/// read by `read`, in the order of `ids`. A container removed since the list was taken (404)
/// has nothing left to judge; any other failed inspection is the error.
async fn inspect_each(
    docker: &Docker,
    ids: Vec<String>,
    budget: &Budget,
    read: fn(&ContainerInspectResponse) -> Result<Vec<String>, String>,
) -> Result<Vec<String>, String> {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, id) in ids.into_iter().enumerate() {
        let docker = docker.clone();
        let limit = budget.left();
        tasks.spawn(async move {
            let what = format!("GET /containers/{id}/json");
            let answer = match timeout(limit, docker.inspect_container(&id, None)).await {
                Ok(Ok(inspect)) => read(&inspect).map_err(|e| format!("{what}: {e}")),
                Ok(Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404,
                    ..
                })) => Ok(Vec::new()),
                Ok(Err(e)) => Err(format!("{what}: {}", describe(&e))),
                Err(_) => Err(format!("{what}: no answer within {}", human(limit))),
            };
            (index, answer)
        });
    }
    let mut answers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, Ok(read))) => answers.push((index, read)),
            Ok((_, Err(reason))) => return Err(reason),
            Err(e) => return Err(format!("inspecting a container: {e}")),
        }
    }
    answers.sort();
    Ok(answers.into_iter().flat_map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_newest_supported_api_version() {
        let e = bollard::errors::Error::DockerResponseServerError {
            status_code: 400,
            message: "client version 1.53 is too new. Maximum supported API version is 1.41".into(),
        };
        let v = max_supported(&e).unwrap();
        assert_eq!((v.major_version, v.minor_version), (1, 41));
        let other = bollard::errors::Error::DockerResponseServerError {
            status_code: 500,
            message: "boom".into(),
        };
        assert!(max_supported(&other).is_none());
    }

    #[test]
    fn only_docker_29_and_later_may_have_raised_the_minimum() {
        assert_eq!(minimum_may_be_raised(Some("1.41")), Some(false));
        assert_eq!(minimum_may_be_raised(Some("1.51")), Some(false));
        assert_eq!(minimum_may_be_raised(Some("1.52")), Some(true));
        assert_eq!(minimum_may_be_raised(Some("2.0")), Some(true));
        assert_eq!(minimum_may_be_raised(Some("x")), None);
        assert_eq!(minimum_may_be_raised(None), None);
    }

    #[test]
    fn targets() {
        assert!(
            matches!(target("unix:///run/docker.sock"), Ok(Target::Unix(p)) if p == "/run/docker.sock")
        );
        assert!(matches!(target("tcp://10.0.0.2"), Ok(Target::Tcp(a)) if a == "10.0.0.2:2375"));
        assert!(
            matches!(target("tcp://10.0.0.2:2376/"), Ok(Target::Tcp(a)) if a == "10.0.0.2:2376")
        );
        assert!(target("ssh://alice@build").is_err());
    }
}
