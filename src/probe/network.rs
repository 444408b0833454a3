//! `dockdoc check --probe network`: the definitive test of the bridge network. It imports an
//! image from an empty tarball (so no registry is needed), creates a container from it on the
//! default bridge and starts it. The daemon sets up the container's network (the veth pair into
//! docker0) before it asks the runtime to exec the command; the image holds no files, so a
//! start that gets as far as the exec ("no such file or directory") proves the network works,
//! and a start that fails on the veth pair or the endpoint is the error that follows a kernel
//! upgrade without a reboot (the `veth` module of the running kernel is gone).
//!
//! Everything it creates is removed afterwards: on success, on failure, and on Ctrl-C (the
//! probe races `tokio::signal::ctrl_c`; the cleanup runs after either).

use std::time::Duration;

use bollard_stubs::models::{ContainerCreateBody, HostConfig};
use hyper::Method;
use tokio::time::timeout;

use crate::facts::docker::api::{self, Answer, Payload, Target};
use crate::facts::docker::ping::Pong;

/// What the probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The daemon created the container's network; the start failed only later, at the exec of
    /// a command the empty image does not hold (or it started).
    Works,
    /// The veth pair or the endpoint could not be created: the bridge network is broken.
    BridgeBroken(String),
    /// The probe could not get as far as the network (daemon unreachable, import refused…).
    Inconclusive(String),
    /// Interrupted (Ctrl-C) before a result.
    Interrupted,
}

impl Outcome {
    /// The value recorded as `probe.network` in the report's host section.
    pub fn summary(&self) -> String {
        match self {
            Outcome::Works => "ok: the daemon created a veth pair on the default bridge".into(),
            Outcome::BridgeBroken(e) => format!(
                "bridge-network-broken: {e} (a kernel upgrade without a reboot removes the veth module: see `dockdoc explain running-kernel-modules-missing`)"
            ),
            Outcome::Inconclusive(e) => format!("inconclusive: {e}"),
            Outcome::Interrupted => "interrupted: no result".into(),
        }
    }
}

/// The names of what the probe creates, fixed before anything is created.
#[derive(Clone, Debug)]
pub struct Plan {
    pub repo: String,
    pub tag: String,
    pub container: String,
}

impl Plan {
    pub fn new(pid: u32) -> Plan {
        Plan {
            repo: "dockdoc-probe".into(),
            tag: pid.to_string(),
            container: format!("dockdoc-probe-{pid}"),
        }
    }

    pub fn image(&self) -> String {
        format!("{}:{}", self.repo, self.tag)
    }

    /// What will be created and removed, printed before anything is done.
    pub fn describe(&self, uri: &str) -> String {
        format!(
            "dockdoc --probe network will, on the daemon at {uri}:\n  \
             1. import an image from an empty tarball, tagged {image}\n  \
             2. create a container {container} from it on the default bridge network\n  \
             3. start it (the daemon creates a veth pair; the empty image has no command to run)\n  \
             4. remove the container and the image, also on failure or Ctrl-C",
            image = self.image(),
            container = self.container,
        )
    }
}

/// The start error of a container whose network could not be set up.
pub fn is_bridge_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("veth")
        || m.contains("failed to create endpoint")
        || m.contains("failed to add the host")
        || m.contains("error creating interface")
        || (m.contains("bridge") && m.contains("operation not supported"))
}

/// A start error that came after the network was set up: the runtime could not exec the
/// command the empty image does not hold.
fn is_exec_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("no such file or directory")
        || m.contains("executable file not found")
        || m.contains("exec format error")
}

/// Classifies the start result.
pub fn classify(start: Result<(), String>) -> Outcome {
    match start {
        Ok(()) => Outcome::Works,
        Err(e) if is_bridge_error(&e) => Outcome::BridgeBroken(e),
        Err(e) if is_exec_error(&e) => Outcome::Works,
        Err(e) => Outcome::Inconclusive(format!("start: {e}")),
    }
}

/// The daemon, as the probe asks it: where it listens and the API version its ping named (a
/// `/v1.41` prefix, or none).
struct Daemon {
    target: Target,
    version: String,
}

impl Daemon {
    /// `method path` at the daemon's API version, its answer read up to the cap and bounded by
    /// `limit`; errors name `what`.
    async fn ask(
        &self,
        limit: Duration,
        what: &str,
        method: Method,
        path: &str,
        payload: Option<Payload>,
    ) -> Result<Answer, String> {
        let path = format!("{}{path}", self.version);
        let answer = api::send(&self.target, method, &path, payload, api::MAX_ANSWER_BYTES);
        match timeout(limit, answer).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(format!("{what}: {e}")),
            Err(_) => Err(format!("{what}: no answer within {limit:?}")),
        }
    }
}

/// An empty tar archive: two zero blocks, padded to one 10 KiB record as tar(1) writes it.
fn empty_tar() -> Vec<u8> {
    vec![0; 10240]
}

async fn connect(uri: &str, limit: Duration) -> Result<Daemon, String> {
    let target = match uri.split_once("://") {
        Some(("unix" | "tcp", _)) => api::target(uri)?,
        _ => {
            return Err(format!(
                "{uri}: the network probe speaks only unix:// and tcp://"
            ));
        }
    };
    let ping = Daemon {
        target,
        version: String::new(),
    };
    let pong = Pong::from_headers(
        &ping
            .ask(limit, "GET /_ping", Method::GET, "/_ping", None)
            .await?
            .headers,
    );
    let version = match pong.api_version {
        Some(v) if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') => format!("/v{v}"),
        _ => String::new(),
    };
    Ok(Daemon { version, ..ping })
}

/// The error a progress stream (`POST /images/create`) reports in one of its JSON messages.
fn stream_error(body: &[u8]) -> Result<Option<String>, String> {
    #[derive(serde::Deserialize)]
    struct Detail {
        message: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Progress {
        #[serde(rename = "errorDetail")]
        error_detail: Option<Detail>,
    }
    for message in serde_json::Deserializer::from_slice(body).into_iter::<Progress>() {
        let message = message.map_err(|e| format!("the answer is not valid JSON: {e}"))?;
        if let Some(text) = message.error_detail.and_then(|d| d.message) {
            return Ok(Some(text));
        }
    }
    Ok(None)
}

/// The steps that create things. Each created thing is recorded in `made` as soon as it
/// exists, so the cleanup removes it whatever happens next.
async fn steps(docker: &Daemon, plan: &Plan, limit: Duration, made: &mut Made) -> Outcome {
    // A daemon started with --bridge=none has no default bridge, and a container asked for
    // `bridge` then starts without any network: that would prove nothing.
    if let Err(e) = docker
        .ask(
            limit,
            "inspect the default bridge network",
            Method::GET,
            "/networks/bridge",
            None,
        )
        .await
    {
        return Outcome::Inconclusive(match e.contains("HTTP 404") {
            true => format!(
                "{e} (the daemon has no default bridge network, e.g. it runs with --bridge=none)"
            ),
            false => e,
        });
    }
    // Record the image first: an import that timed out may still have finished.
    made.image = true;
    let import = docker
        .ask(
            limit,
            "import the empty image",
            Method::POST,
            &format!(
                "/images/create?fromSrc=-&repo={}&tag={}",
                plan.repo, plan.tag
            ),
            Some(Payload {
                content_type: "application/x-tar",
                bytes: empty_tar(),
            }),
        )
        .await
        .and_then(|answer| match stream_error(&answer.body) {
            Ok(None) => Ok(()),
            Ok(Some(e)) | Err(e) => Err(format!("import the empty image: {e}")),
        });
    if let Err(e) = import {
        return Outcome::Inconclusive(e);
    }
    let body = ContainerCreateBody {
        image: Some(plan.image()),
        cmd: Some(vec!["/dockdoc-probe".into()]),
        host_config: Some(HostConfig {
            network_mode: Some("bridge".into()),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let body = match serde_json::to_vec(&body) {
        Ok(b) => b,
        Err(e) => return Outcome::Inconclusive(format!("create the container: {e}")),
    };
    made.container = true;
    if let Err(e) = docker
        .ask(
            limit,
            "create the container",
            Method::POST,
            &format!("/containers/create?name={}", plan.container),
            Some(Payload {
                content_type: "application/json",
                bytes: body,
            }),
        )
        .await
    {
        return Outcome::Inconclusive(e);
    }
    let start = docker
        .ask(
            limit,
            "start the container",
            Method::POST,
            &format!("/containers/{}/start", plan.container),
            None,
        )
        .await
        .map(|_| ());
    classify(start)
}

#[derive(Default)]
struct Made {
    image: bool,
    container: bool,
}

/// Removes what was made; returns what could not be removed.
async fn cleanup(docker: &Daemon, plan: &Plan, made: &Made, limit: Duration) -> Vec<String> {
    let mut left = Vec::new();
    if made.container {
        let path = format!("/containers/{}?force=true&v=true", plan.container);
        match docker
            .ask(limit, "remove the container", Method::DELETE, &path, None)
            .await
        {
            Ok(_) => {}
            Err(e) if e.contains("404") => {}
            Err(e) => left.push(format!("container {}: {e}", plan.container)),
        }
    }
    if made.image {
        let path = format!("/images/{}?force=true", plan.image());
        match docker
            .ask(limit, "remove the image", Method::DELETE, &path, None)
            .await
        {
            Ok(_) => {}
            Err(e) if e.contains("404") => {}
            Err(e) => left.push(format!("image {}: {e}", plan.image())),
        }
    }
    left
}

/// Runs the probe against the daemon at `uri`, each call bounded by `limit`. Returns the
/// outcome and what could not be removed (empty when the cleanup was complete).
pub async fn run(uri: &str, plan: &Plan, limit: Duration) -> (Outcome, Vec<String>) {
    let docker = match connect(uri, limit).await {
        Ok(d) => d,
        Err(e) => return (Outcome::Inconclusive(format!("connect {uri}: {e}")), vec![]),
    };
    let mut made = Made::default();
    let outcome = tokio::select! {
        outcome = steps(&docker, plan, limit, &mut made) => outcome,
        _ = tokio::signal::ctrl_c() => Outcome::Interrupted,
    };
    // The start may need longer than one call (the daemon sets up and tears down the
    // network); the cleanup gets a generous bound of its own.
    let left = cleanup(&docker, plan, &made, limit.max(Duration::from_secs(10))).await;
    (outcome, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_veth_error_is_a_broken_bridge() {
        let e = "HTTP 500: failed to create endpoint dockdoc-probe-1 on network bridge: failed to add the host (veth1c2a3b4) <=> sandbox (veth5d6e7f8) pair interfaces: operation not supported";
        assert!(matches!(classify(Err(e.into())), Outcome::BridgeBroken(_)));
    }

    #[test]
    fn an_exec_error_after_the_network_is_a_working_bridge() {
        let e = "HTTP 400: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/dockdoc-probe\": stat /dockdoc-probe: no such file or directory: unknown";
        assert_eq!(classify(Err(e.into())), Outcome::Works);
        assert_eq!(classify(Ok(())), Outcome::Works);
    }

    #[test]
    fn other_errors_are_inconclusive() {
        assert!(matches!(
            classify(Err("HTTP 500: something else".into())),
            Outcome::Inconclusive(_)
        ));
    }

    #[test]
    fn the_plan_names_everything_it_creates() {
        let plan = Plan::new(42);
        let text = plan.describe("unix:///run/docker.sock");
        assert!(text.contains("dockdoc-probe:42"), "{text}");
        assert!(text.contains("dockdoc-probe-42"), "{text}");
    }
}
