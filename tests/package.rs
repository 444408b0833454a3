//! The Arch package: the PKGBUILD and its .SRCINFO, the generated man page and completions, the
//! pacman hook under real pacman, and (with `DOCKDOC_LIVE` set) the whole package built by
//! makepkg, installed into a temp root with `pacman -U --root`, run there and removed.
//!
//! makepkg refuses to run as root, so as root every makepkg runs as `nobody` (no user is created)
//! in a temp directory it owns. The tests that need root, makepkg or pacman skip with a one-line
//! reason when one is missing, and fail instead under `DOCKDOC_LIVE=require`; `DOCKDOC_LIVE=skip`
//! (the PKGBUILD's check()) skips them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

const BUILD_USER: &str = "nobody";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn live() -> Option<String> {
    std::env::var("DOCKDOC_LIVE").ok()
}

/// Stops the running test with one line (a failure under `DOCKDOC_LIVE=require`).
fn skip(reason: &str) {
    common::prereq::skip(
        &format!("test {}", common::prereq::current_test()),
        reason,
        &[],
    );
}

/// Whether the running test has the programs (and root, when `root` is set); `DOCKDOC_LIVE=skip`
/// skips it too.
fn ready(programs: &[&'static str], root: bool) -> bool {
    use common::prereq::Need;
    if live().as_deref() == Some("skip") {
        skip("DOCKDOC_LIVE=skip");
        return false;
    }
    let needs: Vec<Need> = root
        .then_some(Need::Root)
        .into_iter()
        .chain(programs.iter().map(|p| Need::Program(p)))
        .collect();
    common::prereq::ready(&needs)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A temp directory the build user can enter (mode 755), removed on drop.
fn tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("dockdoc-package-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

/// Hands a tree to the build user (as root), so makepkg can write there.
fn give_to_builder(path: &Path) {
    if common::is_root() {
        run(Command::new("chown").args(["-R", BUILD_USER]).arg(path));
    }
}

/// makepkg in `dir`, as the build user when root; extra environment and arguments.
fn makepkg(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = if common::is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", BUILD_USER, "--", "makepkg"]);
        c
    } else {
        Command::new("makepkg")
    };
    cmd.current_dir(dir).args(args).envs(env.iter().copied());
    cmd
}

/// pacman against a temp root: its own database, cache, log, gpg dir and an empty config.
/// Transactions (`-U`, `-R`) add `--noconfirm --noprogressbar`, which queries reject.
fn pacman(root: &Path) -> Command {
    let conf = root.join("../pacman.conf");
    if !conf.exists() {
        std::fs::write(
            &conf,
            "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n",
        )
        .unwrap();
    }
    std::fs::create_dir_all(root.join("var/lib/pacman")).unwrap();
    let mut cmd = Command::new("pacman");
    cmd.arg("--root")
        .arg(root)
        .arg("--dbpath")
        .arg(root.join("var/lib/pacman"))
        .arg("--config")
        .arg(&conf)
        .arg("--cachedir")
        .arg(root.join("../cache"))
        .arg("--logfile")
        .arg(root.join("../pacman.log"))
        .arg("--gpgdir")
        .arg(root.join("../gnupg"));
    cmd
}

fn pacman_transaction(root: &Path, op: &str) -> Command {
    let mut cmd = pacman(root);
    cmd.args([op, "--noconfirm", "--noprogressbar"]);
    cmd
}

// ---------------------------------------------------------------------------------------------
// PKGBUILD and .SRCINFO

fn pkgbuild_value(pkgbuild: &str, key: &str) -> String {
    pkgbuild
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("PKGBUILD has no {key}="))
        .trim_matches(['(', ')', '\''])
        .to_owned()
}

#[test]
fn srcinfo_is_what_makepkg_prints() {
    let pkgbuild = repo().join("PKGBUILD");
    if !pkgbuild.exists() {
        // The release tarball leaves the PKGBUILD out (.gitattributes).
        return skip("no PKGBUILD here (a release tarball)");
    }
    if !ready(&["makepkg"], false) {
        return;
    }
    let dir = tempdir();
    std::fs::copy(&pkgbuild, dir.path().join("PKGBUILD")).unwrap();
    give_to_builder(dir.path());
    let out = run(&mut makepkg(dir.path(), &[], &["--printsrcinfo"]));
    let printed = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(repo().join(".SRCINFO")).unwrap_or_default();
    assert!(
        printed == committed,
        ".SRCINFO is stale: run `makepkg --printsrcinfo > .SRCINFO` (as a user)\n--- makepkg prints:\n{printed}"
    );
}

#[test]
fn pkgbuild_follows_the_package_and_rust_guidelines() {
    let Ok(pkgbuild) = std::fs::read_to_string(repo().join("PKGBUILD")) else {
        return skip("no PKGBUILD here (a release tarball)");
    };
    assert_eq!(
        pkgbuild_value(&pkgbuild, "pkgver"),
        env!("CARGO_PKG_VERSION"),
        "pkgver and Cargo.toml disagree"
    );
    // No docker hard dependency: the doctor must run when Docker is missing.
    assert_eq!(pkgbuild_value(&pkgbuild, "depends"), "gcc-libs' 'glibc");
    assert_eq!(pkgbuild_value(&pkgbuild, "makedepends"), "cargo");
    assert!(pkgbuild.contains("optdepends=('docker: "), "{pkgbuild}");
    assert_eq!(
        pkgbuild_value(&pkgbuild, "source"),
        "\"$url/releases/download/v$pkgver/$pkgname-$pkgver.tar.gz\""
    );
    for needle in [
        "cargo fetch --locked --target \"$(rustc -vV | sed -n 's/host: //p')\"",
        "cargo build --frozen --profile dist",
        "cargo test --frozen",
        "export CARGO_TARGET_DIR=target",
        "export RUSTUP_TOOLCHAIN=stable",
    ] {
        assert!(pkgbuild.contains(needle), "PKGBUILD lacks {needle}");
    }
    let attributes = std::fs::read_to_string(repo().join(".gitattributes")).unwrap();
    assert!(attributes.contains("/PKGBUILD export-ignore"));
    assert!(attributes.contains("/.SRCINFO export-ignore"));
}

/// Once v<pkgver> is tagged, the PKGBUILD's sum is the sum of the tarball built from the tag;
/// an untagged version is not released and may say SKIP.
#[test]
fn pkgbuild_sum_matches_the_release_tarball_once_tagged() {
    let Ok(pkgbuild) = std::fs::read_to_string(repo().join("PKGBUILD")) else {
        return skip("no PKGBUILD here (a release tarball)");
    };
    if !ready(&["git", "gzip", "sha256sum"], false) {
        return;
    }
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let tagged = Command::new("git")
        .current_dir(repo())
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("refs/tags/{tag}"))
        .output()
        .is_ok_and(|o| o.status.success());
    let sums = pkgbuild_value(&pkgbuild, "sha256sums");
    if !tagged {
        eprintln!("{tag} is not tagged: sha256sums={sums} until the release");
        return;
    }
    let dir = tempdir();
    let out = run(Command::new(repo().join("contrib/release-tarball"))
        .arg(&tag)
        .arg(dir.path()));
    let tarball = String::from_utf8(out.stdout).unwrap();
    let out = run(Command::new("sha256sum").arg(tarball.trim()));
    let sum = String::from_utf8(out.stdout).unwrap();
    let sum = sum.split_whitespace().next().unwrap();
    assert_eq!(
        sums, sum,
        "run updpkgsums for {tag} (see the PKGBUILD header)"
    );
}

// ---------------------------------------------------------------------------------------------
// Man page and completions

#[test]
fn man_page_documents_every_subcommand_and_its_options() {
    let out = run(common::bin().args(["generate", "man"]));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert_eq!(page.matches(".TH ").count(), 1);
    for (section, option) in [
        ("DOCKDOC CHECK", "\\fB\\-\\-skip\\fR"),
        ("DOCKDOC LIST", "\\fB\\-\\-profile\\fR"),
        ("DOCKDOC EXPLAIN", "\\fB\\-\\-error\\fR"),
        ("DOCKDOC FACTS", "\\fB\\-\\-list\\fR"),
        ("DOCKDOC HOOK", "kernel\\-upgrade"),
        ("DOCKDOC FIX", "\\fB\\-\\-apply\\fR"),
    ] {
        let heading = format!(".SH \"{section}\"\n");
        let start = page
            .find(&heading)
            .unwrap_or_else(|| panic!("no {section} section"));
        let rest = &page[start + heading.len()..];
        let body = &rest[..rest.find(".SH ").unwrap()];
        assert!(body.contains(option), "{section} lacks {option}:\n{body}");
        assert!(body.contains(".SS Options"), "{section}:\n{body}");
    }
    assert!(!page.contains("GENERATE"), "the hidden subcommand leaked");
    assert!(page.contains("dockdoc\\-kernel\\-upgrade.hook"));
    if ready(&["groff"], false) {
        // groff warns about malformed requests on stderr.
        let dir = tempdir();
        let file = dir.path().join("dockdoc.1");
        std::fs::write(&file, &page).unwrap();
        let out = run(Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&file));
        assert!(out.stderr.is_empty(), "{}", text(&out));
    }
}

#[test]
fn completions_know_the_subcommands() {
    for (shell, needle) in [
        ("bash", "complete -F _dockdoc"),
        ("zsh", "#compdef dockdoc"),
        ("fish", "complete -c dockdoc"),
    ] {
        let out = run(common::bin().args(["generate", "completions", shell]));
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(needle), "{shell}");
        for sub in ["check", "list", "explain", "facts", "hook", "fix"] {
            assert!(script.contains(sub), "{shell} lacks {sub}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The pacman hook under real pacman

/// Builds the linux stand-in at a version with makepkg; returns the package file.
fn build_linux(work: &Path, pkgver: &str) -> PathBuf {
    let src = work.join(format!("linux-{pkgver}"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(
        common::fixtures().join("package/linux/PKGBUILD"),
        src.join("PKGBUILD"),
    )
    .unwrap();
    give_to_builder(&src);
    let env = [
        ("LINUX_PKGVER", pkgver),
        ("HOME", src.to_str().unwrap()),
        ("PKGDEST", src.to_str().unwrap()),
        ("PKGEXT", ".pkg.tar.zst"),
    ];
    let flags = ["--nodeps", "--noconfirm", "--noprogressbar"];
    run(&mut makepkg(&src, &env, &flags));
    let out = run(&mut makepkg(&src, &env, &["--packagelist"]));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Copies an executable into the root with the shared libraries `ldd` names, at their paths.
fn copy_with_libraries(exe: &Path, root: &Path, dest: &str) {
    let target = root.join(dest.trim_start_matches('/'));
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(exe, &target).unwrap();
    let out = run(Command::new("ldd").arg(exe));
    for lib in String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
    {
        let to = root.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(lib, to).unwrap();
    }
}

/// A kernel upgrade installed by real pacman with the hook active: the warning appears in
/// pacman's output; after a reboot into the new kernel, reinstalling it leaves the hook silent.
///
/// How the hook runs here (Debian 12's pacman 6.0.2, checked by hand): with `--root DIR`, pacman
/// reads hooks from DIR/usr/share/libalpm/hooks and runs each Exec chrooted into DIR (execv, no
/// shell), so `--hookdir` with a host path in Exec cannot work. The root therefore gets what the
/// unmodified contrib hook needs: /usr/bin/dockdoc with its shared libraries (from `ldd`), the
/// hook file itself, and /proc/sys/kernel/osrelease as a plain file naming the running release.
#[test]
fn kernel_upgrade_hook_warns_under_real_pacman() {
    if !ready(&["makepkg", "pacman", "fakeroot", "runuser", "ldd"], true) {
        return;
    }
    let work = tempdir();
    let old = build_linux(work.path(), "6.10.5.arch1");
    let new = build_linux(work.path(), "6.11.2.arch1");
    let root = work.path().join("root");
    std::fs::create_dir_all(&root).unwrap();

    run(pacman_transaction(&root, "-U").arg(&old));
    copy_with_libraries(
        Path::new(env!("CARGO_BIN_EXE_dockdoc")),
        &root,
        "/usr/bin/dockdoc",
    );
    let hooks = root.join("usr/share/libalpm/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::copy(
        repo().join("contrib/dockdoc-kernel-upgrade.hook"),
        hooks.join("dockdoc-kernel-upgrade.hook"),
    )
    .unwrap();
    let osrelease = root.join("proc/sys/kernel/osrelease");
    std::fs::create_dir_all(osrelease.parent().unwrap()).unwrap();
    std::fs::write(&osrelease, "6.10.5-arch1-1\n").unwrap();

    // Running 6.10.5, upgrade to 6.11.2: the running kernel's modules go.
    let out = text(&run(pacman_transaction(&root, "-U").arg(&new)));
    assert!(
        out.contains("Checking whether the running kernel can still load modules (dockdoc)..."),
        "{out}"
    );
    assert!(
        out.contains(
            "==> WARNING: the running kernel 6.10.5-arch1-1 has no modules any more \
             (/usr/lib/modules/6.10.5-arch1-1 is gone)."
        ),
        "{out}"
    );
    assert!(out.contains("A reboot brings 6.11.2-arch1-1."), "{out}");
    assert_eq!(out.matches("WARNING").count(), 1, "{out}");
    assert!(!out.contains("error"), "{out}");

    // After the reboot into 6.11.2, reinstalling the same version keeps its modules: the hook
    // runs (its description shows) and says nothing.
    std::fs::write(&osrelease, "6.11.2-arch1-1\n").unwrap();
    let out = text(&run(pacman_transaction(&root, "-U").arg(&new)));
    assert!(out.contains("reinstalling linux"), "{out}");
    assert!(
        out.contains("Checking whether the running kernel can still load modules (dockdoc)..."),
        "{out}"
    );
    assert!(!out.contains("WARNING"), "{out}");
    assert!(!out.contains("error"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// The package, built for real

/// The commit to package: the working tree's tracked files (`git stash create`, which writes
/// only an unreferenced commit object), or HEAD when the tree is clean.
fn commit_to_package() -> String {
    let out = run(Command::new("git")
        .current_dir(repo())
        .args(["stash", "create"]));
    let stash = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    if stash.is_empty() {
        "HEAD".to_owned()
    } else {
        stash
    }
}

/// The toolchain's sysroot (`rustc --print sysroot`): under root's rustup home, which the build
/// user cannot enter (/root is 0700), so it is bind-mounted read-only at a path it can reach.
fn rust_sysroot() -> PathBuf {
    let out = run(Command::new("rustc").args(["--print", "sysroot"]));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Builds the package with makepkg as an unprivileged user from a `git archive` tarball,
/// installs it into a temp root with pacman, runs it there, checks where its files are, and
/// removes it. Needs root, makepkg, pacman and crates.io; runs when DOCKDOC_LIVE is set (not
/// `skip`), as it takes minutes. DOCKDOC_PACKAGE_CHECK=1 also runs the PKGBUILD's check().
#[test]
fn package_builds_installs_runs_and_removes() {
    if live().is_none() {
        return skip("the package build takes minutes; set DOCKDOC_LIVE=1 to run it");
    }
    let tools = [
        "makepkg", "pacman", "fakeroot", "runuser", "unshare", "git", "gzip", "bsdtar", "zstd",
    ];
    if !ready(&tools, true) {
        return;
    }
    let started = Instant::now();
    let work = tempdir();
    let build = work.path().join("build");
    let home = work.path().join("home");
    let toolchain = work.path().join("toolchain");
    for d in [&build, &home, &toolchain] {
        std::fs::create_dir_all(d).unwrap();
    }

    // The source tarball, exactly as a release makes it, and a PKGBUILD pointing at it.
    let out = run(Command::new(repo().join("contrib/release-tarball"))
        .arg(commit_to_package())
        .arg(&build));
    let tarball = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let name = tarball.file_name().unwrap().to_str().unwrap().to_owned();
    let sum = String::from_utf8(run(Command::new("sha256sum").arg(&tarball)).stdout).unwrap();
    let sum = sum.split_whitespace().next().unwrap().to_owned();
    let pkgbuild = std::fs::read_to_string(repo().join("PKGBUILD")).unwrap();
    let source_line = pkgbuild.lines().find(|l| l.starts_with("source=")).unwrap();
    let sums_line = pkgbuild
        .lines()
        .find(|l| l.starts_with("sha256sums="))
        .unwrap();
    let local = pkgbuild
        .replace(source_line, &format!("source=('{name}')"))
        .replace(sums_line, &format!("sha256sums=('{sum}')"));
    std::fs::write(build.join("PKGBUILD"), local).unwrap();
    give_to_builder(&build);
    give_to_builder(&home);

    // makepkg as the build user, in a private mount namespace where the toolchain is visible
    // read-only; its own CARGO_HOME (registry) under its own HOME. Root's toolchain cannot change.
    let check = std::env::var("DOCKDOC_PACKAGE_CHECK").is_ok_and(|v| v == "1");
    let script = format!(
        "mount --bind -o ro \"$1\" \"$2\" && exec runuser -u {BUILD_USER} -- env -i \
         PATH=\"$2/bin:/usr/bin:/bin\" HOME=\"$3\" CARGO_HOME=\"$3/cargo\" LANG=C.UTF-8 \
         PKGDEST=\"$4\" SRCDEST=\"$4\" PKGEXT=.pkg.tar.zst \
         makepkg --nodeps --noconfirm --noprogressbar {}",
        if check { "" } else { "--nocheck" }
    );
    let built = Instant::now();
    let out = run(Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            "sh",
        ])
        .arg(rust_sysroot())
        .arg(&toolchain)
        .arg(&home)
        .arg(&build)
        .current_dir(&build));
    let log = text(&out);
    eprintln!(
        "makepkg{}: {:.0?}",
        if check { " with check()" } else { " --nocheck" },
        built.elapsed()
    );
    if check {
        assert!(log.contains("Starting check()"), "{log}");
    }
    let package = std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with(".pkg.tar.zst")
        })
        .unwrap_or_else(|| panic!("makepkg made no package:\n{log}"));
    assert!(
        package
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&format!("dockdoc-{}-1-", env!("CARGO_PKG_VERSION"))),
        "{package:?}"
    );

    // Install into a temp root. -dd: the root has no glibc or gcc-libs packages to satisfy the
    // dependencies; the binary runs with the host's libraries.
    let root = work.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    run(pacman_transaction(&root, "-U").arg("-dd").arg(&package));
    let dockdoc = root.join("usr/bin/dockdoc");
    let out = run(Command::new(&dockdoc).arg("--version"));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("dockdoc {}", env!("CARGO_PKG_VERSION"))
    );
    let out = run(Command::new(&dockdoc).arg("list"));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("running-kernel-modules-missing")
    );

    // Everything where Arch expects it. The man page is gzipped by makepkg (zipman).
    let files = String::from_utf8(run(pacman(&root).args(["-Qlq", "dockdoc"])).stdout).unwrap();
    let root_str = format!("{}/", root.display());
    let mut files: Vec<&str> = files
        .lines()
        .filter(|f| !f.ends_with('/'))
        .map(|f| f.strip_prefix(&root_str).unwrap_or(f))
        .collect();
    files.sort_unstable();
    // The manual beside the README, as in the repository.
    let mut expected: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("usr/share/doc/dockdoc/docs/{n}"))
        .collect();
    expected.extend(
        [
            "usr/bin/dockdoc",
            "usr/lib/systemd/system/dockdoc-textfile.service",
            "usr/lib/systemd/system/dockdoc-textfile.timer",
            "usr/share/bash-completion/completions/dockdoc",
            "usr/share/doc/dockdoc/README.md",
            "usr/share/dockdoc/fix-plan.schema.json",
            "usr/share/dockdoc/report.schema.json",
            "usr/share/fish/vendor_completions.d/dockdoc.fish",
            "usr/share/libalpm/hooks/dockdoc-kernel-upgrade.hook",
            "usr/share/licenses/dockdoc/LICENSE",
            "usr/share/man/man1/dockdoc.1.gz",
            "usr/share/zsh/site-functions/_dockdoc",
            "usr/share/doc/dockdoc/CONTRIBUTING.md",
        ]
        .map(str::to_owned),
    );
    expected.sort_unstable();
    assert_eq!(files, expected);
    let gz = std::fs::File::open(root.join("usr/share/man/man1/dockdoc.1.gz")).unwrap();
    let mut page = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut page).unwrap();
    assert!(page.contains(".SH \"DOCKDOC EXPLAIN\""), "{page}");
    let hook =
        std::fs::read_to_string(root.join("usr/share/libalpm/hooks/dockdoc-kernel-upgrade.hook"))
            .unwrap();
    assert!(hook.contains("Exec = /usr/bin/dockdoc hook kernel-upgrade"));
    let bash = std::fs::read_to_string(root.join("usr/share/bash-completion/completions/dockdoc"))
        .unwrap();
    assert!(bash.contains("complete -F _dockdoc"));

    // Removed cleanly: no file of the package is left.
    run(pacman_transaction(&root, "-R").arg("dockdoc"));
    let query = pacman(&root).args(["-Q", "dockdoc"]).output().unwrap();
    assert!(!query.status.success());
    for f in &files {
        assert!(!root.join(f).exists(), "{f} left behind");
    }
    // pacman also removed the directories it created (usr/ and below); what is left is its
    // own database.
    assert!(!root.join("usr").exists(), "usr/ left behind");
    let left = run(Command::new("find")
        .arg(&root)
        .args(["-type", "f", "-not", "-path"])
        .arg(root.join("var/lib/pacman/*")));
    assert!(left.stdout.is_empty(), "{}", text(&left));
    eprintln!("package test: {:.0?}", started.elapsed());
}
