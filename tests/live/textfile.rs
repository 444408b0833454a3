//! The shipped dockdoc-textfile.timer and .service (contrib/), started in a real systemd
//! booted in a namespace: the timer starts the service, which, with all of its hardening
//! (ProtectSystem=strict, ReadWritePaths= only the textfile directory, NoNewPrivileges, no
//! capabilities, the system-call filter …), still reaches the system bus and writes
//! /var/lib/prometheus-node-exporter/dockdoc.prom (0644, in a 0755 directory) with the same
//! check statuses as an unconfined run. Test drop-ins (tests/live/units/textfile-timer) only
//! drop the default dependencies, point ExecStart at the binary under test and make the timer
//! fire a second after it starts.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::prereq::{Need, ready};
use crate::harness::Booted;

/// `systemctl ARGS` (or another command) inside the namespace of systemd `pid`.
fn inside(pid: u32, args: &[&str]) -> String {
    let out = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-m", "-p"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `dockdoc_check_status` series whose value is 1: each check's status.
fn statuses(metrics: &str) -> Vec<String> {
    let mut lines: Vec<String> = metrics
        .lines()
        .filter(|l| l.starts_with("dockdoc_check_status{") && l.ends_with(" 1"))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn the_timer_writes_the_textfile_through_the_hardened_service() {
    // The namespace shares this machine's /usr: the statuses asserted below are those of a
    // machine with Docker installed (without dockerd, docker-not-installed fails instead).
    if !ready(&[Need::Program("dockerd")]) {
        return;
    }
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib");
    let units = [
        contrib.join("dockdoc-textfile.service"),
        contrib.join("dockdoc-textfile.timer"),
    ];
    let units: Vec<&Path> = units.iter().map(|p| p.as_path()).collect();
    let booted = match Booted::boot_with("textfile-timer", &units).await {
        Ok(Some(b)) => b,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let pid = booted.pid();
    let ns = format!("/proc/{pid}/root");
    // The binary under test, where the drop-in's ExecStart looks for it.
    std::fs::create_dir_all(format!("{ns}/run/dockdoc-test")).unwrap();
    std::os::unix::fs::symlink(
        Booted::BINARY_INSIDE,
        format!("{ns}/run/dockdoc-test/dockdoc"),
    )
    .unwrap();
    let prom = format!("{ns}/var/lib/prometheus-node-exporter/dockdoc.prom");
    assert!(!Path::new(&prom).exists());
    inside(pid, &["systemctl", "start", "dockdoc-textfile.timer"]);
    let started = Instant::now();
    let result = loop {
        let show = inside(
            pid,
            &[
                "systemctl",
                "show",
                "-p",
                "Result,ExecMainStatus,NRestarts,ActiveState",
                "dockdoc-textfile.service",
            ],
        );
        if Path::new(&prom).exists() && show.contains("ActiveState=inactive") {
            break show;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no {prom} after 60 s:\n{show}\n{}",
            booted.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        result.contains("Result=success"),
        "{result}\n{}",
        booted.status()
    );
    let metrics = std::fs::read_to_string(&prom).unwrap();
    assert!(
        metrics.contains("dockdoc_build_info{version=\""),
        "{metrics}"
    );
    let mode = |p: &str| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&prom), 0o644);
    assert_eq!(
        mode(&format!("{ns}/var/lib/prometheus-node-exporter")),
        0o755
    );
    // The service read the units over the system bus (docker.service is not loaded in this
    // namespace, so the unit check does not apply; without the bus it would be unknown) and
    // found no docker socket ...
    let status_of = |check: &str| {
        statuses(&metrics)
            .into_iter()
            .find(|l| l.contains(&format!("check=\"{check}\"")))
            .unwrap_or_default()
    };
    assert!(
        status_of("docker-service-inactive").contains("status=\"not_applicable\""),
        "{metrics}"
    );
    assert!(
        status_of("docker-socket-missing").contains("status=\"fail\""),
        "{metrics}"
    );
    // ... and judged everything as an unconfined run in the same namespace does.
    let unconfined = inside(
        pid,
        &[Booted::BINARY_INSIDE, "check", "--format", "prometheus"],
    );
    assert_eq!(statuses(&metrics), statuses(&unconfined));
    let timer = inside(
        pid,
        &[
            "systemctl",
            "show",
            "-p",
            "ActiveState",
            "dockdoc-textfile.timer",
        ],
    );
    assert!(timer.contains("ActiveState=active"), "{timer}");
    booted.shutdown();
}

/// A sample line `name{k="v",…} value` as (name, sorted labels, value). Label values here hold
/// no `",`, so splitting on it is enough.
fn parse_sample(line: &str) -> (String, Vec<String>, f64) {
    let (series, value) = line.rsplit_once(' ').unwrap();
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, rest.trim_end_matches('}')),
        None => (series, ""),
    };
    let mut labels: Vec<String> = labels
        .split("\",")
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_end_matches('"').to_owned())
        .collect();
    labels.sort();
    (name.to_owned(), labels, value.parse().unwrap())
}

/// Ends the node exporter the test started, by its pid, when the test ends either way.
struct Exporter(std::process::Child);

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Debian's real prometheus-node-exporter, on a loopback port with only its textfile collector
/// pointed at a directory dockdoc wrote `dockdoc.prom` into, scraped with curl: every series of
/// the file is served and the collector reports no error.
#[test]
fn node_exporter_serves_the_textfile() {
    const EXPORTER: &str = "/usr/bin/prometheus-node-exporter";
    if !ready(&[Need::Program("node_exporter"), Need::Program("curl")]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("dockdoc.prom");
    let out = crate::common::bin()
        .args([
            "check",
            "--profile",
            "all",
            "--format",
            "prometheus",
            "--root",
        ])
        .arg(crate::common::sysroot("healthy-docker-host"))
        .arg("--output")
        .arg(&prom)
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let written = std::fs::read_to_string(&prom).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let _exporter = Exporter(
        Command::new(EXPORTER)
            .arg(format!("--web.listen-address={address}"))
            .args(["--collector.disable-defaults", "--collector.textfile"])
            .arg(format!(
                "--collector.textfile.directory={}",
                dir.path().display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    let scraped = loop {
        let out = Command::new("curl")
            .args(["-sSf", "--max-time", "5"])
            .arg(format!("http://{address}/metrics"))
            .output()
            .unwrap();
        if out.status.success() {
            break String::from_utf8(out.stdout).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the node exporter did not answer on {address}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        scraped.lines().any(|l| l == "node_textfile_scrape_error 0"),
        "{scraped}"
    );
    let samples: Vec<&str> = written.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(samples.len() > 100, "{written}");
    // The exporter sorts labels and prints numbers its own way: compare series as a name, its
    // labels as a set, and the value as a number.
    let served: Vec<(String, Vec<String>, f64)> = scraped
        .lines()
        .filter(|l| l.starts_with("dockdoc_"))
        .map(parse_sample)
        .collect();
    for sample in samples {
        let want = parse_sample(sample);
        assert!(served.contains(&want), "{sample} is not served:\n{scraped}");
    }
    for family in [
        "dockdoc_check_status",
        "dockdoc_check_failed",
        "dockdoc_findings",
        "dockdoc_last_run_timestamp_seconds",
        "dockdoc_run_duration_seconds",
        "dockdoc_build_info",
    ] {
        assert!(
            scraped.contains(&format!("# TYPE {family} gauge")),
            "{family}:\n{scraped}"
        );
    }
}
