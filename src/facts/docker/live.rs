//! The live daemon: a plain connect (so EACCES, ENOENT and ECONNREFUSED are told apart as the
//! CLI's messages do), `/info` on that connection as soon as it is through, and, when a selected
//! check reads what it gives, the container list on a connection of its own at the same time.
//! Every answer's headers name the daemon's API version and release (see `ping`), so `/_ping`
//! is asked only of a daemon that refuses the unversioned `/info`. `/info` alone takes the
//! daemon several milliseconds, and asking in turn would add up every answer's wait. Every
//! answer's body is read up to a cap (`api::MAX_ANSWER_BYTES`), so parsing it takes a bounded
//! time, and every call has its own timeout; all of them share a deadline a little shorter than
//! the context's timeout so this probe always reports its own reason before the orchestrator's
//! bound gives up on it.
//!
//! The first questions go out before the daemon has named its API version, so they use the
//! unversioned paths, which every daemon serves at its own version. Should a daemon refuse
//! them, they are asked again at the version its ping names; the questions that follow
//! (`/version`, the inspections) use the version from the start.

use std::time::Duration;

use bollard_stubs::models::ContainerInspectResponse;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use tokio::time::{Instant, timeout};

use super::api::{self, Answer, Target};
use super::ports::ContainerSummary;
use super::{osx, ping, ports};
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
    "docker.operating_system",
    "docker.kernel_version",
    "docker.runtimes",
    "docker.registry_mirrors",
    "docker.osx_stopped_containers",
    "docker.osx_containers",
    "docker.min_api_version",
    "docker.published_host_ports",
    "docker.running_containers",
    "docker.live_restore",
];

/// Why `docker.published_host_ports` was not asked.
pub const PUBLISHED_PORTS_NOT_ASKED: &str = "the containers' host ports are asked only of a rootless daemon (docker.endpoint_kind rootless), where ports below net.ipv4.ip_unprivileged_port_start cannot be published";

/// The facts drawn from the container list, and those derived from them: the list is asked
/// only when a selected check reads one ([`crate::facts::Questions::containers`]) or the
/// daemon is rootless (whose published ports the rootless checks read).
pub const CONTAINER_KEYS: &[&str] = &[
    "docker.running_containers",
    "docker.osx_containers",
    "docker.osx_stopped_containers",
    "docker.published_host_ports",
    "docker.osx_container_problems",
    "host.docker_osx_stopped_count",
    "rootless.ports_below_unprivileged_start",
    "rootless.lowest_port_below_start",
];

/// Why the facts of the container list were not asked: listing costs the daemon about a
/// millisecond of CPU on every run, while it works out `/info`.
pub const CONTAINERS_NOT_ASKED: &str =
    "the container list is asked only when a selected check reads a fact drawn from it";

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

/// One question: `GET {version}{what}{query}` on `stream` when given, else on a connection of
/// its own, under the budget. Errors name `GET {what}` and keep the daemon's HTTP status.
async fn get(
    target: &Target,
    budget: &Budget,
    stream: Option<api::Stream>,
    version: &str,
    what: &str,
    query: &str,
) -> Result<Answer, api::Error> {
    let limit = budget.left();
    let path = format!("{version}{what}{query}");
    let asked = async {
        match stream {
            Some(stream) => api::get_on(stream, target, &path, api::MAX_ANSWER_BYTES).await,
            None => api::get(target, &path, api::MAX_ANSWER_BYTES).await,
        }
    };
    match timeout(limit, asked).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(api::Error {
            status: e.status,
            text: format!("GET {what}: {}", e.text),
        }),
        Err(_) => Err(format!("GET {what}: no answer within {}", human(limit)).into()),
    }
}

/// [`get`], with the JSON answer read as `T`.
async fn ask_json<T: DeserializeOwned>(
    target: &Target,
    budget: &Budget,
    version: &str,
    what: &str,
    query: &str,
) -> Result<T, api::Error> {
    let answer = get(target, budget, None, version, what, query).await?;
    api::json(&answer).map_err(|e| format!("GET {what}: {e}").into())
}

/// Opens one connection: what the CLI's dial would meet.
async fn dial(target: &Target, budget: &Budget) -> Result<api::Stream, (&'static str, String)> {
    let limit = budget.left();
    match timeout(limit, api::dial(target)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err((api::classify(&e), e.to_string())),
        Err(_) => Err(("timeout", format!("no answer within {}", human(limit)))),
    }
}

/// `GET /_ping` on a connection of its own, under the budget: only to learn the version to ask
/// at of a daemon that refused the unversioned `/info`.
async fn ping(target: &Target, budget: &Budget) -> Result<ping::Pong, String> {
    let limit = budget.left();
    match timeout(limit, api::get(target, "/_ping", api::MAX_PING_BYTES)).await {
        Ok(Ok(answer)) => Ok(ping::Pong::from_headers(&answer.headers)),
        Ok(Err(e)) => Err(format!("GET /_ping: {e}")),
        Err(_) => Err(format!("GET /_ping: no answer within {}", human(limit))),
    }
}

/// Sets every live key to the same fact.
fn all(facts: &mut Facts, fact: &Fact) {
    for key in KEYS {
        facts.set(key, fact.clone());
    }
}

/// The fields of `/info` the facts read. The models' `SystemInfo` reads every one of its
/// hundred-odd fields; this reads eight and skips the rest, in less time and with far less code
/// paged in.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Info {
    server_version: Option<String>,
    driver: Option<String>,
    docker_root_dir: Option<String>,
    live_restore_enabled: Option<bool>,
    operating_system: Option<String>,
    kernel_version: Option<String>,
    runtimes: Option<std::collections::BTreeMap<String, serde::de::IgnoredAny>>,
    registry_config: Option<RegistryConfig>,
}

/// `/info`'s RegistryConfig, of which the mirrors are read.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RegistryConfig {
    mirrors: Option<Vec<String>>,
}

/// The field of `/version` the facts read.
#[derive(serde::Deserialize)]
struct Version {
    #[serde(rename = "MinAPIVersion")]
    min_api_version: Option<String>,
}

/// What the daemon answered.
struct Answers {
    /// `/info`, with its answer's `Api-Version` and `Server` headers.
    info: Result<(Info, ping::Pong), api::Error>,
    /// `None` when the list was not asked.
    containers: Option<Result<Vec<ContainerSummary>, String>>,
}

/// Asks for the system info (on `stream` when given) and, when `asks` call for it, the
/// container list on a connection of its own, concurrently, at `version` (a `/v1.41` prefix, or
/// none). The list waits for the selected checks to decide, which is not on the way of `/info`.
async fn ask(
    target: &Target,
    budget: &Budget,
    stream: Option<api::Stream>,
    version: &str,
    asks: &Asks,
) -> Answers {
    let info = async {
        let answer = get(target, budget, stream, version, "/info", "").await?;
        // Every answer of the API carries the daemon's API version and release in its headers
        // (`Api-Version`, `Server: Docker/20.10.24 (linux)`), as `/_ping`'s do.
        let pong = ping::Pong::from_headers(&answer.headers);
        let info = api::json(&answer).map_err(|e| api::Error::from(format!("GET /info: {e}")))?;
        Ok((info, pong))
    };
    let containers = async {
        let decided = asks.questions.decided_within(budget.left() / 2).await;
        match decided.is_some_and(|q| q.containers) || asks.published_ports {
            true => Some(
                ask_json(target, budget, version, "/containers/json", "?all=true")
                    .await
                    .map_err(|e| e.text),
            ),
            false => None,
        }
    };
    let (info, containers) = tokio::join!(biased; info, containers);
    Answers { info, containers }
}

/// `/v1.41` for the API version a daemon named, when it names one.
fn versioned(pong: &ping::Pong) -> Option<String> {
    match &pong.api_version {
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            Some(format!("/v{v}"))
        }
        _ => None,
    }
}

/// The API version (from the answers' headers) of the first release that raised the daemon's minimum:
/// Docker 29.0 (API 1.52) refuses clients older than 1.44; every release before it kept the
/// floor at 1.24 or lower.
const MIN_API_RAISED_IN: (u32, u32) = (1, 52);

/// Whether the daemon's API version is at least `MIN_API_RAISED_IN`; `None` when the daemon
/// gave no version that parses.
fn minimum_may_be_raised(api_version: Option<&str>) -> Option<bool> {
    let (major, minor) = api_version?.trim().split_once('.')?;
    let v = (major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?);
    Some(v >= MIN_API_RAISED_IN)
}

/// The optional questions of [`probe`].
#[derive(Clone, Debug)]
pub struct Asks {
    /// The run's optional questions, of which `/version` (for `docker.min_api_version`) is
    /// this probe's; awaited only once `/info` has answered.
    pub questions: crate::facts::Ask,
    /// The host ports of the containers that are not running (one inspection each), for
    /// `docker.published_host_ports`.
    pub published_ports: bool,
}

/// Probes the daemon at `uri`: dial, then `/info` on the dialled connection (its headers name the
/// API version and the release) and, when asked, the container list. When `asks.questions`
/// include `/version` and the daemon speaks API 1.52 or later, `/version` follows (for
/// `MinAPIVersion`, the oldest API version the daemon accepts); with `asks.published_ports`, the
/// containers that are not running are inspected for the ports they ask for.
pub async fn probe(uri: &str, limit: Duration, asks: Asks) -> Facts {
    let mut facts = Facts::default();
    let budget = Budget::new(limit);
    let target = match api::target(uri) {
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

    // The dial is what the CLI's would meet (EACCES, ENOENT and ECONNREFUSED told apart), and
    // /info, the slow question, goes out on it as soon as it is through; the container list,
    // when asked, on a connection of its own at the same time.
    let stream = match dial(&target, &budget).await {
        Ok(stream) => stream,
        Err((kind, text)) => {
            unreachable(&mut facts, format!("connect {uri}: {text}"));
            facts.set("docker.connect_error", Fact::known(kind));
            return facts;
        }
    };
    let mut answers = ask(&target, &budget, Some(stream), "", &asks).await;
    // A daemon that no longer serves the unversioned paths is asked again at the version its
    // ping names (which also stands for the headers, should its answers lack them).
    let mut pinged = ping::Pong::default();
    if let Err(api::Error {
        status: Some(400 | 404),
        ..
    }) = &answers.info
        && let Ok(pong) = ping(&target, &budget).await
        && let Some(version) = versioned(&pong)
    {
        answers = ask(&target, &budget, None, &version, &asks).await;
        pinged = pong;
    }
    let Answers { info, containers } = answers;
    let (info, pong) = match info {
        Ok((info, pong)) => (
            info,
            ping::Pong {
                api_version: pong.api_version.or(pinged.api_version),
                server_version: pong.server_version.or(pinged.server_version),
            },
        ),
        Err(e) => {
            unreachable(&mut facts, e.text);
            return facts;
        }
    };
    // The API version the daemon named, for every question from here on.
    let version = versioned(&pong).unwrap_or_default();
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
    facts.set(
        "docker.live_restore",
        Fact::known(info.live_restore_enabled.unwrap_or(false)),
    );
    facts.set(
        "docker.running_containers",
        match &containers {
            None => Fact::skipped(CONTAINERS_NOT_ASKED),
            Some(Ok(list)) => Fact::known(
                list.iter()
                    .filter(|c| ports::holds_ports(c))
                    .map(|c| {
                        c.names
                            .as_ref()
                            .and_then(|n| n.first())
                            .map(|n| n.trim_start_matches('/').to_owned())
                            .or_else(|| c.id.as_ref().map(|id| id.chars().take(12).collect()))
                            .unwrap_or_default()
                    })
                    .collect::<Vec<String>>(),
            ),
            Some(Err(reason)) => Fact::unknown(reason.clone()),
        },
    );
    facts.set(
        "docker.operating_system",
        Fact::known(info.operating_system),
    );
    facts.set("docker.kernel_version", Fact::known(info.kernel_version));
    facts.set(
        "docker.registry_mirrors",
        match info.registry_config {
            // dockerd leaves Mirrors null when there are none.
            Some(r) => Fact::known(r.mirrors.unwrap_or_default()),
            None => Fact::unknown("the daemon's /info has no RegistryConfig"),
        },
    );
    facts.set(
        "docker.runtimes",
        Fact::known(
            info.runtimes
                .unwrap_or_default()
                .into_keys()
                .collect::<Vec<String>>(),
        ),
    );
    // `/version` costs the daemon about as much as `/info` (it runs runc and docker-init to
    // ask their versions), so it is asked only when a selected check reads MinAPIVersion and
    // the daemon is recent enough to have raised it.
    let min_api_version = match (
        asks.questions
            .decided_within(budget.left() / 2)
            .await
            .is_some_and(|q| q.min_api_version),
        minimum_may_be_raised(pong.api_version.as_deref()),
    ) {
        (false, _) => Fact::skipped(MIN_API_VERSION_NOT_ASKED),
        (true, Some(false)) => Fact::skipped(format!(
            "the daemon speaks API {}, older than {}.{} (Docker 29, the release that raised the minimum API version from 1.24): /version is not asked",
            pong.api_version.as_deref().unwrap_or_default(),
            MIN_API_RAISED_IN.0,
            MIN_API_RAISED_IN.1
        )),
        (true, _) => match ask_json::<Version>(&target, &budget, &version, "/version", "").await {
            Ok(v) => Fact::known(v.min_api_version),
            Err(e) => Fact::unknown(e.text),
        },
    };
    facts.set("docker.min_api_version", min_api_version);

    let Some(containers) = containers else {
        for key in [
            "docker.osx_containers",
            "docker.osx_stopped_containers",
            "docker.published_host_ports",
        ] {
            facts.set(key, Fact::skipped(CONTAINERS_NOT_ASKED));
        }
        return facts;
    };

    // Only docker-osx containers are inspected, and for the ports only the containers that are
    // not running (a running one's bindings are in the list): none, no request.
    let osx_ids = ids(&containers, is_osx);
    let stopped_ids = match asks.published_ports {
        true => ids(&containers, |c| !ports::holds_ports(c)),
        false => Vec::new(),
    };
    let inspect = async |ids: Vec<String>, read| -> Result<Vec<String>, String> {
        if ids.is_empty() {
            return containers
                .as_ref()
                .map(|_| Vec::new())
                .map_err(Clone::clone);
        }
        inspect_each(&target, &version, ids, &budget, read).await
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
                        let running = matches!(
                            c.state.as_deref(),
                            Some("running" | "restarting" | "paused" | "removing")
                        );
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

/// The most containers inspected for one fact: the list can name thousands (it is read up to
/// 4 MiB), and each inspection is a connection and an answer of its own.
const MAX_INSPECTIONS: usize = 256;

/// How many inspections are in flight at once.
const INSPECTIONS_AT_ONCE: usize = 8;

/// `GET /containers/{id}/json` for each of `ids`, `INSPECTIONS_AT_ONCE` at a time under the
/// budget, each answer read by `read`, in the order of `ids`. A container removed since the list
/// was taken (404) has nothing left to judge; any other failed inspection is the error, and so
/// are more than `MAX_INSPECTIONS` ids.
async fn inspect_each(
    target: &Target,
    version: &str,
    ids: Vec<String>,
    budget: &Budget,
    read: fn(&ContainerInspectResponse) -> Result<Vec<String>, String>,
) -> Result<Vec<String>, String> {
    if ids.len() > MAX_INSPECTIONS {
        return Err(format!(
            "the daemon lists {} containers to inspect, more than the {MAX_INSPECTIONS} dockdoc inspects",
            ids.len()
        ));
    }
    let inspections = ids.iter().map(|id| async move {
        // The id goes into the request's path: a list that names anything but a container id
        // is not asked about.
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "GET /containers/json: {:?} is not a container id",
                api::printable(id)
            ));
        }
        let what = format!("/containers/{id}/json");
        match ask_json::<ContainerInspectResponse>(target, budget, version, &what, "").await {
            Ok(inspect) => read(&inspect).map_err(|e| format!("GET {what}: {e}")),
            Err(api::Error {
                status: Some(404), ..
            }) => Ok(Vec::new()),
            Err(e) => Err(e.text),
        }
    });
    let answers: Vec<_> = futures_util::stream::iter(inspections)
        .buffered(INSPECTIONS_AT_ONCE)
        .collect()
        .await;
    let mut all = Vec::new();
    for answer in answers {
        all.extend(answer?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn every_fact_derived_from_the_container_list_asks_for_it() {
        use crate::facts::{Source, schema, source_of};
        for spec in schema() {
            let Some(Source::Derived(inputs)) = source_of(spec.key) else {
                continue;
            };
            let reads_the_list = inputs
                .split([',', ' '])
                .any(|input| CONTAINER_KEYS.contains(&input));
            assert!(
                !reads_the_list || CONTAINER_KEYS.contains(&spec.key),
                "{} is derived from the container list ({inputs}) but not in CONTAINER_KEYS",
                spec.key
            );
        }
        for key in CONTAINER_KEYS {
            assert!(schema().any(|s| s.key == *key), "{key}");
        }
    }
}
