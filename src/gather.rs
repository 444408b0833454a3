//! Gathering, in an order that keeps the doctor from changing what it looks at.
//!
//! 1. **Snapshot.** The files (through the sysroot, on a blocking thread), systemd's units on
//!    the system and user buses, and the X server are read at once. None of them starts anything.
//! 2. **Connect.** Only then is the Docker daemon contacted. Connecting to the system socket while
//!    docker.socket listens and docker.service is not running makes systemd start the daemon
//!    (socket activation): the snapshot was taken before that, so the unit checks judge the
//!    state the machine was in, not the start this run caused. With `--no-activate` that
//!    connection is not made at all. When the endpoint is not the system socket, or dockerd's
//!    pid file shows it running, no connection can start it, and the daemon is asked at the same
//!    time as systemd, which is the fast path.
//! 3. **Re-read.** When this run's connection started docker.service, the unit is read again:
//!    the daemon answered (`systemd.docker_activation` = answered), or the start failed, with the
//!    result and exit status read afterwards (= failed).
//! 4. **Last words.** When docker.service failed (in the snapshot or in this run's start), the
//!    journal gives dockerd's last error (`journal.docker_last_error`).
//!
//! Every live step runs under the run's timeout; a probe that does not answer leaves its facts
//! unknown with the reason, and never replaces a fact a file already gave.

use std::future::Future;

use crate::facts::{
    self, Context, Fact, FactSpec, Facts, Value, display, docker, journal, schema, systemd,
};

/// What the run may do besides reading.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `--no-activate`: do not connect to the Docker socket when that would make systemd start
    /// docker.service.
    pub no_activate: bool,
}

/// Runs one live probe under the context's timeout. When it does not finish in time, every
/// key of its schema becomes unknown with the timeout as the reason.
async fn bounded<F>(ctx: &Context, name: &str, schema: &[FactSpec], probe: F) -> Facts
where
    F: Future<Output = Facts>,
{
    match tokio::time::timeout(ctx.timeout, probe).await {
        Ok(facts) => facts,
        Err(_) => {
            let mut facts = Facts::default();
            facts.set_all(
                schema,
                &Fact::unknown(format!(
                    "{name} did not answer within {}",
                    humantime::format_duration(ctx.timeout)
                )),
            );
            facts
        }
    }
}

/// Runs `work` from the runtime's second turn on. The Docker probe's first poll only dials
/// (a socket's readiness is known once the runtime has turned), so its requests are written
/// on the second turn: work started on the first would set up threads and bus connections
/// before `/info` is asked. One turn is a poll of the reactor that does not wait.
pub async fn after_first_turn<F: Future>(work: F) -> F::Output {
    tokio::task::yield_now().await;
    work.await
}

/// Why blocking work gave no result.
#[derive(Debug)]
enum Unfinished {
    /// It did not finish within the timeout; its thread is left to finish on its own, and the
    /// run does not wait for it (the runtime is shut down in the background).
    Late,
    /// It panicked (a bug).
    Failed(tokio::task::JoinError),
}

/// Runs blocking work (reading files) on a blocking thread, for at most `timeout`: a read that
/// hangs (a stuck network filesystem, a device) cannot hold the run past its budget.
async fn blocking_within<T, F>(timeout: std::time::Duration, work: F) -> Result<T, Unfinished>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(Unfinished::Failed(e)),
        Err(_) => Err(Unfinished::Late),
    }
}

/// The pid in dockerd's pid file names a running dockerd: the daemon is up, and connecting
/// to it cannot start it. Read on this machine only (a pid under `--root` means nothing here).
fn dockerd_running(ctx: &Context) -> bool {
    if !ctx.sysroot.is_live() {
        return false;
    }
    let Ok(pid) = std::fs::read_to_string("/run/docker.pid") else {
        return false;
    };
    let Ok(pid) = pid.trim().parse::<u32>() else {
        return false;
    };
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "dockerd")
}

/// Whether connecting to the Docker endpoint would make systemd start docker.service: the
/// endpoint is the system socket, the snapshot shows docker.socket listening and docker.service
/// neither running nor starting. `None` when the snapshot cannot tell.
fn would_activate(files: &Facts, snapshot: &Facts) -> Option<bool> {
    if files.text("docker.endpoint_kind") != Some("system") {
        return Some(false);
    }
    let socket = snapshot.text("systemd.docker_socket_active_state")?;
    let service = snapshot.text("systemd.docker_service_active_state")?;
    Some(socket == "active" && !matches!(service, "active" | "reloading" | "activating"))
}

/// Sets every live Docker key to the same fact.
fn docker_live_all(fact: &Fact) -> Facts {
    let mut facts = Facts::default();
    for key in docker::live::KEYS {
        facts.set(key, fact.clone());
    }
    facts
}

/// Gathers every fact in the order above, then derives the combined facts.
pub async fn gather(ctx: &Context, options: Options) -> Facts {
    let files = {
        let ctx = ctx.clone();
        blocking_within(ctx.timeout, move || facts::gather_files(&ctx))
    };
    // The fast path: a connection cannot start anything when the endpoint is not the system
    // socket, or when dockerd already runs; then the daemon is asked together with the rest.
    let resolved = docker::endpoint::resolve(ctx);
    let kind = docker::endpoint::kind(
        &resolved,
        ctx.env.get("XDG_RUNTIME_DIR"),
        ctx.env.get("HOME"),
    );
    let concurrent = kind != "system" || dockerd_running(ctx);
    let early = async {
        match concurrent {
            true => Some(
                bounded(
                    ctx,
                    "the Docker daemon",
                    docker::SCHEMA,
                    docker::gather(ctx),
                )
                .await,
            ),
            false => None,
        }
    };
    // The daemon first: its `/info` is the slowest answer of the run, so its questions go out
    // before the threads and the bus connections are set up (`biased`: polled in this order).
    let (early_docker, files, system, user, display) = tokio::join!(
        biased;
        early,
        after_first_turn(files),
        after_first_turn(tokio::time::timeout(
            ctx.timeout,
            systemd::gather_system(ctx)
        )),
        after_first_turn(bounded(
            ctx,
            "the user's systemd",
            systemd::USER_SCHEMA,
            systemd::gather_user(ctx)
        )),
        after_first_turn(bounded(
            ctx,
            "the X server",
            display::LIVE_SCHEMA,
            display::gather(ctx)
        )),
    );
    // When the files were not all read (in time, or a bug stopped it), every fact they give is
    // unknown for that reason, and nothing more is read from them in this run (the unit files,
    // daemon.json).
    let mut unread = None;
    let mut facts = files.unwrap_or_else(|e| {
        let reason = match e {
            Unfinished::Late => format!(
                "the files under {} were not all read within {}",
                ctx.sysroot.root().display(),
                humantime::format_duration(ctx.timeout)
            ),
            Unfinished::Failed(e) => {
                eprintln!(
                    "dockdoc: error: reading the files failed: {e} (a bug in dockdoc, please report it)"
                );
                format!("reading the files failed: {e} (a bug in dockdoc, please report it)")
            }
        };
        unread = Some(reason);
        let mut facts = Facts::default();
        facts
            .host
            .insert("root".into(), ctx.sysroot.root().display().to_string());
        facts
    });
    let (snapshot, conn) = system.unwrap_or_else(|_| {
        let mut f = Facts::default();
        let late = Fact::unknown(format!(
            "systemd did not answer within {}",
            humantime::format_duration(ctx.timeout)
        ));
        for key in systemd::SYSTEM_KEYS {
            f.set(key, late.clone());
        }
        (f, None)
    });

    let mut activation = Fact::known("none");
    let mut after = Fact::known(Value::Null);
    let docker_facts = match early_docker {
        Some(d) => d,
        None => {
            let activates = would_activate(&facts, &snapshot);
            // Connecting may start the daemon: not before the checks have loaded and the run
            // is known to go on (a usage error found by them stops it with nothing started).
            let stopped = activates == Some(true) && ctx.asks.decided().await.is_none();
            if stopped {
                docker_live_all(&Fact::skipped(
                    "the run stopped before the Docker daemon was contacted",
                ))
            } else if activates == Some(true) && options.no_activate {
                activation = Fact::known("skipped");
                docker_live_all(&Fact::skipped(
                    "connecting would start docker.service through docker.socket (socket activation); not contacted with --no-activate",
                ))
            } else {
                let answered = bounded(
                    ctx,
                    "the Docker daemon",
                    docker::SCHEMA,
                    docker::gather(ctx),
                )
                .await;
                if activates == Some(true) {
                    let (kind, state) = reread(ctx, conn.as_ref(), &answered).await;
                    activation = kind;
                    after = state;
                } else if activates.is_none() {
                    activation = Fact::unknown(
                        "the snapshot of docker.service and docker.socket could not be read",
                    );
                }
                answered
            }
        }
    };
    facts.set("systemd.docker_activation", activation);
    facts.set("systemd.docker_service_after_connect", after);

    // A live probe that timed out reports its whole schema unknown; that must not replace the
    // file facts its module already read (daemon.json, the socket's mode), so existing keys win.
    for part in [snapshot, user, docker_facts, display] {
        for (key, fact) in part.facts {
            facts.facts.entry(key).or_insert(fact);
        }
    }

    match &unread {
        None => {
            // Where the bus was not contacted (--root), the unit files on disk give docker's
            // units' load and unit-file states and ExecStart; the bus's values stand wherever
            // it was read.
            facts::units::gather(ctx, &mut facts);
            // daemon.json: which file dockerd reads and how it judges it follow from
            // docker.service's ExecStart and the installed package, so it is read once those
            // are in.
            docker::gather_daemon_json(ctx, &mut facts).await;
        }
        Some(reason) => {
            facts::units::set_unread(&mut facts, reason);
            for s in schema() {
                if s.key != "run.profiles" && !facts.facts.contains_key(s.key) {
                    facts
                        .facts
                        .insert(s.key.to_owned(), Fact::unknown(reason.clone()));
                }
            }
        }
    }

    let failed = facts.text("systemd.docker_service_active_state") == Some("failed")
        || facts.text("systemd.docker_socket_active_state") == Some("failed")
        || facts.text("systemd.docker_activation") == Some("failed");
    let last_words = if failed {
        journal::docker_last_error(ctx).await
    } else {
        journal::not_read()
    };
    facts.set("journal.docker_last_error", last_words);

    facts::derive(&mut facts);
    // Docker's chains in the ruleset: only once the daemon answered and the files say where
    // its rules live (netfilter::gather decides whether to read at all).
    match &unread {
        None => facts::netfilter::gather(ctx, &mut facts),
        Some(reason) => facts::netfilter::set_all(&mut facts, &Fact::unknown(reason.clone())),
    }
    // Which firewall replaced the ruleset: asked of the journal only when the chains are gone.
    let reloaded = if facts.bool("netfilter.docker_chains_gone") == Some(true) {
        journal::firewall_after_docker(ctx).await
    } else {
        Fact::skipped(
            "Docker's chains are not gone, so the journal is not read for a firewall reload",
        )
    };
    facts.set("journal.firewall_after_docker", reloaded);

    let missing = Fact::unknown("no probe set this fact (a bug in dockdoc, please report it)");
    for s in schema() {
        if s.key != "run.profiles" && !facts.facts.contains_key(s.key) {
            facts.facts.insert(s.key.to_owned(), missing.clone());
        }
    }
    facts
}

/// After this run's connection started docker.service: did the daemon answer, or did the
/// start fail? The unit is read again on the snapshot's connection.
async fn reread(ctx: &Context, conn: Option<&zbus::Connection>, answered: &Facts) -> (Fact, Fact) {
    if answered.bool("docker.reachable") == Some(true) {
        let after = match conn {
            Some(c) => match systemd::read_docker_service(c, ctx.timeout).await {
                Ok(state) => Fact::known(systemd::describe(&state)),
                Err(reason) => Fact::unknown(reason),
            },
            None => Fact::known(Value::Null),
        };
        return (Fact::known("answered"), after);
    }
    let Some(conn) = conn else {
        return (
            Fact::unknown("the system bus connection was lost after the snapshot"),
            Fact::unknown("the system bus connection was lost after the snapshot"),
        );
    };
    match systemd::read_docker_service(conn, ctx.timeout).await {
        Ok(state) if systemd::start_failed(&state) => (
            Fact::known("failed"),
            Fact::known(systemd::describe(&state)),
        ),
        Ok(state) => (
            Fact::known("starting"),
            Fact::known(systemd::describe(&state)),
        ),
        Err(reason) => (Fact::unknown(reason.clone()), Fact::unknown(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_work_that_overruns_its_timeout_is_given_up_on_time() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (release, stuck) = std::sync::mpsc::channel::<()>();
        let started = std::time::Instant::now();
        let got = runtime.block_on(blocking_within(
            std::time::Duration::from_millis(100),
            move || stuck.recv().is_ok(),
        ));
        assert!(matches!(got, Err(Unfinished::Late)), "{got:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        drop(release);
        runtime.shutdown_background();
        let done = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(blocking_within(std::time::Duration::from_secs(5), || 7));
        assert_eq!(done.unwrap(), 7);
    }
}
