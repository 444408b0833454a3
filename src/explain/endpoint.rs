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
}

/// Checks that judge the system daemon only: its units, its socket, its group, its daemon.json.
const SYSTEM_DAEMON: &[&str] = &[
    "docker-service-inactive",
    "docker-service-failed",
    "docker-not-enabled",
    "docker-socket-without-service",
    "docker-socket-activation-broken",
    "docker-socket-missing",
    "docker-socket-permission-denied",
    "user-not-in-docker-group",
    "session-missing-docker-group",
    "daemon-json-invalid",
    "daemon-json-conflicts-with-flags",
    "docker-daemon-stale",
];

/// Checks about a rootless daemon or a `DOCKER_HOST` that points at one.
const ROOTLESS: &[&str] = &[
    "rootless-daemon-not-running",
    "docker-host-overrides-context",
];

/// Checks about Docker Desktop.
const DESKTOP: &[&str] = &["docker-desktop-context"];

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
    pub fn named_in(text: &str) -> Option<Endpoint> {
        static SOCKET: OnceLock<Option<Regex>> = OnceLock::new();
        let re = SOCKET
            .get_or_init(|| Regex::new(r"(?:unix://)?(/[^\s'`()\[\]]*?)?/docker\.sock\b").ok())
            .as_ref()?;
        let found = re.captures(text)?;
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

    /// How this endpoint bears on the check `id`.
    pub fn bearing(self, id: &str) -> Bearing {
        let (judges, other): (&[&str], &[&[&str]]) = match self {
            Endpoint::System => (&[], &[ROOTLESS, DESKTOP]),
            Endpoint::Rootless | Endpoint::RuntimeDirUnset => (ROOTLESS, &[SYSTEM_DAEMON, DESKTOP]),
            Endpoint::Desktop => (DESKTOP, &[SYSTEM_DAEMON, ROOTLESS]),
        };
        if judges.contains(&id) {
            Bearing::Judges
        } else if other.iter().any(|set| set.contains(&id)) {
            Bearing::Other
        } else {
            Bearing::Neutral
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
        }
    }
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
                None,
            ),
            ("unix:///srv/my/docker.sock", None),
        ];
        for (text, want) in cases {
            assert_eq!(Endpoint::named_in(text), want, "{text}");
        }
    }

    #[test]
    fn every_named_check_exists() {
        let catalog = crate::catalog::load_builtin().catalog;
        for id in SYSTEM_DAEMON.iter().chain(ROOTLESS).chain(DESKTOP) {
            assert!(catalog.get(id).is_some(), "{id}");
        }
    }

    #[test]
    fn no_system_daemon_check_judges_a_desktop_or_rootless_socket() {
        for e in [
            Endpoint::Desktop,
            Endpoint::Rootless,
            Endpoint::RuntimeDirUnset,
        ] {
            for id in SYSTEM_DAEMON {
                assert_eq!(e.bearing(id), Bearing::Other, "{e:?} {id}");
            }
        }
        assert_eq!(
            Endpoint::System.bearing("docker-service-inactive"),
            Bearing::Neutral
        );
        assert_eq!(
            Endpoint::System.bearing("docker-desktop-context"),
            Bearing::Other
        );
    }
}
