//! Which daemon the docker CLI would talk to, resolved as the CLI does it: the `-H` flag
//! (dockdoc's `--docker-host`), then `DOCKER_HOST`, then `DOCKER_CONTEXT`, then
//! `currentContext` in `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`), then the
//! default socket. A named context's endpoint is `Endpoints.docker.Host` in
//! `<config dir>/contexts/meta/<sha256 of the name>/meta.json`.

use serde_json::Value as Json;

use crate::facts::Context;

/// The CLI's default endpoint. On Arch `/var/run` is a symlink to `/run`, so this is the
/// same socket as the CLI's `unix:///var/run/docker.sock`.
pub const DEFAULT_HOST: &str = "unix:///run/docker.sock";

/// The context Docker Desktop for Linux creates.
pub const DESKTOP_CONTEXT: &str = "desktop-linux";

#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The endpoint URI, or why it cannot be resolved (e.g. a context without metadata).
    pub endpoint: Result<String, String>,
    /// `--docker-host`, `DOCKER_HOST`, `context NAME` or `default`.
    pub source: String,
    /// The configured context (DOCKER_CONTEXT or currentContext), `None` for the default
    /// one; the error when config.json cannot be read.
    pub context: Result<Option<String>, String>,
    /// What the configured context (or the default) points at, whatever DOCKER_HOST says.
    pub context_endpoint: Result<String, String>,
    /// DOCKER_HOST as set in the environment.
    pub host_env: Option<String>,
}

/// The CLI's configuration directory inside the sysroot.
pub fn config_dir(ctx: &Context) -> Option<String> {
    if let Some(dir) = ctx.env.get("DOCKER_CONFIG") {
        return Some(dir.trim_end_matches('/').to_owned());
    }
    ctx.env
        .get("HOME")
        .map(|home| format!("{}/.docker", home.trim_end_matches('/')))
}

/// The configured context name: DOCKER_CONTEXT, else `currentContext` from config.json.
/// `default` and an empty name mean the default context (`None`).
fn configured_context(ctx: &Context) -> Result<Option<String>, String> {
    let named = |n: &str| (!n.is_empty() && n != "default").then(|| n.to_owned());
    if let Some(name) = ctx.env.get("DOCKER_CONTEXT") {
        return Ok(named(name.trim()));
    }
    let Some(dir) = config_dir(ctx) else {
        return Ok(None);
    };
    let path = format!("{dir}/config.json");
    let text = match ctx.sysroot.read_optional(&path) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let json: Json = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    Ok(json
        .get("currentContext")
        .and_then(Json::as_str)
        .and_then(named))
}

/// The `meta.json` path of a context inside the sysroot.
pub fn context_meta_path(config_dir: &str, name: &str) -> String {
    format!(
        "{config_dir}/contexts/meta/{}/meta.json",
        context_dir_name(name)
    )
}

/// The docker endpoint of a named context.
fn context_host(ctx: &Context, name: &str) -> Result<String, String> {
    let dir = config_dir(ctx)
        .ok_or_else(|| format!("context {name:?} is set but neither DOCKER_CONFIG nor HOME is"))?;
    let path = context_meta_path(&dir, name);
    let text = match ctx.sysroot.read_optional(&path) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(format!(
                "{path}: context {name:?} does not exist (the CLI fails with `context \"{name}\": context not found`)"
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    let json: Json = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    json.pointer("/Endpoints/docker/Host")
        .and_then(Json::as_str)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| format!("{path}: no Endpoints.docker.Host"))
}

/// Resolves the endpoint the way the docker CLI does.
pub fn resolve(ctx: &Context) -> Resolved {
    let host_env = ctx.env.get("DOCKER_HOST").map(|h| h.trim().to_owned());
    let context = configured_context(ctx);
    let context_endpoint = match &context {
        Ok(None) => Ok(DEFAULT_HOST.to_owned()),
        Ok(Some(name)) => context_host(ctx, name),
        Err(e) => Err(e.clone()),
    };
    let (endpoint, source) = if let Some(flag) = &ctx.endpoints.docker_host {
        (Ok(flag.trim().to_owned()), "--docker-host".to_owned())
    } else if let Some(env) = &host_env {
        (Ok(env.clone()), "DOCKER_HOST".to_owned())
    } else {
        match &context {
            Ok(None) => (Ok(DEFAULT_HOST.to_owned()), "default".to_owned()),
            Ok(Some(name)) => (context_endpoint.clone(), format!("context {name}")),
            Err(e) => (Err(e.clone()), "context".to_owned()),
        }
    };
    Resolved {
        endpoint: endpoint.map(|e| normalize(&e)),
        source,
        context,
        context_endpoint: context_endpoint.map(|e| normalize(&e)),
        host_env,
    }
}

/// A bare absolute path is taken as a unix socket.
fn normalize(endpoint: &str) -> String {
    if endpoint.starts_with('/') {
        format!("unix://{endpoint}")
    } else {
        endpoint.to_owned()
    }
}

/// The socket path of a `unix://` endpoint.
pub fn socket_path(endpoint: &str) -> Option<&str> {
    endpoint.strip_prefix("unix://").filter(|p| !p.is_empty())
}

/// Whether the endpoint reaches another machine.
pub fn is_remote(endpoint: &str) -> bool {
    ["tcp://", "ssh://", "http://", "https://"]
        .iter()
        .any(|s| endpoint.starts_with(s))
}

/// rootless (a socket under XDG_RUNTIME_DIR or /run/user/), remote (tcp, ssh) or rootful.
pub fn mode(endpoint: &str, xdg_runtime_dir: Option<&str>) -> &'static str {
    if is_remote(endpoint) {
        return "remote";
    }
    let Some(path) = socket_path(endpoint) else {
        return "rootful";
    };
    let under_xdg = xdg_runtime_dir
        .map(|d| d.trim_end_matches('/'))
        .filter(|d| !d.is_empty())
        .is_some_and(|d| path.starts_with(&format!("{d}/")));
    if under_xdg || path.starts_with("/run/user/") || path.starts_with("/var/run/user/") {
        "rootless"
    } else {
        "rootful"
    }
}

/// The kinds of daemon an endpoint can reach. Each check states which kinds it judges
/// (`endpoints` in a check file): the system daemon's units, group and package say nothing about
/// a rootless daemon, Docker Desktop's VM or another machine.
pub const KINDS: &[&str] = &["system", "rootless", "desktop", "remote", "other"];

/// The kind of daemon behind an endpoint:
/// - `system`: the system daemon's socket, `/run/docker.sock` (or `/var/run/docker.sock`);
/// - `rootless`: a socket under `$XDG_RUNTIME_DIR`, `/run/user/UID/` or `~/.docker/run/`;
/// - `desktop`: Docker Desktop (`~/.docker/desktop/docker.sock`, or the `desktop-linux` context);
/// - `remote`: `tcp://`, `ssh://`, `http(s)://`;
/// - `other`: any other unix socket (a daemon started by hand on a path of its own).
pub fn kind(
    resolved: &Resolved,
    xdg_runtime_dir: Option<&str>,
    home: Option<&str>,
) -> &'static str {
    if is_desktop(resolved) {
        return "desktop";
    }
    let Ok(uri) = resolved.endpoint.as_deref() else {
        return "other";
    };
    if is_remote(uri) {
        return "remote";
    }
    let Some(path) = socket_path(uri) else {
        return "other";
    };
    if matches!(path, "/run/docker.sock" | "/var/run/docker.sock") {
        return "system";
    }
    let under = |dir: Option<&str>, sub: &str| {
        dir.map(|d| d.trim_end_matches('/'))
            .filter(|d| !d.is_empty())
            .is_some_and(|d| path.starts_with(&format!("{d}{sub}/")))
    };
    if under(xdg_runtime_dir, "")
        || path.starts_with("/run/user/")
        || path.starts_with("/var/run/user/")
        || under(home, "/.docker/run")
    {
        return "rootless";
    }
    "other"
}

/// Whether the endpoint is Docker Desktop's: its context, or its socket in ~/.docker/desktop.
pub fn is_desktop(resolved: &Resolved) -> bool {
    let desktop_socket = resolved
        .endpoint
        .as_deref()
        .ok()
        .and_then(socket_path)
        .is_some_and(|p| p.ends_with("/.docker/desktop/docker.sock"));
    desktop_socket || resolved.source == format!("context {DESKTOP_CONTEXT}")
}

/// The CLI stores a context's metadata under the hex SHA-256 of its name.
pub fn context_dir_name(name: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(mode("unix:///run/docker.sock", None), "rootful");
        assert_eq!(mode("unix:///var/run/docker.sock", None), "rootful");
        assert_eq!(mode("unix:///run/user/1000/docker.sock", None), "rootless");
        assert_eq!(
            mode("unix:///tmp/xdg/docker.sock", Some("/tmp/xdg/")),
            "rootless"
        );
        assert_eq!(
            mode("unix:///tmp/xdgx/docker.sock", Some("/tmp/xdg")),
            "rootful"
        );
        assert_eq!(mode("tcp://10.0.0.2:2376", None), "remote");
        assert_eq!(mode("ssh://alice@build", None), "remote");
    }

    fn resolved(endpoint: &str, source: &str) -> Resolved {
        Resolved {
            endpoint: Ok(endpoint.to_owned()),
            source: source.to_owned(),
            context: Ok(None),
            context_endpoint: Ok(DEFAULT_HOST.to_owned()),
            host_env: None,
        }
    }

    #[test]
    fn kinds() {
        let home = Some("/home/alice");
        let xdg = Some("/run/user/1000");
        let k = |e: &str, s: &str, xdg| kind(&resolved(e, s), xdg, home);
        assert_eq!(k("unix:///run/docker.sock", "default", xdg), "system");
        assert_eq!(
            k("unix:///var/run/docker.sock", "DOCKER_HOST", None),
            "system"
        );
        assert_eq!(
            k("unix:///run/user/1000/docker.sock", "DOCKER_HOST", None),
            "rootless"
        );
        assert_eq!(
            k(
                "unix:///tmp/xdg/docker.sock",
                "DOCKER_HOST",
                Some("/tmp/xdg")
            ),
            "rootless"
        );
        assert_eq!(
            k(
                "unix:///home/alice/.docker/run/docker.sock",
                "DOCKER_HOST",
                None
            ),
            "rootless"
        );
        assert_eq!(
            k(
                "unix:///home/alice/.docker/desktop/docker.sock",
                "context desktop-linux",
                xdg
            ),
            "desktop"
        );
        assert_eq!(k("unix:///docker.sock", "DOCKER_HOST", None), "other");
        assert_eq!(
            k("unix:///tmp/d/docker.sock", "--docker-host", xdg),
            "other"
        );
        assert_eq!(k("ssh://alice@build", "DOCKER_HOST", xdg), "remote");
        assert_eq!(k("tcp://10.0.0.2:2376", "DOCKER_HOST", xdg), "remote");
    }

    #[test]
    fn socket_paths() {
        assert_eq!(
            socket_path("unix:///run/docker.sock"),
            Some("/run/docker.sock")
        );
        assert_eq!(socket_path("tcp://1.2.3.4:2375"), None);
        assert_eq!(normalize("/run/docker.sock"), "unix:///run/docker.sock");
    }

    #[test]
    fn context_directory_is_the_sha256_of_the_name() {
        assert_eq!(
            context_meta_path("/home/alice/.docker", "desktop-linux"),
            "/home/alice/.docker/contexts/meta/fe9c6bd7a66301f49ca9b6a70b217107cd1284598bfc254700c989b916da791e/meta.json"
        );
    }
}
