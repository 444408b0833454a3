//! Pulls from Docker Hub: the real dockerd's `/info` (RegistryConfig.Mirrors) started with and
//! without `--registry-mirror`, and the docker CLI's config.json in a directory of the test's
//! own (DOCKER_CONFIG), with and without a Docker Hub login.

use std::path::Path;

use crate::dockerd;
use crate::support;

const CHECK: &str = "docker-hub-pulls-anonymous";

/// `dockdoc check` of the one check against `daemon`, with `config` as DOCKER_CONFIG.
fn judge(daemon: &dockerd::PrivateDockerd, config: &Path) -> support::Run {
    let mut cmd = crate::common::bin();
    cmd.env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_AUTH_CONFIG")
        .args(support::check_args(support::NO_BUS, &daemon.uri()))
        .args(["--only", CHECK]);
    support::run(cmd)
}

#[test]
fn a_login_or_a_registry_mirror_takes_pulls_off_the_anonymous_limit() {
    let Some(mut daemon) = support::private_dockerd(&Default::default()) else {
        return;
    };
    let config = tempfile::tempdir().unwrap();

    // No config.json at all, as for a user who never ran a docker command that writes one.
    let run = judge(&daemon, config.path());
    run.expect(&[(CHECK, "fail")]);
    assert_eq!(
        run.evidence(CHECK, "docker.hub_mirrors")["value"],
        serde_json::json!([])
    );

    // A login to another registry is not Docker Hub's.
    let json = config.path().join("config.json");
    std::fs::write(&json, r#"{"auths":{"ghcr.io":{"auth":"YTpi"}}}"#).unwrap();
    judge(&daemon, config.path()).expect(&[(CHECK, "fail")]);

    // What `docker login` writes without a credential helper.
    std::fs::write(
        &json,
        r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWxpY2U6dG9rZW4="}}}"#,
    )
    .unwrap();
    let run = judge(&daemon, config.path());
    run.expect(&[(CHECK, "pass")]);
    assert_eq!(run.evidence(CHECK, "docker.hub_login")["value"], "auths");

    // A helper named with no `docker login` recorded: what it holds is not known.
    std::fs::write(&json, r#"{"auths":{},"credsStore":"pass"}"#).unwrap();
    judge(&daemon, config.path()).expect(&[(CHECK, "unknown")]);

    // The login in DOCKER_AUTH_CONFIG, which the CLI reads first since 28.3.
    std::fs::remove_file(&json).unwrap();
    let mut cmd = crate::common::bin();
    cmd.env("DOCKER_CONFIG", config.path())
        .env(
            "DOCKER_AUTH_CONFIG",
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWxpY2U6dG9rZW4="}}}"#,
        )
        .args(support::check_args(support::NO_BUS, &daemon.uri()))
        .args(["--only", CHECK]);
    let run = support::run(cmd);
    run.expect(&[(CHECK, "pass")]);
    assert_eq!(
        run.evidence(CHECK, "docker.hub_login")["value"],
        "DOCKER_AUTH_CONFIG"
    );
    daemon.stop();

    // No login, but the daemon pulls Docker Hub's images through a mirror (never contacted:
    // dockerd only lists it in /info until a pull).
    let options = dockerd::Options {
        args: vec!["--registry-mirror=https://mirror.invalid".to_owned()],
        ..Default::default()
    };
    let Some(mirrored) = support::private_dockerd(&options) else {
        return;
    };
    let run = judge(&mirrored, config.path());
    run.expect(&[(CHECK, "pass")]);
    assert_eq!(
        run.evidence(CHECK, "docker.hub_mirrors")["value"],
        serde_json::json!(["https://mirror.invalid/"])
    );
}
