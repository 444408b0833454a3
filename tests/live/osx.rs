//! docker-osx's stopped containers on a real daemon, with no system bus: the systemd facts are
//! unknown with the reason and every other check still runs.

use crate::support;

#[test]
fn stopped_osx_containers_are_named_and_a_missing_bus_stops_nothing_else() {
    let Some(daemon) = support::private_dockerd(&Default::default()) else {
        return;
    };
    // An image tagged like docker-osx's, imported from a tarball holding busybox-static.
    let busybox = std::path::Path::new("/bin/busybox");
    if !busybox.exists() {
        crate::support::skip("no /bin/busybox (busybox-static)");
        return;
    }
    let tree = daemon.dir.path().join("rootfs");
    std::fs::create_dir_all(tree.join("bin")).unwrap();
    std::fs::copy(busybox, tree.join("bin/busybox")).unwrap();
    let tar = daemon.dir.path().join("rootfs.tar");
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(daemon.docker(&[
        "import",
        tar.to_str().unwrap(),
        "sickcodes/docker-osx:latest",
    ]));
    for name in ["osx-monterey", "osx-ventura"] {
        ok(daemon.docker(&[
            "create",
            "--name",
            name,
            "sickcodes/docker-osx:latest",
            "/bin/busybox",
            "true",
        ]));
    }
    // Another image's container is not docker-osx's.
    ok(daemon.docker(&["tag", "sickcodes/docker-osx:latest", "busybox:local"]));
    ok(daemon.docker(&[
        "create",
        "--name",
        "not-osx",
        "busybox:local",
        "/bin/busybox",
        "true",
    ]));

    let run = support::dockdoc(support::NO_BUS, &daemon.uri(), &[]);
    run.expect(&[
        ("docker-osx-stopped-containers", "fail"),
        ("docker-daemon-unreachable", "pass"),
        ("docker-socket-missing", "pass"),
    ]);
    let summary = run.summary("docker-osx-stopped-containers");
    assert!(
        summary.contains("osx-monterey") && summary.contains("osx-ventura"),
        "{summary}"
    );
    assert!(!summary.contains("not-osx"), "{summary}");

    // No system bus: every systemd fact a check read is unknown with the reason, and the
    // checks that read no systemd fact still judged.
    let reason =
        "cannot connect to the system bus at unix:path=/nonexistent/dockdoc-live/system_bus_socket";
    let mut judged_without_systemd = 0;
    for check in run.json["checks"].as_array().unwrap() {
        let evidence = check["evidence"].as_array().unwrap();
        let mut reads_systemd = false;
        for e in evidence {
            let fact = e["fact"].as_str().unwrap();
            if fact.starts_with("systemd.")
                && fact != "systemd.system_bus"
                && !fact.starts_with("systemd.user_")
            {
                reads_systemd = true;
                assert_eq!(e["state"], "unknown", "{}: {e}", check["id"]);
                assert!(
                    e["reason"].as_str().unwrap().contains(reason),
                    "{}: {e}",
                    check["id"]
                );
            }
        }
        if !reads_systemd && check["status"] != "unknown" {
            judged_without_systemd += 1;
        }
    }
    assert!(
        judged_without_systemd >= 20,
        "only {judged_without_systemd} checks judged"
    );
    let bus = run.evidence("docker-service-inactive", "systemd.system_bus");
    assert_eq!(bus["value"], false, "{bus}");
}
