//! The Docker endpoint a paste names, and which checks judge it.
//!
//! The socket path in an error decides its cause before any wording does: the same
//! "Cannot connect to the Docker daemon at …" means a stopped system daemon at
//! `/var/run/docker.sock`, a stopped rootless daemon at `/run/user/UID/docker.sock`, Docker
//! Desktop's VM at `~/.docker/desktop/docker.sock`, and a `DOCKER_HOST` built from an unset
//! `XDG_RUNTIME_DIR` at `/docker.sock`. A system-daemon fix (systemctl, the docker group) is no
//! fix for the last three.

use std::sync::OnceLock;

use regex::Regex;

use super::compiled;
use crate::catalog::Check;

/// The kind of daemon behind a socket path, as the docker CLI and its clients print it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `/run/docker.sock` or `/var/run/docker.sock`: the system daemon (docker.service).
    System,
    /// `/run/user/UID/docker.sock` or `~/.docker/run/docker.sock`: a rootless daemon.
    Rootless,
    /// `/docker.sock`: `unix://$XDG_RUNTIME_DIR/docker.sock` expanded with the variable unset,
    /// as `dockerd-rootless-setuptool.sh` tells users to export it.
    RuntimeDirUnset,
    /// `~/.docker/desktop/docker.sock`: Docker Desktop's VM (context `desktop-linux`).
    Desktop,
    /// A daemon over the network: `… at tcp://`, `ssh://` (the `remote` kind of a check's
    /// `endpoints`).
    Remote,
}

/// Checks that judge which endpoint the CLI was pointed at, not a daemon: they apply to every
/// kind (no `endpoints` in their files), and a path of the kind they are about is their subject.
const CHOICE_OF_ENDPOINT: &[(&str, &str)] = &[
    ("docker-desktop-context", "desktop"),
    ("docker-host-overrides-context", "rootless"),
];

/// How a named endpoint bears on a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bearing {
    /// The check judges exactly this kind of daemon: it ranks first.
    Judges,
    /// The check does not depend on the kind of daemon, or no endpoint was named.
    Neutral,
    /// The check judges another kind of daemon: it is shown as ruled out, without its fix.
    Other,
}

impl Endpoint {
    /// The first Docker socket path in `text`, classified; `None` when there is none, or the
    /// socket is of another kind (a remote daemon, a path of the user's choosing).
    ///
    /// Spellings: `unix:///path` (the CLI, Go SDK, docker-py's `http+docker://`), `dial unix
    /// /path:` (old CLIs), `connect EACCES /path` (Node clients), and `'/path'` in Python's
    /// `PermissionError(13, …)`/`FileNotFoundError(2, …)`.
    ///
    /// Without a socket path, a `-linuxkit` kernel release (what a container prints of its host,
    /// as the dockur images' banner does) is Docker Desktop's VM.
    pub fn named_in(text: &str) -> Option<Endpoint> {
        // Each pattern is compiled only when the text holds a word every match of it holds.
        static REMOTE: OnceLock<Option<Regex>> = OnceLock::new();
        static USER_UNIT: OnceLock<Option<Regex>> = OnceLock::new();
        static SOCKET: OnceLock<Option<Regex>> = OnceLock::new();
        static LINUXKIT: OnceLock<Option<Regex>> = OnceLock::new();
        if text.contains("://")
            && compiled(
                &REMOTE,
                r"(?i)(?:daemon|docker API|docker) at (?:tcp|ssh|https?)://",
            )?
            .is_match(text)
        {
            return Some(Endpoint::Remote);
        }
        let user_unit = [
            "(Rootless)",
            "/systemd/user/docker.service",
            "systemctl --user",
        ];
        if user_unit.iter().any(|w| text.contains(w))
            && compiled(
                &USER_UNIT,
                r"Container Engine \(Rootless\)|/systemd/user/docker\.service|systemctl --user \S+ docker\b",
            )?
            .is_match(text)
        {
            return Some(Endpoint::Rootless);
        }
        let found = if text.contains("/docker.sock") {
            compiled(&SOCKET, r"(?:unix://)?(/[^\s'`()\[\]]*?)?/docker\.sock\b")?.captures(text)
        } else {
            None
        };
        let Some(found) = found else {
            if !text.contains("-linuxkit") {
                return None;
            }
            return compiled(&LINUXKIT, r"\b\d+\.\d+\.\d+-linuxkit\b")?
                .is_match(text)
                .then_some(Endpoint::Desktop);
        };
        let dir = found.get(1).map_or("", |m| m.as_str());
        Some(if dir.is_empty() {
            Endpoint::RuntimeDirUnset
        } else if dir.ends_with("/.docker/desktop") {
            Endpoint::Desktop
        } else if dir.starts_with("/run/user/") || dir.ends_with("/.docker/run") {
            Endpoint::Rootless
        } else if dir == "/run" || dir == "/var/run" {
            Endpoint::System
        } else {
            return None;
        })
    }

    /// The endpoint kind (`docker.endpoint_kind`, the values of a check's `endpoints`) of this
    /// path: a `/docker.sock` from an unset `XDG_RUNTIME_DIR` was meant for a rootless daemon.
    pub fn kind(self) -> &'static str {
        match self {
            Endpoint::System => "system",
            Endpoint::Rootless | Endpoint::RuntimeDirUnset => "rootless",
            Endpoint::Desktop => "desktop",
            Endpoint::Remote => "remote",
        }
    }

    /// How this endpoint bears on `check`, from the kinds its file says it judges
    /// (`endpoints`): it judges exactly this kind (first), several kinds or every kind (no
    /// bearing), or not this kind (ruled out). A check about the CLI's choice of endpoint
    /// ([`CHOICE_OF_ENDPOINT`]) judges a path of its kind and is ruled out by the others.
    pub fn bearing(self, check: &Check) -> Bearing {
        let kind = self.kind();
        if let Some((_, about)) = CHOICE_OF_ENDPOINT.iter().find(|(id, _)| *id == check.id) {
            return if *about == kind {
                Bearing::Judges
            } else {
                Bearing::Other
            };
        }
        match check.endpoints.as_deref() {
            None => Bearing::Neutral,
            Some(kinds) if !kinds.iter().any(|k| k == kind) => Bearing::Other,
            Some([only]) if only == kind => Bearing::Judges,
            Some(_) => Bearing::Neutral,
        }
    }

    /// What the path says, for the ruled-out line: "the paste names …".
    pub fn describe(self) -> &'static str {
        match self {
            Endpoint::System => "the system daemon's socket",
            Endpoint::Rootless => "a rootless daemon's socket",
            Endpoint::RuntimeDirUnset => {
                "/docker.sock: a DOCKER_HOST built from an unset XDG_RUNTIME_DIR"
            }
            Endpoint::Desktop => "Docker Desktop's socket",
            Endpoint::Remote => "a daemon over the network (tcp:// or ssh://)",
        }
    }
}

/// `Judges` when `id` is in `judges`, `Other` when in one of `other`, else `Neutral`.
fn bearing_in(id: &str, judges: &[&str], other: &[&[&str]]) -> Bearing {
    if judges.contains(&id) {
        Bearing::Judges
    } else if other.iter().any(|set| set.contains(&id)) {
        Bearing::Other
    } else {
        Bearing::Neutral
    }
}

/// How connecting to the endpoint failed, in any client's spelling of the errno: the CLI's
/// `connect: permission denied`, Node's `connect EACCES`, Python's `PermissionError(13, …)`,
/// curl's `Connection refused`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// ENOENT: no socket file at the path.
    NoSocket,
    /// EACCES: the socket is there, this user may not open it.
    Denied,
    /// ECONNREFUSED: the socket file is there, nothing listens on it.
    Refused,
}

/// Checks that say the socket file is missing.
const NO_SOCKET: &[&str] = &["docker-socket-missing"];

/// Checks that say this user may not open the socket.
const DENIED: &[&str] = &[
    "docker-socket-permission-denied",
    "user-not-in-docker-group",
    "session-missing-docker-group",
];

/// Checks that say nothing answers on a socket that is there.
const REFUSED: &[&str] = &["docker-daemon-unreachable"];

impl Failure {
    /// The errno of a failed connection to a Docker endpoint on one line: the line must name
    /// Docker (its socket, its daemon, its API) for the errno to be about it.
    pub fn named_in(line: &str) -> Option<Failure> {
        static ERRNO: OnceLock<Option<[Regex; 3]>> = OnceLock::new();
        let lower = line.to_ascii_lowercase();
        if !lower.contains("docker") {
            return None;
        }
        // Every match of the patterns holds one of these words, up to ASCII case: without one,
        // the patterns are not compiled. They ignore case as Unicode does, where a long s (ſ)
        // is an s and the Kelvin sign a k, so a line holding either is always matched.
        const WORDS: &[&str] = &[
            "enoent",
            "filenotfounderror(2",
            "no such file or directory",
            "eacces",
            "permissionerror(13",
            "error(13",
            "permission denied",
            "econnrefused",
            "connectionrefusederror(111",
            "connection refused",
        ];
        if !WORDS.iter().any(|w| lower.contains(w)) && !line.contains(['\u{17f}', '\u{212a}']) {
            return None;
        }
        let [no_socket, denied, refused] = ERRNO
            .get_or_init(|| {
                Some([
                    Regex::new(r"(?i)\bENOENT\b|FileNotFoundError\(2\b|connect: no such file or directory").ok()?,
                    Regex::new(r"(?i)\bEACCES\b|PermissionError\(13\b|\berror\(13\b|connect: permission denied|permission denied while trying to connect").ok()?,
                    Regex::new(r"(?i)\bECONNREFUSED\b|ConnectionRefusedError\(111\b|connect: connection refused|docker\.sock: Connection refused").ok()?,
                ])
            })
            .as_ref()?;
        if no_socket.is_match(line) {
            Some(Failure::NoSocket)
        } else if denied.is_match(line) {
            Some(Failure::Denied)
        } else if refused.is_match(line) {
            Some(Failure::Refused)
        } else {
            None
        }
    }

    /// How this failure bears on the check `id`: each errno rules out the others' causes.
    pub fn bearing(self, id: &str) -> Bearing {
        let (judges, other): (&[&str], &[&[&str]]) = match self {
            Failure::NoSocket => (NO_SOCKET, &[DENIED, REFUSED]),
            Failure::Denied => (DENIED, &[NO_SOCKET, REFUSED]),
            Failure::Refused => (REFUSED, &[NO_SOCKET, DENIED]),
        };
        bearing_in(id, judges, other)
    }

    fn describe(self) -> &'static str {
        match self {
            Failure::NoSocket => "no socket file there (ENOENT)",
            Failure::Denied => "a socket this user may not open (EACCES)",
            Failure::Refused => "a socket nothing listens on (ECONNREFUSED)",
        }
    }
}

/// What a paste says about the Docker endpoint: which kind of daemon it names, and how
/// connecting to it failed. Read from the lines that matched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    pub endpoint: Option<Endpoint>,
    pub failure: Option<Failure>,
}

impl Reading {
    /// The first endpoint and the first errno named in `lines`, in order.
    pub fn of<'a>(lines: impl IntoIterator<Item = &'a str>) -> Reading {
        let mut reading = Reading::default();
        for line in lines {
            reading.endpoint = reading.endpoint.or_else(|| Endpoint::named_in(line));
            reading.failure = reading.failure.or_else(|| Failure::named_in(line));
        }
        reading
    }

    /// Ruled out when the endpoint or the errno rules the check out; otherwise first when either
    /// judges it.
    pub fn bearing(&self, check: &Check) -> Bearing {
        let by_endpoint = self.endpoint.map_or(Bearing::Neutral, |e| e.bearing(check));
        let by_failure = self
            .failure
            .map_or(Bearing::Neutral, |f| f.bearing(&check.id));
        if by_endpoint == Bearing::Other || by_failure == Bearing::Other {
            Bearing::Other
        } else {
            by_endpoint.min(by_failure)
        }
    }

    /// Why a check is ruled out: what the paste names.
    pub fn why_ruled_out(&self, check: &Check) -> &'static str {
        match (self.endpoint, self.failure) {
            (Some(e), _) if e.bearing(check) == Bearing::Other => e.describe(),
            (_, Some(f)) if f.bearing(&check.id) == Bearing::Other => f.describe(),
            _ => "another daemon",
        }
    }
}

/// When the paste names a kind of daemon other than the one this run's CLI endpoint is
/// (`docker.endpoint_kind`, `docker.endpoint`), the sentence that says so: the checks judged
/// this shell's daemon, not the paste's.
pub fn elsewhere(reading: Reading, facts: &crate::facts::Facts) -> Option<String> {
    let named = reading.endpoint?;
    let here = facts.text("docker.endpoint_kind")?;
    if here == named.kind() {
        return None;
    }
    let endpoint = facts.text("docker.endpoint").unwrap_or("(unknown)");
    Some(format!(
        "the paste names {}, but this run's Docker endpoint is {endpoint} ({here}): the daemon checks judged that one. Run dockdoc in the shell where the error happened, or give it the same endpoint (--docker-host, DOCKER_HOST or the context).",
        named.describe()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_decides_the_kind_in_every_client_spelling() {
        let cases = [
            (
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
                Some(Endpoint::System),
            ),
            (
                "dial unix /var/run/docker.sock: connect: permission denied",
                Some(Endpoint::System),
            ),
            (
                "Error: connect EACCES /var/run/docker.sock",
                Some(Endpoint::System),
            ),
            (
                "('Connection aborted.', PermissionError(13, 'Permission denied'))",
                None,
            ),
            (
                "Cannot connect to the Docker daemon at unix:///run/user/1000/docker.sock.",
                Some(Endpoint::Rootless),
            ),
            (
                "dial unix /home/me/.docker/run/docker.sock: connect: no such file or directory",
                Some(Endpoint::Rootless),
            ),
            (
                "Cannot connect to the Docker daemon at unix:///docker.sock. Is the docker daemon running?",
                Some(Endpoint::RuntimeDirUnset),
            ),
            (
                "Cannot connect to the Docker daemon at unix:///home/u/.docker/desktop/docker.sock.",
                Some(Endpoint::Desktop),
            ),
            (
                "Cannot connect to the Docker daemon at tcp://10.0.0.2:2375.",
                Some(Endpoint::Remote),
            ),
            ("unix:///srv/my/docker.sock", None),
            (
                "CPU: Intel Core TM i3 10105F CPU | HOST: 6.10.11-linuxkit...",
                Some(Endpoint::Desktop),
            ),
            ("HOST: 6.5.0-1021-oracle...", None),
        ];
        for (text, want) in cases {
            assert_eq!(Endpoint::named_in(text), want, "{text}");
        }
    }

    fn check(id: &str) -> Check {
        crate::catalog::load_builtin()
            .catalog
            .get(id)
            .unwrap_or_else(|| panic!("no check {id}"))
            .clone()
    }

    #[test]
    fn every_named_check_exists() {
        let catalog = crate::catalog::load_builtin().catalog;
        let choice = CHOICE_OF_ENDPOINT.iter().map(|(id, _)| id);
        for id in choice.chain(NO_SOCKET).chain(DENIED).chain(REFUSED) {
            assert!(catalog.get(id).is_some(), "{id}");
        }
    }

    #[test]
    fn no_system_daemon_check_judges_a_desktop_or_rootless_socket() {
        let catalog = crate::catalog::load_builtin().catalog;
        let system_only: Vec<&Check> = catalog
            .checks
            .iter()
            .filter(|c| {
                c.endpoints
                    .as_deref()
                    .is_some_and(|k| k.iter().all(|k| k == "system" || k == "other"))
            })
            .collect();
        assert!(system_only.len() >= 12, "{}", system_only.len());
        for e in [
            Endpoint::Desktop,
            Endpoint::Rootless,
            Endpoint::RuntimeDirUnset,
        ] {
            for c in &system_only {
                assert_eq!(e.bearing(c), Bearing::Other, "{e:?} {}", c.id);
            }
        }
        assert_eq!(
            Endpoint::System.bearing(&check("docker-service-inactive")),
            Bearing::Neutral
        );
        assert_eq!(
            Endpoint::System.bearing(&check("docker-desktop-context")),
            Bearing::Other
        );
        assert_eq!(
            Endpoint::Rootless.bearing(&check("rootless-daemon-not-running")),
            Bearing::Judges
        );
        assert_eq!(
            Endpoint::System.bearing(&check("rootless-daemon-not-running")),
            Bearing::Other
        );
        assert_eq!(
            Endpoint::Desktop.bearing(&check("docker-desktop-context")),
            Bearing::Judges
        );
    }

    #[test]
    fn the_errno_decides_between_a_missing_socket_a_denied_one_and_a_deaf_one() {
        let cases = [
            (
                "Output from Docker: connect ENOENT /var/run/docker.sock",
                Some(Failure::NoSocket),
            ),
            (
                "Error: connect EACCES /var/run/docker.sock",
                Some(Failure::Denied),
            ),
            (
                "docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', PermissionError(13, 'Permission denied'))",
                Some(Failure::Denied),
            ),
            (
                "docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))",
                Some(Failure::NoSocket),
            ),
            (
                "curl: (7) Failed to connect to /var/run/docker.sock: Connection refused",
                Some(Failure::Refused),
            ),
            (
                "dial unix /var/run/docker.sock: connect: permission denied",
                Some(Failure::Denied),
            ),
            (
                "Could not access KVM kernel module: No such file or directory",
                None,
            ),
            (
                "chmod: changing permissions of '/dev/kvm': Operation not permitted",
                None,
            ),
            // Case as Unicode folds it: a long s is an s.
            (
                "dial unix /var/run/docker.sock: connect: EACCE\u{17f}",
                Some(Failure::Denied),
            ),
            (
                "Error: connect ECONNREFU\u{17f}ED /var/run/docker.sock",
                Some(Failure::Refused),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(Failure::named_in(line), want, "{line}");
        }
    }

    #[test]
    fn a_rule_out_wins_over_a_judgement() {
        let r = Reading {
            endpoint: Some(Endpoint::Desktop),
            failure: Some(Failure::Denied),
        };
        assert_eq!(
            r.bearing(&check("docker-socket-permission-denied")),
            Bearing::Other
        );
        assert_eq!(r.bearing(&check("docker-desktop-context")), Bearing::Judges);
        let r = Reading {
            endpoint: Some(Endpoint::System),
            failure: Some(Failure::NoSocket),
        };
        assert_eq!(r.bearing(&check("docker-socket-missing")), Bearing::Judges);
        assert_eq!(
            r.bearing(&check("user-not-in-docker-group")),
            Bearing::Other
        );
        assert_eq!(
            r.bearing(&check("docker-service-inactive")),
            Bearing::Neutral
        );
        assert_eq!(
            r.why_ruled_out(&check("user-not-in-docker-group")),
            "no socket file there (ENOENT)"
        );
    }
}
