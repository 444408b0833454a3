//! docker-osx's containers on a real daemon: the stopped ones are named, with no system bus
//! (the systemd facts are unknown with the reason and every other check still runs), and each
//! one's configuration is judged against a real /dev/kvm node, with the kernel's own verdict
//! from a container run with the same flags.

use std::process::Output;

use crate::dockerd::PrivateDockerd;
use crate::support;

fn ok(out: Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Imports a tarball holding busybox-static as `sickcodes/docker-osx:latest`, and tags it
/// `busybox:local` too; `None` (a skip) without /bin/busybox.
fn import_osx_image(daemon: &PrivateDockerd) -> Option<()> {
    if !crate::common::prereq::ready(&[crate::common::prereq::Need::Program("busybox")]) {
        return None;
    }
    let tar = support::busybox_tarball(daemon.dir.path());
    ok(daemon.docker(&[
        "import",
        tar.to_str().unwrap(),
        "sickcodes/docker-osx:latest",
    ]));
    ok(daemon.docker(&["tag", "sickcodes/docker-osx:latest", "busybox:local"]));
    Some(())
}

/// A container of another image (`busybox:local`): not docker-osx's.
fn create_not_osx(daemon: &PrivateDockerd) {
    ok(daemon.docker(&[
        "create",
        "--name",
        "not-osx",
        "busybox:local",
        "/bin/busybox",
        "true",
    ]));
}

/// A private dockerd holding the image, or `None` after the skip's reason.
fn daemon_with_osx_image() -> Option<PrivateDockerd> {
    let daemon = support::private_dockerd(&Default::default())?;
    import_osx_image(&daemon)?;
    Some(daemon)
}

#[test]
fn stopped_osx_containers_are_named_and_a_missing_bus_stops_nothing_else() {
    let Some(daemon) = daemon_with_osx_image() else {
        return;
    };
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
    create_not_osx(&daemon);

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
    // A bus given explicitly that does not answer is not "no systemd here": the checks that
    // need it are unknown, with the reason, never not applicable.
    let bus = run.evidence("docker-service-inactive", "systemd.system_bus");
    assert_eq!(bus["state"], "unknown", "{bus}");
    assert!(
        bus["reason"].as_str().unwrap().contains("--system-bus"),
        "{bus}"
    );
    assert_eq!(run.status("docker-service-inactive"), "unknown");
}

#[test]
fn each_docker_osx_container_is_judged_by_the_flags_it_was_created_with() {
    let Some(daemon) = daemon_with_osx_image() else {
        return;
    };
    // The judged host: docker-osx-ready's tree with a real kvm node, root:kvm (992) 0660, as
    // Arch's udev rule leaves /dev/kvm. Containers get that very node as their /dev/kvm.
    let root = tempfile::tempdir().unwrap();
    crate::common::copy_tree(&crate::common::sysroot("docker-osx-ready"), root.path());
    let kvm = root.path().join("dev/kvm");
    crate::common::make_char_device(&kvm, 10, 232, 0o660, "kvm", root.path());
    let device = format!("{}:/dev/kvm", kvm.display());
    let image = "sickcodes/docker-osx:latest";
    let x11 = "/tmp/.X11-unix:/tmp/.X11-unix";

    // The kernel's verdict on the flags: open the container's /dev/kvm read-write as its user.
    let opens = |flags: &[&str]| -> bool {
        let mut args = vec!["run", "--rm", "--network", "none", "--device", &device];
        args.extend_from_slice(flags);
        args.extend_from_slice(&[image, "/bin/busybox", "sh", "-c", "exec 3<>/dev/kvm"]);
        let out = daemon.docker(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || stderr.contains("Permission denied"),
            "{args:?}: {stderr}"
        );
        out.status.success()
    };
    assert!(opens(&[]), "root in the container");
    assert!(!opens(&["--user", "1000"]), "uid 1000 without the group");
    assert!(opens(&["--user", "1000", "--group-add", "992"]));

    let create = |name: &str, flags: &[&str]| {
        let mut args = vec!["create", "--name", name];
        args.extend_from_slice(flags);
        args.extend_from_slice(&[image, "/bin/busybox", "true"]);
        ok(daemon.docker(&args));
    };
    create("osx-bare", &[]);
    create(
        "osx-ready",
        &[
            "--device",
            &device,
            "--user",
            "1000",
            "--group-add",
            "992",
            "-v",
            x11,
            "-e",
            "DISPLAY=:0",
        ],
    );
    create(
        "osx-no-group",
        &[
            "--device",
            &device,
            "--user",
            "1000",
            "-v",
            x11,
            "-e",
            "DISPLAY=:0",
        ],
    );
    create(
        "osx-other-display",
        &["--device", &device, "-v", x11, "-e", "DISPLAY=:1"],
    );
    // A command that takes the device with sudo chown, as docker-osx's start script does:
    // usable, unless no-new-privileges stops sudo.
    let takes = "sudo chown $(id -u):$(id -g) /dev/kvm 2>/dev/null || true; exec true";
    for (name, extra) in [
        ("osx-chown", &[][..]),
        (
            "osx-chown-nnp",
            &["--security-opt", "no-new-privileges"][..],
        ),
    ] {
        let mut args = vec![
            "create", "--name", name, "--device", &device, "--user", "1000",
        ];
        args.extend_from_slice(&["-v", x11, "-e", "DISPLAY=:0"]);
        args.extend_from_slice(extra);
        args.extend_from_slice(&[image, "/bin/busybox", "sh", "-c", takes]);
        ok(daemon.docker(&args));
    }
    create(
        "osx-vnc",
        &[
            "--device",
            &device,
            "-e",
            "EXTRA=-display none -vnc 0.0.0.0:1",
        ],
    );
    create_not_osx(&daemon);

    let judge = || {
        let mut cmd = crate::common::bin();
        cmd.args(["check", "--root", root.path().to_str().unwrap()])
            .args(["--docker-host", &daemon.uri()])
            .args(["--profile", "docker-osx", "--format", "json"])
            .env("DISPLAY", ":0");
        support::run(cmd)
    };
    let run = judge();
    run.expect(&[("docker-osx-container-misconfigured", "fail")]);
    let problems = run.evidence(
        "docker-osx-container-misconfigured",
        "docker.osx_container_problems",
    );
    let problems: Vec<&str> = problems["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let mut expected = vec![
        "osx-bare: /dev/kvm is not passed in (add --device /dev/kvm)",
        "osx-bare: the X socket is not mounted (add -v /tmp/.X11-unix:/tmp/.X11-unix)",
        "osx-bare: DISPLAY is not set (add -e \"DISPLAY=:0\")",
        "osx-no-group: its user 1000 (groups: none added) cannot read and write /dev/kvm (0660, group kvm = 992) (add --group-add 992)",
        "osx-other-display: DISPLAY is :1 but this session's is :0 (add -e \"DISPLAY=:0\")",
        "osx-chown-nnp: its user 1000 (groups: none added) cannot read and write /dev/kvm (0660, group kvm = 992) (add --group-add 992)",
    ];
    let mut got = problems.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    let containers = run.evidence(
        "docker-osx-container-misconfigured",
        "docker.osx_containers",
    );
    assert_eq!(
        containers["value"].as_array().unwrap().len(),
        7,
        "{containers}"
    );
    eprintln!(
        "judged 7 docker-osx containers (one GET /containers/{{id}}/json each) in {:?}",
        run.elapsed
    );

    // With the faulty ones removed, what is left passes; with none left, nothing applies.
    for name in [
        "osx-bare",
        "osx-no-group",
        "osx-other-display",
        "osx-chown-nnp",
    ] {
        ok(daemon.docker(&["rm", name]));
    }
    judge().expect(&[("docker-osx-container-misconfigured", "pass")]);
    for name in ["osx-ready", "osx-vnc", "osx-chown"] {
        ok(daemon.docker(&["rm", name]));
    }
    let none = judge();
    none.expect(&[("docker-osx-container-misconfigured", "not_applicable")]);
    eprintln!("with no docker-osx container: {:?}", none.elapsed);
}
