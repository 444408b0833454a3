//! pacman: a package built now by makepkg (as an unprivileged user) and installed with
//! `pacman -U --root` into a temp root, files and database both; dockdoc reads it with --root.

use std::path::Path;

use crate::common::prereq::Need;
use std::process::Command;

use crate::support;

const BUILDER: &str = "dockdoc-build";
/// Building as another user and installing into a root: makepkg packs with bsdtar and zstd.
const NEEDS: &[Need] = &[
    Need::Root,
    Need::Program("makepkg"),
    Need::Program("pacman"),
    Need::Program("fakeroot"),
    Need::Program("bsdtar"),
    Need::Program("zstd"),
    Need::Program("setpriv"),
];

fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_package_built_and_installed_now_is_read() {
    if !crate::common::prereq::ready(NEEDS) {
        return;
    }
    if !Command::new("id")
        .args(["-u", BUILDER])
        .output()
        .unwrap()
        .status
        .success()
    {
        sh(Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--user-group",
            "--shell",
            "/usr/sbin/nologin",
            BUILDER,
        ]));
    }
    let work = tempfile::Builder::new()
        .prefix("ddp")
        .tempdir_in("/tmp")
        .unwrap();
    let w = work.path();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(w, std::fs::Permissions::from_mode(0o755)).unwrap();
    let src = w.join("src");
    std::fs::create_dir(&src).unwrap();
    // The fixture's docker stand-in, at a version no fixture database holds.
    let pkgbuild = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pacman/pkgs/docker/PKGBUILD"),
    )
    .unwrap()
    .replace("pkgver=27.3.1", "pkgver=99.1.2")
    .replace("pkgrel=1", "pkgrel=7");
    std::fs::write(src.join("PKGBUILD"), pkgbuild).unwrap();
    sh(Command::new("chown").args(["-R", BUILDER]).arg(&src));
    sh(Command::new("setpriv")
        .args([
            "--reuid",
            BUILDER,
            "--regid",
            BUILDER,
            "--clear-groups",
            "--",
            "env",
        ])
        .arg(format!("HOME={}", src.display()))
        .arg(format!("PKGDEST={}", src.display()))
        .arg(format!("BUILDDIR={}/build", src.display()))
        .args([
            "PKGEXT=.pkg.tar.zst",
            "makepkg",
            "--nodeps",
            "--noconfirm",
            "--noprogressbar",
        ])
        .current_dir(&src));
    let package = src.join("docker-1:99.1.2-7-x86_64.pkg.tar.zst");
    assert!(package.exists(), "makepkg built no {}", package.display());

    let root = w.join("root");
    std::fs::create_dir_all(root.join("var/lib/pacman")).unwrap();
    std::fs::write(
        w.join("pacman.conf"),
        "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n",
    )
    .unwrap();
    sh(Command::new("pacman")
        .args([
            "-U",
            "--noconfirm",
            "--nodeps",
            "--noscriptlet",
            "--noprogressbar",
        ])
        .arg("--root")
        .arg(&root)
        .arg("--dbpath")
        .arg(root.join("var/lib/pacman"))
        .arg("--config")
        .arg(w.join("pacman.conf"))
        .arg("--cachedir")
        .arg(w.join("cache"))
        .arg("--logfile")
        .arg(w.join("pacman.log"))
        .arg("--gpgdir")
        .arg(w.join("gnupg"))
        .arg("--hookdir")
        .arg(w.join("hooks"))
        .arg(&package));
    assert!(
        root.join("usr/bin/dockerd").exists(),
        "pacman installed no files"
    );

    let out = crate::common::bin()
        .args(["facts", "--format", "json", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fact = |key: &str| facts["facts"][key].clone();
    assert_eq!(fact("pacman.db_present")["value"], true);
    assert_eq!(
        fact("pacman.docker_version")["value"],
        "1:99.1.2-7",
        "{}",
        fact("pacman.docker_version")
    );
    assert_eq!(fact("docker.binary_installed")["value"], true);
    assert_eq!(fact("docker.cli_installed")["value"], true);

    // And the check that reads them: docker is installed.
    crate::common::evidence::register_real(&root.to_string_lossy(), "pacman-built DB");
    let mut cmd = crate::common::bin();
    cmd.args(support::check_args(support::NO_BUS, support::NO_DOCKER))
        .arg("--root")
        .arg(&root)
        .args(["--only", "docker-not-installed"]);
    support::run(cmd).expect(&[("docker-not-installed", "pass")]);
}
