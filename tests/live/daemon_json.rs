//! daemon.json against the ExecStart a real systemd reports: the units come from systemd 252
//! booted in a namespace (Arch's `-H fd://` argv), daemon.json from a fixture root (`--root`).

use std::path::Path;

use crate::harness::Booted;
use crate::support;

fn judge(booted: &Booted, root: &Path) -> support::Run {
    let mut cmd = crate::common::bin();
    cmd.args(support::check_args(&booted.address(), support::NO_DOCKER))
        .arg("--root")
        .arg(root);
    support::run(cmd)
}

#[tokio::test]
async fn hosts_in_daemon_json_conflict_with_the_units_fd_listener() {
    let booted = match Booted::boot("docker-socket-only").await {
        Ok(Some(b)) => b,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    crate::common::evidence::register_real(&booted.address(), "real systemd");
    booted
        .wait_unit("docker.socket", |s| s.sub_state == "listening")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // The fixture's daemon.json sets no hosts: nothing conflicts.
    let healthy = crate::common::sysroot("healthy-docker-host");
    judge(&booted, &healthy).expect(&[
        ("daemon-json-conflicts-with-flags", "pass"),
        ("docker-tcp-exposed-without-tls", "pass"),
    ]);

    // A guide's advice added an unencrypted TCP listener to daemon.json.
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    crate::common::copy_tree(&healthy, &root);
    std::fs::write(
        root.join("etc/docker/daemon.json"),
        "{\n  \"hosts\": [\"unix:///var/run/docker.sock\", \"tcp://0.0.0.0:2375\"]\n}\n",
    )
    .unwrap();
    judge(&booted, &root).expect(&[
        ("daemon-json-conflicts-with-flags", "fail"),
        ("docker-tcp-exposed-without-tls", "fail"),
    ]);
    booted.shutdown();
}
