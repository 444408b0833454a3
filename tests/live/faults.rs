//! Daemon faults a real dockerd does not show on demand, from a fake socket: each must end
//! as docker-daemon-unreachable (or unknown) with a reason, and never hang the run.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

use crate::support;

#[derive(Clone, Copy, Debug)]
enum Fault {
    Silent,
    HeadersThenStall,
    Http500,
    InvalidJson,
    ClosesMidBody,
}

/// Reads one request's head (up to the blank line); returns its request line.
pub fn read_head(s: &mut UnixStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    String::from_utf8_lossy(&head)
        .lines()
        .next()
        .map(str::to_owned)
}

fn serve(mut s: UnixStream, fault: Fault) {
    loop {
        let Some(line) = read_head(&mut s) else {
            return;
        };
        let ping = line.contains("/_ping");
        let answer: &[u8] = match fault {
            Fault::Silent => {
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
            Fault::HeadersThenStall => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n");
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
            Fault::Http500 => b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 32\r\n\r\n{\"message\":\"fake daemon broken\"}",
            Fault::InvalidJson if ping => b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK",
            Fault::InvalidJson => b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{not json!",
            Fault::ClosesMidBody => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Version\":");
                return;
            }
        };
        if s.write_all(answer).is_err() {
            return;
        }
    }
}

/// A fake daemon on a socket in a temp dir: each connection is served by `serve` on a thread
/// of its own; the threads end with the test process. Returns the dir (keep it) and the URI.
pub fn listen<F>(serve: F) -> (tempfile::TempDir, String)
where
    F: Fn(UnixStream) + Clone + Send + 'static,
{
    let dir = tempfile::Builder::new()
        .prefix("ddf")
        .tempdir_in("/tmp")
        .unwrap();
    let path = dir.path().join("docker.sock");
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let serve = serve.clone();
            std::thread::spawn(move || serve(s));
        }
    });
    (dir, format!("unix://{}", path.display()))
}

fn fake(fault: Fault) -> (tempfile::TempDir, String) {
    listen(move |s| serve(s, fault))
}

#[test]
fn every_fault_is_unreachable_with_a_reason_within_the_timeout() {
    for (fault, reason) in [
        (Fault::Silent, "GET /info: no answer within"),
        (Fault::HeadersThenStall, "GET /info: no answer within"),
        (Fault::Http500, "HTTP 500: fake daemon broken"),
        (
            Fault::InvalidJson,
            "GET /info: the answer is not valid JSON",
        ),
        (
            Fault::ClosesMidBody,
            "GET /info: the daemon closed the connection mid-answer",
        ),
    ] {
        let (_dir, uri) = fake(fault);
        let mut cmd = crate::common::bin();
        cmd.args(support::check_args(support::NO_BUS, &uri)).args([
            "--timeout",
            "1s",
            "--only",
            "docker-daemon-unreachable",
        ]);
        let run = support::run(cmd);
        let status = run.status("docker-daemon-unreachable");
        let summary = run.summary("docker-daemon-unreachable");
        assert!(
            status == "fail" || status == "unknown",
            "{fault:?}: {status}: {summary}"
        );
        assert!(summary.contains(reason), "{fault:?}: {summary}");
        if status == "fail" {
            let why = run.evidence("docker-daemon-unreachable", "docker.unreachable_reason");
            assert!(
                why["value"].as_str().is_some_and(|r| !r.is_empty()),
                "{fault:?}: {why}"
            );
        }
        // A hang guard, not a speed measurement: the run is bounded by --timeout (1 s); 2 s
        // of margin covers process start and a loaded CI machine.
        assert!(
            run.elapsed < Duration::from_secs(3),
            "{fault:?}: the run took {:?}",
            run.elapsed
        );
    }
}
