//! A real X server: an Xvfb on a display of its own, its access list changed with xhost, judged
//! by the binary in that session (DISPLAY set, no --root: the X server is only asked live).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

/// The display number: far from the ones a desktop or the probe tests use.
const DISPLAY: u32 = 87;

struct Xvfb(Child);

impl Drop for Xvfb {
    /// SIGTERM, so Xvfb removes its /tmp/.X87-lock and socket: left behind, they keep any other
    /// user from starting display 87 in a later run (sticky /tmp).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn xhost(arg: &str) {
    let out = Command::new("xhost")
        .arg(arg)
        .env("DISPLAY", format!(":{DISPLAY}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "xhost {arg}: {out:?}");
}

fn judge() -> support::Run {
    let mut cmd = crate::common::bin();
    cmd.args(support::check_args(support::NO_BUS, support::NO_DOCKER))
        .env("DISPLAY", format!(":{DISPLAY}"))
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("XAUTHORITY");
    support::run(cmd)
}

#[test]
fn xhost_plus_and_minus_on_a_real_x_server() {
    use crate::common::prereq::{Need, ready};
    if !ready(&[Need::Program("Xvfb"), Need::Program("xhost")]) {
        return;
    }
    let socket = format!("/tmp/.X11-unix/X{DISPLAY}");
    let child = Command::new("Xvfb")
        .arg(format!(":{DISPLAY}"))
        .args(["-nolisten", "tcp", "-noreset"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Xvfb(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!("Xvfb :{DISPLAY} exited with {status} before listening");
        }
        assert!(Instant::now() < deadline, "Xvfb :{DISPLAY} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Access control on (Xvfb's default), then off.
    xhost("-");
    let run = judge();
    run.expect(&[("x11-access-control-disabled", "pass")]);

    xhost("+");
    let run = judge();
    run.expect(&[
        ("x11-access-control-disabled", "fail"),
        ("x11-container-access-denied", "pass"),
    ]);
    xhost("-");
    drop(server);
}
