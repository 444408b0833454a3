//! Ctrl-C during `dockdoc check --probe network` still removes what the probe created.
//!
//! The real daemon cannot be paused at the one moment that matters, so a fake daemon on a unix
//! socket plays the Engine API: it answers the ping, version, bridge, import and create calls, then
//! holds the container start open. When the start arrives the test sends SIGINT, and the fake
//! records the DELETE calls the cleanup makes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::mpsc;
use std::time::Duration;

/// Reads one HTTP request (line, headers, body by Content-Length or chunked); None at EOF.
fn read_request(reader: &mut BufReader<UnixStream>) -> Option<(String, String)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let h = header.trim_end().to_ascii_lowercase();
        if h.is_empty() {
            break;
        }
        if let Some(v) = h.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if h.starts_with("transfer-encoding:") && h.contains("chunked") {
            chunked = true;
        }
    }
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
        }
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
    }
    let mut parts = line.split_whitespace();
    Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
}

fn respond(stream: &mut UnixStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
}

/// Serves one connection; sends each request line to `seen`, and `start` when the container
/// start arrives (whose answer never comes).
fn serve(stream: UnixStream, seen: mpsc::Sender<String>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some((method, path)) = read_request(&mut reader) {
        let _ = seen.send(format!("{method} {path}"));
        let path = path.split('?').next().unwrap_or_default().to_owned();
        if path == "/_ping" {
            let _ = write!(
                writer,
                "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nServer: Docker/20.10.24 (linux)\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"
            );
        } else if path.ends_with("/version") {
            respond(
                &mut writer,
                "200 OK",
                r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux"}"#,
            );
        } else if path.ends_with("/networks/bridge") {
            respond(
                &mut writer,
                "200 OK",
                r#"{"Name":"bridge","Id":"b1","Driver":"bridge"}"#,
            );
        } else if path.ends_with("/images/create") {
            respond(&mut writer, "200 OK", r#"{"status":"sha256:0000"}"#);
        } else if path.ends_with("/containers/create") {
            respond(
                &mut writer,
                "201 Created",
                r#"{"Id":"c0ffee","Warnings":[]}"#,
            );
        } else if path.ends_with("/start") {
            // Hold the start open: the daemon is "setting up the network" when Ctrl-C comes.
            std::thread::sleep(Duration::from_secs(30));
            return;
        } else if method == "DELETE" && path.contains("/containers/") {
            respond(&mut writer, "204 No Content", "");
        } else if method == "DELETE" && path.contains("/images/") {
            respond(&mut writer, "200 OK", "[]");
        } else {
            respond(
                &mut writer,
                "404 Not Found",
                r#"{"message":"not in this fake"}"#,
            );
        }
    }
}

#[test]
fn ctrl_c_during_the_network_probe_still_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let (seen_tx, seen_rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen_tx.clone();
            std::thread::spawn(move || serve(stream, seen));
        }
    });

    let child = common::bin()
        .args([
            "check",
            "--probe",
            "network",
            "--only",
            "docker-daemon-unreachable",
            "--format",
            "json",
        ])
        .args(["--timeout", "5s", "--docker-host"])
        .arg(format!("unix://{}", socket.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // Wait for the start call, then interrupt.
    let mut requests = Vec::new();
    loop {
        let r = seen_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the probe never started the container");
        let is_start = r.starts_with("POST ")
            && r.contains("/containers/dockdoc-probe-")
            && r.contains("/start");
        requests.push(r);
        if is_start {
            break;
        }
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());

    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    while let Ok(r) = seen_rx.try_recv() {
        requests.push(r);
    }
    let deleted_container = requests
        .iter()
        .any(|r| r.starts_with("DELETE ") && r.contains("/containers/dockdoc-probe-"));
    let deleted_image = requests
        .iter()
        .any(|r| r.starts_with("DELETE ") && r.contains("/images/dockdoc-probe"));
    assert!(
        deleted_container && deleted_image,
        "cleanup after Ctrl-C: {requests:#?}\n{stderr}"
    );
    assert!(stderr.contains("dockdoc --probe network: "), "{stderr}");
    assert!(!stderr.contains("could not remove"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = report["host"]["probe.network"].as_str().unwrap();
    assert!(outcome.contains("interrupted"), "{outcome}");
}
