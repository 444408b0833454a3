//! The credential helpers the docker CLI runs for `docker login`, pulls and pushes: `credsStore`
//! and `credHelpers` in `~/.docker/config.json`. For a helper NAME the CLI executes
//! `docker-credential-NAME` found on PATH; `pass` also needs the `pass` program and an
//! initialised password store (`.gpg-id` in `$PASSWORD_STORE_DIR`, else `~/.password-store`), and
//! `desktop` is Docker Desktop's own helper, which on Linux keeps its secrets in `pass` too.
//! Everything here is read through the sysroot; nothing is executed.

use serde_json::Value as Json;

use crate::facts::{Context, Fact};

/// The directories searched for a helper besides the environment's PATH: the login PATH of
/// Arch's /etc/profile (`/usr/local/sbin:/usr/local/bin:/usr/bin`); /bin, /sbin and /usr/sbin
/// are links to /usr/bin there, and are searched for other layouts.
const ARCH_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/bin",
    "/usr/sbin",
    "/bin",
    "/sbin",
];

/// At most this many PATH entries are searched.
const MAX_PATH_DIRS: usize = 64;

/// Where Docker Desktop for Linux is installed (its deb, rpm and Arch packages).
pub const DESKTOP_DIR: &str = "/opt/docker-desktop";

/// The helpers config.json names: `credsStore` first, then each `credHelpers` entry, as
/// `(where, helper)`, e.g. `("credsStore", "pass")`, `("credHelpers ghcr.io", "desktop")`.
pub fn configured(json: &Json) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(name) = json.get("credsStore").and_then(Json::as_str)
        && !name.trim().is_empty()
    {
        out.push(("credsStore".to_owned(), name.trim().to_owned()));
    }
    if let Some(map) = json.get("credHelpers").and_then(Json::as_object) {
        for (registry, name) in map {
            if let Some(name) = name.as_str().map(str::trim).filter(|n| !n.is_empty()) {
                out.push((format!("credHelpers {registry}"), name.to_owned()));
            }
        }
    }
    out
}

/// Whether `key` (an `auths` or `credHelpers` key) names Docker Hub. The CLI looks up Docker
/// Hub's login under `https://index.docker.io/v1/` (`registry.IndexServer`); keys written by
/// hand or by other tools with the same host are counted too, so that a login the CLI may use
/// is never reported missing.
fn names_hub(key: &str) -> bool {
    let host = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or_default();
    matches!(
        host.to_ascii_lowercase().as_str(),
        "index.docker.io" | "docker.io" | "registry-1.docker.io"
    )
}

/// How the CLI would authenticate its pulls from Docker Hub, from config.json: `auths` (a login
/// kept in the file), `credsStore NAME` (`docker login` recorded Docker Hub in `auths` and the
/// helper keeps the secret), `credHelpers NAME` (a helper named for Docker Hub); `None` when it
/// pulls anonymously. An `auths` entry with neither `auth` nor `identitytoken` is only a
/// helper's bookkeeping: without a helper it holds no login.
pub fn hub_login(json: &Json) -> Option<String> {
    if let Some(map) = json.get("credHelpers").and_then(Json::as_object)
        && let Some(name) = map
            .iter()
            .filter(|(k, _)| names_hub(k))
            .find_map(|(_, v)| v.as_str().map(str::trim).filter(|n| !n.is_empty()))
    {
        return Some(format!("credHelpers {name}"));
    }
    let entries: Vec<&Json> = json
        .get("auths")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| names_hub(k))
                .map(|(_, v)| v)
                .collect()
        })
        .unwrap_or_default();
    let holds = |e: &&Json| {
        ["auth", "identitytoken"].iter().any(|f| {
            e.get(f)
                .and_then(Json::as_str)
                .is_some_and(|s| !s.trim().is_empty())
        })
    };
    if entries.iter().any(holds) {
        return Some("auths".to_owned());
    }
    match json.get("credsStore").and_then(Json::as_str).map(str::trim) {
        Some(name) if !name.is_empty() && !entries.is_empty() => Some(format!("credsStore {name}")),
        _ => None,
    }
}

/// The directories searched: the environment's PATH (absolute entries only), then Arch's.
pub fn search_path(env_path: Option<&str>) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::new();
    let from_env = env_path.unwrap_or_default().split(':');
    for dir in from_env.chain(ARCH_PATH.iter().copied()) {
        let dir = dir.trim_end_matches('/');
        if dir.starts_with('/') && !dirs.iter().any(|d| d == dir) && dirs.len() < MAX_PATH_DIRS {
            dirs.push(dir.to_owned());
        }
    }
    dirs
}

/// The first executable regular file named `program` in `dirs`, inside the root.
fn find_program(ctx: &Context, dirs: &[String], program: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    dirs.iter().map(|d| format!("{d}/{program}")).find(|p| {
        ctx.sysroot
            .metadata(p)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// What the judged machine offers the helpers.
pub struct Host<'a> {
    pub dirs: &'a [String],
    /// `$PASSWORD_STORE_DIR`, else `~/.password-store`; `None` when the home is not known.
    pub password_store: Option<String>,
}

/// Why the password store cannot be used, or `Ok(None)` when it is initialised.
fn pass_store_problem(ctx: &Context, host: &Host) -> Result<Option<String>, String> {
    let Some(store) = &host.password_store else {
        return Err("the password store's directory is not known: neither PASSWORD_STORE_DIR nor the user's home is".into());
    };
    let gpg_id = format!("{store}/.gpg-id");
    match ctx.sysroot.metadata_optional(&gpg_id) {
        Ok(Some(_)) => Ok(None),
        Ok(None) => Ok(Some(format!(
            "the password store is not initialised (no {gpg_id}; `pass init` makes it)"
        ))),
        Err(e) => Err(e.to_string()),
    }
}

/// What is wrong with one helper, or `Ok(None)` when it can run.
pub fn problem(
    ctx: &Context,
    host: &Host,
    place: &str,
    name: &str,
) -> Result<Option<String>, String> {
    let program = format!("docker-credential-{name}");
    let searched = host.dirs.join(":");
    let mut wrong: Vec<String> = Vec::new();
    if find_program(ctx, host.dirs, &program).is_none() {
        wrong.push(format!("{program} is not on PATH ({searched})"));
    }
    if name == "desktop" && !ctx.sysroot.exists(DESKTOP_DIR) {
        wrong.push(format!(
            "it is Docker Desktop's helper and Docker Desktop is not installed (no {DESKTOP_DIR})"
        ));
    }
    if name == "pass" || name == "desktop" {
        if name == "pass" && find_program(ctx, host.dirs, "pass").is_none() {
            wrong.push(format!("the pass program is not on PATH ({searched})"));
        }
        if let Some(p) = pass_store_problem(ctx, host)? {
            wrong.push(p);
        }
    }
    Ok((!wrong.is_empty()).then(|| format!("{place} {name}: {}", wrong.join("; "))))
}

/// What config.json says of credentials: the `credential_helpers`,
/// `credential_helper_problems` and `hub_login` facts.
pub struct Judged {
    pub helpers: Fact,
    pub problems: Fact,
    pub hub_login: Fact,
}

/// The credential facts from config.json's text (`None`: there is no config.json).
pub fn judge(ctx: &Context, host: &Host, config: &str, text: Option<&str>) -> Judged {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Judged {
            helpers: Fact::known(Vec::<String>::new()),
            problems: Fact::known(Vec::<String>::new()),
            hub_login: Fact::known(None::<String>),
        };
    };
    let json: Json = match serde_json::from_str(text) {
        Ok(j) => j,
        Err(e) => {
            let f = Fact::unknown(format!("{config}: {e}"));
            return Judged {
                helpers: f.clone(),
                problems: f.clone(),
                hub_login: f,
            };
        }
    };
    let hub_login = Fact::known(hub_login(&json));
    let helpers = configured(&json);
    let names: Vec<String> = helpers.iter().map(|(p, n)| format!("{p} {n}")).collect();
    let mut problems = Vec::new();
    for (place, name) in &helpers {
        match problem(ctx, host, place, name) {
            Ok(Some(p)) => problems.push(p),
            Ok(None) => {}
            Err(e) => {
                return Judged {
                    helpers: Fact::known(names),
                    problems: Fact::unknown(e),
                    hub_login,
                };
            }
        }
    }
    Judged {
        helpers: Fact::known(names),
        problems: Fact::known(problems),
        hub_login,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_from_creds_store_and_cred_helpers() {
        let j: Json = serde_json::from_str(
            r#"{"auths":{},"credsStore":"desktop","credHelpers":{"ghcr.io":"pass","x.io":""}}"#,
        )
        .unwrap();
        assert_eq!(
            configured(&j),
            [
                ("credsStore".to_owned(), "desktop".to_owned()),
                ("credHelpers ghcr.io".to_owned(), "pass".to_owned()),
            ]
        );
        let j: Json = serde_json::from_str(r#"{"credsStore":""}"#).unwrap();
        assert!(configured(&j).is_empty());
    }

    #[test]
    fn hub_login_from_auths_helpers_and_bookkeeping() {
        let login = |text: &str| hub_login(&serde_json::from_str(text).unwrap());
        assert_eq!(login("{}"), None);
        assert_eq!(
            login(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"}}}"#).as_deref(),
            Some("auths")
        );
        assert_eq!(
            login(r#"{"auths":{"index.docker.io":{"identitytoken":"t"}}}"#).as_deref(),
            Some("auths")
        );
        // Another registry's login is not Docker Hub's.
        assert_eq!(login(r#"{"auths":{"ghcr.io":{"auth":"YTpi"}}}"#), None);
        // A helper's bookkeeping entry without the helper holds nothing.
        assert_eq!(
            login(r#"{"auths":{"https://index.docker.io/v1/":{}}}"#),
            None
        );
        assert_eq!(
            login(r#"{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"pass"}"#).as_deref(),
            Some("credsStore pass")
        );
        // A store with no Docker Hub entry: `docker login` was not run against it.
        assert_eq!(login(r#"{"auths":{},"credsStore":"pass"}"#), None);
        assert_eq!(
            login(r#"{"credHelpers":{"https://index.docker.io/v1/":"secretservice"}}"#).as_deref(),
            Some("credHelpers secretservice")
        );
        assert_eq!(login(r#"{"credHelpers":{"gcr.io":"gcloud"}}"#), None);
    }

    #[test]
    fn path_takes_absolute_entries_once_then_arch_dirs() {
        assert_eq!(
            search_path(Some("/home/a/.local/bin:bin::/usr/bin/")),
            [
                "/home/a/.local/bin",
                "/usr/bin",
                "/usr/local/sbin",
                "/usr/local/bin",
                "/usr/sbin",
                "/bin",
                "/sbin"
            ]
        );
    }
}
