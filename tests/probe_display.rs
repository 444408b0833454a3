//! The display facts: DISPLAY parsing against fixture trees (with a real socket bound in a
//! copy, since git cannot hold one), and the X server's access list asked of a real Xvfb.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use common::{check_status, copy_tree, sysroot};

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dockdoc::facts::{Context, Endpoints, Env, Fact, Facts, Sysroot, Value, display};

fn ctx(root: &Path, endpoints: Endpoints, env: &[(&str, &str)], timeout: Duration) -> Context {
    Context::new(
        Sysroot::new(root),
        endpoints,
        Env::from_pairs(env.iter().copied()),
        timeout,
    )
}

fn files(root: &Path, env: &[(&str, &str)]) -> Facts {
    let mut facts = Facts::default();
    display::gather_files(
        &ctx(root, Endpoints::default(), env, Duration::from_secs(3)),
        &mut facts,
    );
    facts
}

fn null() -> Fact {
    Fact::known(Value::Null)
}

fn list(items: &[&str]) -> Fact {
    Fact::known(items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

/// A copy of a scenario with a listening X socket at /tmp/.X11-unix/X<n>.
fn copy_with_socket(scenario: &str, number: u32) -> (tempfile::TempDir, UnixListener) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&sysroot(scenario), dir.path());
    let sockets = dir.path().join("tmp/.X11-unix");
    std::fs::create_dir_all(&sockets).unwrap();
    let listener = UnixListener::bind(sockets.join(format!("X{number}"))).unwrap();
    (dir, listener)
}

/// What a fixture's /etc/passwd says about uid 1000: the fixtures name alice;
/// without the file, the fact names it as unreadable.
fn expected_container_user(root: &Path) -> Fact {
    if root.join("etc/passwd").exists() {
        Fact::known("alice")
    } else {
        Fact::unknown("/etc/passwd: No such file or directory (os error 2)")
    }
}

#[test]
fn docker_osx_ready_with_its_socket() {
    let (dir, _listener) = copy_with_socket("docker-osx-ready", 0);
    let facts = files(dir.path(), &[("DISPLAY", ":0"), ("HOME", "/home/alice")]);
    assert_eq!(facts.get("display.display"), Fact::known(":0"));
    assert_eq!(facts.get("display.wayland"), Fact::known(false));
    assert_eq!(
        facts.get("display.x11_socket"),
        Fact::known("/tmp/.X11-unix/X0")
    );
    assert_eq!(facts.get("display.x11_socket_exists"), Fact::known(true));
    assert_eq!(facts.get("display.xhost_installed"), Fact::known(true));
    assert_eq!(
        facts.get("display.container_user"),
        expected_container_user(dir.path())
    );
}

#[test]
fn screen_and_unix_forms_name_the_same_socket() {
    let (dir, _listener) = copy_with_socket("docker-osx-ready", 1);
    for display in [":1", ":1.0", "unix:1"] {
        let facts = files(dir.path(), &[("DISPLAY", display)]);
        assert_eq!(
            facts.get("display.x11_socket"),
            Fact::known("/tmp/.X11-unix/X1"),
            "{display}"
        );
        assert_eq!(
            facts.get("display.x11_socket_exists"),
            Fact::known(true),
            "{display}"
        );
    }
    // X0 is not there in this copy.
    let facts = files(dir.path(), &[("DISPLAY", ":0.0")]);
    assert_eq!(facts.get("display.x11_socket_exists"), Fact::known(false));
}

#[test]
fn a_regular_file_is_not_an_x_socket() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tmp/.X11-unix")).unwrap();
    std::fs::write(dir.path().join("tmp/.X11-unix/X0"), "").unwrap();
    let facts = files(dir.path(), &[("DISPLAY", ":0")]);
    assert_eq!(facts.get("display.x11_socket_exists"), Fact::known(false));
}

#[test]
fn the_fixture_tree_itself_has_no_socket() {
    let root = sysroot("docker-osx-ready");
    let facts = files(&root, &[("DISPLAY", ":0")]);
    assert_eq!(facts.get("display.x11_socket_exists"), Fact::known(false));
}

#[test]
fn missing_kvm_scenario_lacks_xhost() {
    let root = sysroot("docker-osx-missing-kvm");
    let facts = files(&root, &[("DISPLAY", ":0")]);
    assert_eq!(facts.get("display.xhost_installed"), Fact::known(false));
    assert_eq!(
        facts.get("display.container_user"),
        expected_container_user(&root)
    );
}

#[test]
fn unset_remote_and_malformed_display() {
    let root = sysroot("healthy-docker-host");
    let facts = files(&root, &[]);
    assert_eq!(facts.get("display.display"), null());
    assert_eq!(facts.get("display.x11_socket"), null());
    assert_eq!(facts.get("display.x11_socket_exists"), null());
    assert_eq!(facts.get("display.wayland"), Fact::known(false));

    // An empty DISPLAY is the same as an unset one.
    let facts = files(&root, &[("DISPLAY", "")]);
    assert_eq!(facts.get("display.display"), null());

    let facts = files(&root, &[("DISPLAY", "host:0")]);
    assert_eq!(facts.get("display.display"), Fact::known("host:0"));
    assert_eq!(facts.get("display.x11_socket"), null());
    assert_eq!(facts.get("display.x11_socket_exists"), null());

    let facts = files(&root, &[("DISPLAY", "wayland-0")]);
    let why = "DISPLAY `wayland-0` is not of the form [host]:number[.screen]";
    assert_eq!(facts.get("display.x11_socket"), Fact::unknown(why));
    assert_eq!(facts.get("display.x11_socket_exists"), Fact::unknown(why));
}

#[test]
fn wayland_sessions() {
    let root = sysroot("healthy-docker-host");
    let facts = files(&root, &[("WAYLAND_DISPLAY", "wayland-0")]);
    assert_eq!(facts.get("display.wayland"), Fact::known(true));
    let facts = files(&root, &[("XDG_SESSION_TYPE", "wayland")]);
    assert_eq!(facts.get("display.wayland"), Fact::known(true));
    let facts = files(&root, &[("XDG_SESSION_TYPE", "x11"), ("DISPLAY", ":0")]);
    assert_eq!(facts.get("display.wayland"), Fact::known(false));
}

#[test]
fn container_user_is_uid_1000_from_passwd() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(
        dir.path().join("etc/passwd"),
        "root:x:0:0::/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\n",
    )
    .unwrap();
    let facts = files(dir.path(), &[]);
    assert_eq!(facts.get("display.container_user"), Fact::known("bob"));
    std::fs::write(
        dir.path().join("etc/passwd"),
        "root:x:0:0::/root:/bin/bash\n",
    )
    .unwrap();
    let facts = files(dir.path(), &[]);
    assert_eq!(facts.get("display.container_user"), null());
}

#[tokio::test]
async fn live_access_list_is_skipped_under_root() {
    let root = sysroot("docker-osx-ready");
    let c = ctx(
        &root,
        Endpoints::default(),
        &[("DISPLAY", ":0")],
        Duration::from_secs(3),
    );
    let facts = display::gather(&c).await;
    let want = Fact::skipped(
        "the X server is not contacted when reading another root (--root); run dockdoc without --root in the graphical session to ask it",
    );
    assert_eq!(facts.get("display.x_access_control"), want);
    assert_eq!(facts.get("display.x_access_list"), want);
    assert_eq!(facts.facts.len(), 2, "{:?}", facts.facts.keys());
}

fn live() -> Endpoints {
    Endpoints {
        use_defaults: true,
        ..Endpoints::default()
    }
}

#[tokio::test]
async fn live_without_display_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(dir.path(), live(), &[], Duration::from_secs(3));
    let facts = display::gather(&c).await;
    assert_eq!(
        facts.get("display.x_access_control"),
        Fact::unknown("DISPLAY is not set")
    );
    let c = ctx(
        dir.path(),
        live(),
        &[("DISPLAY", "remote:0")],
        Duration::from_secs(3),
    );
    let facts = display::gather(&c).await;
    assert_eq!(
        facts.get("display.x_access_list"),
        Fact::unknown(
            "DISPLAY remote:0 names an X server on remote over TCP, which dockdoc does not ask; docker-osx needs a local X socket"
        )
    );
}

#[tokio::test]
async fn unreachable_x_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sockets = dir.path().join("tmp/.X11-unix");
    std::fs::create_dir_all(&sockets).unwrap();
    // Bound, then closed: the file stays, nobody listens (a crashed X server leaves this).
    drop(UnixListener::bind(sockets.join("X3")).unwrap());
    let c = ctx(
        dir.path(),
        live(),
        &[("DISPLAY", ":3")],
        Duration::from_secs(3),
    );
    let facts = display::gather(&c).await;
    assert_eq!(
        facts.get("display.x_access_control"),
        Fact::unknown(
            "the X server at /tmp/.X11-unix/X3: cannot connect: Connection refused (os error 111)"
        )
    );
}

#[tokio::test]
async fn an_x_server_that_never_answers_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let sockets = dir.path().join("tmp/.X11-unix");
    std::fs::create_dir_all(&sockets).unwrap();
    // A fake that accepts the connection and never says a word.
    let listener = tokio::net::UnixListener::bind(sockets.join("X4")).unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let c = ctx(
        dir.path(),
        live(),
        &[("DISPLAY", ":4")],
        Duration::from_millis(300),
    );
    let started = Instant::now();
    let facts = display::gather(&c).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        facts.get("display.x_access_list"),
        Fact::unknown("the X server at /tmp/.X11-unix/X4 did not answer within 300ms")
    );
    hold.abort();
}

// ---- A real X server --------------------------------------------------------------------

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

/// Xvfb and xhost, or a one-line reason to skip (a failure under DOCKDOC_LIVE=require).
fn need_x_tools() -> bool {
    let missing: Vec<_> = ["Xvfb", "xhost"]
        .into_iter()
        .filter(|p| which(p).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let reason = format!(
        "skipped: {} not installed (apt-get install xvfb x11-xserver-utils)",
        missing.join(" and ")
    );
    if std::env::var("DOCKDOC_LIVE").as_deref() == Ok("require") {
        panic!("{reason}");
    }
    eprintln!("{reason}");
    false
}

/// An Xvfb on display :N, killed when dropped.
struct Xvfb {
    child: Child,
    number: u32,
}

impl Xvfb {
    fn start(number: u32, extra: &[&str]) -> Xvfb {
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        let child = Command::new("Xvfb")
            .arg(format!(":{number}"))
            .args(["-nolisten", "tcp", "-noreset"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Xvfb { child, number };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("Xvfb :{number} exited with {status} before listening");
            }
            assert!(Instant::now() < deadline, "Xvfb :{number} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn display(&self) -> String {
        format!(":{}", self.number)
    }

    fn xhost(&self, arg: &str, xauthority: Option<&Path>) {
        let mut cmd = Command::new("xhost");
        cmd.arg(arg).env("DISPLAY", self.display());
        if let Some(x) = xauthority {
            cmd.env("XAUTHORITY", x);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "xhost {arg}: {out:?}");
    }

    async fn gather(&self, home: &Path, extra: &[(&str, &str)]) -> Facts {
        let display = self.display();
        let home = home.to_str().unwrap();
        let mut env = vec![("DISPLAY", display.as_str()), ("HOME", home)];
        env.extend_from_slice(extra);
        display::gather(&ctx(Path::new("/"), live(), &env, Duration::from_secs(5))).await
    }
}

impl Drop for Xvfb {
    /// SIGTERM first, so Xvfb removes its socket and lock file; SIGKILL if it lingers.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn derive(mut facts: Facts, container_user: &str) -> Fact {
    facts.set("display.container_user", Fact::known(container_user));
    display::derive(&mut facts);
    facts.get("display.container_access")
}

#[tokio::test]
async fn live_xvfb_access_list_as_it_changes() {
    if !need_x_tools() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let x = Xvfb::start(91, &[]);

    let facts = x.gather(home.path(), &[]).await;
    assert_eq!(facts.get("display.x_access_control"), Fact::known(true));
    assert_eq!(facts.get("display.x_access_list"), list(&[]));
    assert_eq!(derive(facts, "nobody"), Fact::known(false));

    // The server checks that a localuser exists; `nobody` does everywhere.
    x.xhost("+SI:localuser:nobody", None);
    let facts = x.gather(home.path(), &[]).await;
    assert_eq!(
        facts.get("display.x_access_list"),
        list(&["SI:localuser:nobody"])
    );
    assert_eq!(derive(facts.clone(), "nobody"), Fact::known(true));
    assert_eq!(derive(facts, "alice"), Fact::known(false));

    x.xhost("+local:", None);
    let facts = x.gather(home.path(), &[]).await;
    assert_eq!(facts.get("display.x_access_control"), Fact::known(true));
    assert_eq!(
        facts.get("display.x_access_list"),
        list(&["LOCAL:", "SI:localuser:nobody"])
    );
    assert_eq!(derive(facts, "alice"), Fact::known(true));

    // `xhost +` switches access control off and leaves the list as it was.
    x.xhost("+", None);
    let facts = x.gather(home.path(), &[]).await;
    assert_eq!(facts.get("display.x_access_control"), Fact::known(false));
    assert_eq!(
        facts.get("display.x_access_list"),
        list(&["LOCAL:", "SI:localuser:nobody"])
    );
    x.xhost("-local:", None);
    let facts = x.gather(home.path(), &[]).await;
    assert_eq!(facts.get("display.x_access_control"), Fact::known(false));
    assert_eq!(
        facts.get("display.x_access_list"),
        list(&["SI:localuser:nobody"])
    );
    assert_eq!(derive(facts, "alice"), Fact::known(true));
}

#[tokio::test]
async fn live_xvfb_with_access_control_disabled() {
    if !need_x_tools() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let x = Xvfb::start(92, &["-ac"]);
    let facts = x.gather(home.path(), &[]).await;
    assert_eq!(facts.get("display.x_access_control"), Fact::known(false));
    assert_eq!(facts.get("display.x_access_list"), list(&[]));
    assert_eq!(derive(facts, "alice"), Fact::known(true));
}

fn xauth_entry(family: u16, addr: &str, number: &str, cookie: &[u8]) -> Vec<u8> {
    let mut out = family.to_be_bytes().to_vec();
    for f in [
        addr.as_bytes(),
        number.as_bytes(),
        b"MIT-MAGIC-COOKIE-1".as_slice(),
        cookie,
    ] {
        out.extend_from_slice(&u16::try_from(f.len()).unwrap().to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

#[tokio::test]
async fn live_xvfb_that_requires_a_cookie() {
    if !need_x_tools() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let cookie: Vec<u8> = (1..=16).collect();
    let authority = home.path().join("server.auth");
    std::fs::write(&authority, xauth_entry(256, hostname.trim(), "93", &cookie)).unwrap();
    let x = Xvfb::start(93, &["-auth", authority.to_str().unwrap()]);

    // HOME has no .Xauthority: the server refuses dockdoc and says why.
    let facts = x.gather(home.path(), &[]).await;
    let want = format!(
        "the X server at /tmp/.X11-unix/X93 refused dockdoc's connection: Authorization required, but no authorization protocol specified ({}/.Xauthority does not exist)",
        home.path().display()
    );
    assert_eq!(facts.get("display.x_access_control"), Fact::unknown(want));

    // With the cookie, the same question is answered.
    let facts = x
        .gather(home.path(), &[("XAUTHORITY", authority.to_str().unwrap())])
        .await;
    assert_eq!(facts.get("display.x_access_control"), Fact::known(true));
    assert_eq!(facts.get("display.x_access_list"), list(&[]));

    // A wrong cookie is refused with the server's own words.
    let wrong = home.path().join(".Xauthority");
    std::fs::write(&wrong, xauth_entry(65535, "", "", &[9; 16])).unwrap();
    let facts = x.gather(home.path(), &[]).await;
    let Fact::Unknown { reason } = facts.get("display.x_access_list") else {
        panic!("{:?}", facts.get("display.x_access_list"));
    };
    assert!(
        reason.starts_with("the X server at /tmp/.X11-unix/X93 refused dockdoc's connection: ")
            && reason.ends_with(&format!(
                "(dockdoc offered the MIT-MAGIC-COOKIE-1 for display :93 from {})",
                wrong.display()
            )),
        "{reason}"
    );
}

// ---- The display checks over these facts ------------------------------------------------

#[test]
fn display_checks_on_the_fixture_facts() {
    use dockdoc::finding::Status::*;
    // docker-osx-ready, X0 bound, access granted to alice.
    let (dir, _listener) = copy_with_socket("docker-osx-ready", 0);
    let mut ready = files(dir.path(), &[("DISPLAY", ":0")]);
    ready.set("display.container_user", Fact::known("alice"));
    ready.set("display.x_access_control", Fact::known(true));
    ready.set("display.x_access_list", list(&["SI:localuser:alice"]));
    ready.set("os.arch_based", Fact::known(true));
    display::derive(&mut ready);
    let pairs: Vec<(String, Fact)> = ready
        .facts
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let pairs: Vec<(&str, Fact)> = pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    for id in [
        "display-unset",
        "x11-socket-missing",
        "xhost-missing",
        "x11-container-access-denied",
        "x11-access-control-disabled",
        "wayland-without-xwayland",
    ] {
        assert_eq!(check_status(id, "docker-osx", &pairs), Pass, "{id}");
    }

    let with = |changes: &[(&'static str, Fact)]| -> Vec<(&str, Fact)> {
        let mut p = pairs.clone();
        for (k, v) in changes {
            p.retain(|(key, _)| key != k);
            p.push((*k, v.clone()));
        }
        p
    };
    assert_eq!(
        check_status(
            "display-unset",
            "docker-osx",
            &with(&[("display.display", null())])
        ),
        Fail
    );
    assert_eq!(
        check_status(
            "wayland-without-xwayland",
            "docker-osx",
            &with(&[
                ("display.display", null()),
                ("display.wayland", Fact::known(true))
            ])
        ),
        Fail
    );
    assert_eq!(
        check_status(
            "display-unset",
            "docker-osx",
            &with(&[
                ("display.display", null()),
                ("display.wayland", Fact::known(true))
            ])
        ),
        NotApplicable
    );
    assert_eq!(
        check_status(
            "x11-socket-missing",
            "docker-osx",
            &with(&[("display.x11_socket_exists", Fact::known(false))])
        ),
        Fail
    );
    assert_eq!(
        check_status(
            "xhost-missing",
            "docker-osx",
            &with(&[("display.xhost_installed", Fact::known(false))])
        ),
        Fail
    );
    assert_eq!(
        check_status(
            "x11-container-access-denied",
            "docker-osx",
            &with(&[("display.container_access", Fact::known(false))])
        ),
        Fail
    );
    assert_eq!(
        check_status(
            "x11-access-control-disabled",
            "docker-osx",
            &with(&[("display.x_access_control", Fact::known(false))])
        ),
        Fail
    );
    // Under --root the access list is skipped, and so are the checks that need it.
    let skipped = Fact::skipped("under --root");
    assert_eq!(
        check_status(
            "x11-container-access-denied",
            "docker-osx",
            &with(&[("display.container_access", skipped.clone())])
        ),
        Skipped
    );
    // Without DISPLAY the access checks do not apply rather than report unknown.
    assert_eq!(
        check_status(
            "x11-access-control-disabled",
            "docker-osx",
            &with(&[
                ("display.display", null()),
                ("display.x11_socket_exists", null()),
                (
                    "display.x_access_control",
                    Fact::unknown("DISPLAY is not set")
                )
            ])
        ),
        NotApplicable
    );
}
