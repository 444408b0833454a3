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

/// The key the docker CLI looks up Docker Hub's login under, in `auths` and in `credHelpers`
/// (`registry.IndexServer`): only this exact key; a `docker.io` or `index.docker.io` entry
/// (which `podman login` or a hand edit writes) is never sent to Docker Hub.
pub const HUB_KEY: &str = "https://index.docker.io/v1/";

/// A field of a JSON object looked up as Go's encoding/json does for a struct field: the exact
/// name, else any case of it.
fn field<'a>(json: &'a Json, name: &str) -> Option<&'a Json> {
    let map = json.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Whether an `auths` entry holds a login the CLI sends: `auth`, `username` and `password`,
/// `identitytoken` or `registrytoken`.
fn holds_login(entry: &Json) -> bool {
    let set = |name: &str| {
        field(entry, name)
            .and_then(Json::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    set("auth")
        || set("identitytoken")
        || set("registrytoken")
        || (set("username") && set("password"))
}

/// docker/cli's `decodeAuth`: an empty `auth`, or base64 of `USER:PASSWORD`; anything else
/// makes the CLI refuse the whole file.
fn auth_decodes(auth: &str) -> bool {
    use base64::Engine;
    auth.is_empty()
        || base64::engine::general_purpose::STANDARD
            .decode(auth)
            .is_ok_and(|bytes| bytes.contains(&b':'))
}

/// Why the docker CLI cannot load this config (it then warns and uses an empty one), as Go's
/// encoding/json and docker/cli's `LoadFromReader` decide: `auths` an object of objects whose
/// `auth` decodes, `credHelpers` an object of names, `credsStore` a name.
fn unloadable(json: &Json) -> Option<String> {
    match field(json, "auths") {
        Some(Json::Object(map)) => {
            for (key, entry) in map {
                match entry {
                    Json::Null => {}
                    Json::Object(_) => match field(entry, "auth") {
                        None | Some(Json::Null) => {}
                        Some(Json::String(a)) if auth_decodes(a) => {}
                        Some(Json::String(_)) => {
                            return Some(format!(
                                "the `auth` of `{key}` is not base64 of USER:PASSWORD"
                            ));
                        }
                        Some(_) => return Some(format!("the `auth` of `{key}` is not a string")),
                    },
                    _ => return Some(format!("the `auths` entry `{key}` is not an object")),
                }
            }
        }
        Some(Json::Null) | None => {}
        Some(_) => return Some("`auths` is not an object".to_owned()),
    }
    match field(json, "credHelpers") {
        Some(Json::Object(map)) if map.values().all(|v| v.is_string() || v.is_null()) => {}
        Some(Json::Null) | None => {}
        Some(_) => return Some("`credHelpers` is not an object of helper names".to_owned()),
    }
    match field(json, "credsStore") {
        Some(Json::String(_) | Json::Null) | None => None,
        Some(_) => Some("`credsStore` is not a helper name".to_owned()),
    }
}

/// Whether `DOCKER_AUTH_CONFIG` holds a Docker Hub login, read as docker/cli 28.3's
/// `parseEnvConfig` reads it: `{"auths": {KEY: {"auth": "…"}}}` and nothing else, every `auth`
/// decoding. A variable the CLI refuses holds none (the CLI then warns and reads config.json).
fn env_hub_login(text: &str) -> bool {
    let Ok(top) = serde_json::from_str::<Json>(text) else {
        return false;
    };
    let Some(map) = top.as_object() else {
        return false;
    };
    if map.keys().any(|k| !k.eq_ignore_ascii_case("auths")) {
        return false;
    }
    let Some(Json::Object(auths)) = field(&top, "auths") else {
        return false;
    };
    let valid = auths.values().all(|entry| match entry {
        Json::Object(e) => {
            e.keys().all(|k| k.eq_ignore_ascii_case("auth"))
                && matches!(field(entry, "auth"), Some(Json::String(a)) if !a.is_empty() && auth_decodes(a))
        }
        _ => false,
    });
    valid && auths.contains_key(HUB_KEY)
}

/// How the docker CLI would authenticate its pulls from Docker Hub, as docker/cli's
/// `GetAuthConfig` decides, from config.json's text (`json`; `Null` when there is none),
/// `DOCKER_AUTH_CONFIG` (`env`, read first since CLI 28.3) and the helper the CLI picks by
/// itself for a config with no logins at all (`detected`, asked only then: `pass` or
/// `secretservice`, when its program is installed):
/// - `DOCKER_AUTH_CONFIG` when that variable holds a Docker Hub login the CLI accepts;
/// - `credHelpers NAME` or `credsStore NAME` when a helper keeps Docker Hub's secret and
///   `docker login` recorded Docker Hub in `auths` (an empty entry, its bookkeeping): `credHelpers`
///   has Docker Hub's key (an empty name there means the file itself), else `credsStore`;
/// - `auths` when the file itself holds the login;
/// - `None` when the CLI sends none.
///
/// A helper with no such entry may still hold a login that dockdoc, which runs no helper,
/// cannot see: that is an error (the fact is unknown), as is a config.json the CLI cannot load.
pub fn hub_login(
    json: &Json,
    env: Option<&str>,
    detected: &dyn Fn() -> Option<&'static str>,
) -> Result<Option<String>, String> {
    if env.is_some_and(env_hub_login) {
        return Ok(Some("DOCKER_AUTH_CONFIG".to_owned()));
    }
    let empty = Json::Object(serde_json::Map::new());
    // Go decodes `null` into an empty config.
    let json = if json.is_null() { &empty } else { json };
    if !json.is_object() {
        return Err("not a JSON object, which the docker CLI cannot load".to_owned());
    }
    if let Some(why) = unloadable(json) {
        return Err(format!("{why}, so the docker CLI cannot load the file"));
    }
    let auths = field(json, "auths").and_then(Json::as_object);
    let entry = auths.and_then(|a| a.get(HUB_KEY));
    let helpers = field(json, "credHelpers").and_then(Json::as_object);
    let store = field(json, "credsStore")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .trim();
    // docker/cli's ContainsAuth: a config with no store, helper or login gets the store it
    // detects.
    let holds_nothing = store.is_empty()
        && helpers.is_none_or(serde_json::Map::is_empty)
        && auths.is_none_or(serde_json::Map::is_empty);
    // Looked for only then: a PATH search on every run is not free.
    let store = match holds_nothing.then(detected).flatten() {
        Some(d) => d,
        None => store,
    };
    let (place, helper) = match helpers.and_then(|h| h.get(HUB_KEY)) {
        Some(name) => ("credHelpers", name.as_str().unwrap_or_default().trim()),
        None if holds_nothing && !store.is_empty() => (
            "the helper the CLI picks when config.json names none",
            store,
        ),
        None => ("credsStore", store),
    };
    if helper.is_empty() {
        return Ok(entry.is_some_and(holds_login).then(|| "auths".to_owned()));
    }
    match entry {
        Some(_) => Ok(Some(format!("{place} {helper}"))),
        None => Err(format!(
            "the docker CLI asks the credential helper docker-credential-{helper} ({place}) for Docker Hub's login, and no `docker login` to Docker Hub is recorded; whether the helper holds one is not known without running it, which dockdoc does not"
        )),
    }
}

/// `docker.hub_login` when config.json cannot be found: the login in DOCKER_AUTH_CONFIG, which
/// the CLI reads first, or unknown for `why`.
pub fn hub_login_without_file(ctx: &Context, why: &str) -> Fact {
    match ctx.env.get("DOCKER_AUTH_CONFIG").is_some_and(env_hub_login) {
        true => Fact::known("DOCKER_AUTH_CONFIG"),
        false => Fact::unknown(why),
    }
}

/// The helper docker/cli's `DetectDefaultStore` picks on Linux for a config that names none:
/// `pass` when the `pass` program is on PATH, else `secretservice`, and only when its
/// `docker-credential-` program is installed.
pub fn detected_store(ctx: &Context, dirs: &[String]) -> Option<&'static str> {
    let store = if find_program(ctx, dirs, "pass").is_some() {
        "pass"
    } else {
        "secretservice"
    };
    find_program(ctx, dirs, &format!("docker-credential-{store}")).map(|_| store)
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
    let env = ctx.env.get("DOCKER_AUTH_CONFIG");
    let detected = || detected_store(ctx, host.dirs);
    let login = |json: &Json| match hub_login(json, env, &detected) {
        Ok(login) => Fact::known(login),
        Err(e) => Fact::unknown(format!("{config}: {e}")),
    };
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Judged {
            helpers: Fact::known(Vec::<String>::new()),
            problems: Fact::known(Vec::<String>::new()),
            hub_login: login(&Json::Null),
        };
    };
    let json: Json = match serde_json::from_str(text) {
        Ok(j) => j,
        Err(e) => {
            let f = Fact::unknown(format!("{config}: {e}"));
            // The CLI warns and goes on without the file: a login in DOCKER_AUTH_CONFIG
            // still counts.
            let hub_login = match env.is_some_and(env_hub_login) {
                true => Fact::known("DOCKER_AUTH_CONFIG"),
                false => f.clone(),
            };
            return Judged {
                helpers: f.clone(),
                problems: f,
                hub_login,
            };
        }
    };
    let hub_login = login(&json);
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
    fn hub_login_as_the_docker_cli_looks_it_up() {
        let login = |text: &str| hub_login(&serde_json::from_str(text).unwrap(), None, &|| None);
        let some = |s: &str| Ok(Some(s.to_owned()));
        assert_eq!(login("{}"), Ok(None));
        assert_eq!(
            login(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"}}}"#),
            some("auths")
        );
        // Go decodes struct fields in any case; the keys of `auths` are exact.
        assert_eq!(
            login(r#"{"Auths":{"https://index.docker.io/v1/":{"Auth":"YTpi"}}}"#),
            some("auths")
        );
        for entry in [
            r#"{"identitytoken":"t"}"#,
            r#"{"registrytoken":"t"}"#,
            r#"{"username":"alice","password":"t"}"#,
        ] {
            let text = format!(r#"{{"auths":{{"https://index.docker.io/v1/":{entry}}}}}"#);
            assert_eq!(login(&text), some("auths"), "{entry}");
        }
        // Keys the CLI never sends to Docker Hub, and another registry's login.
        for key in [
            "docker.io",
            "index.docker.io",
            "https://index.docker.io/v1",
            "https://registry-1.docker.io/v2/",
            "ghcr.io",
        ] {
            let text = format!(r#"{{"auths":{{"{key}":{{"auth":"YTpi"}}}}}}"#);
            assert_eq!(login(&text), Ok(None), "{key}");
        }
        // A username alone, or a helper's bookkeeping without the helper, holds nothing.
        assert_eq!(
            login(r#"{"auths":{"https://index.docker.io/v1/":{"username":"alice"}}}"#),
            Ok(None)
        );
        assert_eq!(
            login(r#"{"auths":{"https://index.docker.io/v1/":{}}}"#),
            Ok(None)
        );
        // With a helper, the recorded `docker login` says it holds the login.
        assert_eq!(
            login(r#"{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"pass"}"#),
            some("credsStore pass")
        );
        assert_eq!(
            login(
                r#"{"auths":{"https://index.docker.io/v1/":{}},"credHelpers":{"https://index.docker.io/v1/":"secretservice"},"credsStore":"pass"}"#
            ),
            some("credHelpers secretservice")
        );
        // An empty name in credHelpers means the file, whatever credsStore says.
        assert_eq!(
            login(
                r#"{"auths":{"https://index.docker.io/v1/":{}},"credHelpers":{"https://index.docker.io/v1/":""},"credsStore":"pass"}"#
            ),
            Ok(None)
        );
        // A helper with nothing recorded may hold a login dockdoc cannot see.
        let e = login(r#"{"auths":{},"credsStore":"desktop"}"#).unwrap_err();
        assert!(e.contains("docker-credential-desktop (credsStore)"), "{e}");
        // What the CLI cannot load is not a missing login.
        assert!(login("[]").is_err());
        assert!(login(r#"{"auths":[1,2]}"#).is_err());
        assert!(login(r#"{"credHelpers":"pass"}"#).is_err());
    }

    #[test]
    fn docker_auth_config_is_read_first_and_as_strictly_as_the_cli_reads_it() {
        let empty = serde_json::json!({});
        let in_file: Json =
            serde_json::from_str(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"}}}"#)
                .unwrap();
        let env = r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"}}}"#;
        let from_env = Ok(Some("DOCKER_AUTH_CONFIG".to_owned()));
        assert_eq!(hub_login(&empty, Some(env), &|| None), from_env);
        assert_eq!(
            hub_login(&empty, Some(r#"{"auths":{}}"#), &|| None),
            Ok(None)
        );
        // What parseEnvConfig refuses: the CLI warns and reads config.json instead.
        for refused in [
            "not json",
            r#"{"auths":{"https://index.docker.io/v1/":{"username":"a","password":"b"}}}"#,
            r#"{"auths":{"https://index.docker.io/v1/":{"identitytoken":"t"}}}"#,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"}},"credsStore":"pass"}"#,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"},"ghcr.io":{}}}"#,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"!!!"}}}"#,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWJj"}}}"#,
        ] {
            assert_eq!(
                hub_login(&empty, Some(refused), &|| None),
                Ok(None),
                "{refused}"
            );
            assert_eq!(
                hub_login(&in_file, Some(refused), &|| None),
                Ok(Some("auths".to_owned())),
                "{refused}"
            );
        }
    }

    #[test]
    fn what_the_cli_cannot_load_is_not_a_missing_login() {
        let login = |text: &str| hub_login(&serde_json::from_str(text).unwrap(), None, &|| None);
        for bad in [
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"!!!"}}}"#,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWJj"}}}"#,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":5}}}"#,
            r#"{"auths":{"ghcr.io":"x"}}"#,
            r#"{"auths":{"ghcr.io":[1]}}"#,
            r#"{"credHelpers":{"ghcr.io":5}}"#,
            r#"{"credsStore":5}"#,
        ] {
            let e = login(bad).unwrap_err();
            assert!(
                e.ends_with("so the docker CLI cannot load the file"),
                "{bad}: {e}"
            );
        }
        // Go decodes `null` into an empty config.
        assert_eq!(login("null"), Ok(None));
    }

    #[test]
    fn a_config_with_no_logins_gets_the_helper_the_cli_detects() {
        let e = hub_login(&Json::Null, None, &|| Some("secretservice")).unwrap_err();
        assert!(e.contains("docker-credential-secretservice"), "{e}");
        assert!(hub_login(&serde_json::json!({}), None, &|| Some("pass")).is_err());
        // A config that names anything is taken as it is.
        let named: Json = serde_json::from_str(r#"{"auths":{"ghcr.io":{"auth":"YTpi"}}}"#).unwrap();
        assert_eq!(hub_login(&named, None, &|| Some("pass")), Ok(None));
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
