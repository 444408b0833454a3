//! The advice is safe to paste: placeholders in fix commands are shell-quoted, and no fix
//! anywhere opens the X server, the Docker socket or the daemon's TCP port to everyone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::process::Command;

use dockdoc::catalog::load_builtin;
use dockdoc::eval::{fill_command, shell_quote};
use dockdoc::facts::{Fact, Facts};

/// What bash makes of `words`: each argument on its own line, via printf.
fn bash_words(command: &str) -> Vec<String> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("printf '%s\\n' {command}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{command}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

const HOSTILE: &[&str] = &[
    "alice",
    "bob smith",
    "x; rm -rf ~",
    "$(touch /tmp/pwned)",
    "`id`",
    "o'brien",
    "a\"b\\c",
    "*",
    "~root",
    "",
    "tab\there",
    "line\nbreak",
    "#comment",
    "!!",
];

#[test]
fn shell_quote_gives_back_the_word_through_a_real_shell() {
    for word in HOSTILE {
        let quoted = shell_quote(word);
        let got = bash_words(&quoted).join("\n");
        assert_eq!(&got, word, "{quoted}");
    }
    assert_eq!(shell_quote("alice"), "alice", "plain words stay readable");
    assert_eq!(shell_quote("/home/a.b/x-y_z"), "/home/a.b/x-y_z");
}

#[test]
fn placeholders_in_commands_land_as_one_literal_word_wherever_they_are() {
    for name in HOSTILE
        .iter()
        .filter(|n| !n.is_empty() && !n.contains('\n'))
    {
        let mut facts = Facts::default();
        facts.set("user.name", Fact::known(*name));
        // Outside quotes, inside a word, inside single and double quotes.
        for (template, want) in [
            ("{user.name}", name.to_string()),
            ("+SI:localuser:{user.name}", format!("+SI:localuser:{name}")),
            ("'options {user.name} x'", format!("options {name} x")),
            ("\"DISPLAY={user.name}\"", format!("DISPLAY={name}")),
        ] {
            let filled = fill_command(template, &facts);
            let got = bash_words(&filled);
            assert_eq!(got, vec![want.clone()], "{template} -> {filled}");
        }
    }
    let mut facts = Facts::default();
    facts.set(
        "pacman.osx_packages_missing_args",
        Fact::known("qemu-full edk2-ovmf"),
    );
    assert_eq!(
        fill_command(
            "sudo pacman -S --needed {pacman.osx_packages_missing_args}",
            &facts
        ),
        "sudo pacman -S --needed qemu-full edk2-ovmf",
        "an _args value stays several words"
    );
}

#[test]
fn no_fix_opens_the_x_server_the_socket_or_the_daemon_to_everyone() {
    let loaded = load_builtin();
    assert!(loaded.errors.is_empty());
    let mut commands = 0;
    for check in &loaded.catalog.checks {
        for step in &check.fix {
            let Some(cmd) = &step.command else { continue };
            commands += 1;
            assert!(
                cmd.split("xhost +")
                    .skip(1)
                    .all(|rest| rest.starts_with(|c: char| c.is_ascii_alphanumeric())),
                "{}: bare `xhost +` in {cmd}",
                check.id
            );
            let world = ["666", "777", "a+rw", "o+rw", "a+w", "o+w"];
            assert!(
                !(cmd.contains("chmod")
                    && cmd.contains("docker.sock")
                    && world.iter().any(|m| cmd.contains(m))),
                "{}: a world-writable docker socket in {cmd}",
                check.id
            );
            assert!(
                !cmd.contains("tcp://") || cmd.contains("--tlsverify"),
                "{}: the daemon on TCP without TLS in {cmd}",
                check.id
            );
        }
    }
    assert!(
        commands > 40,
        "the meta-test saw the fixes ({commands} commands)"
    );
}

#[test]
fn the_two_risky_trade_offs_explain_the_risk_and_the_narrow_alternative() {
    let loaded = load_builtin();
    let get = |id: &str| loaded.catalog.get(id).unwrap();
    let group = get("docker-group-is-root-equivalent");
    assert!(group.why.contains("root"), "{}", group.why);
    assert!(group.why.contains("rootless"), "{}", group.why);
    let x = get("x11-access-control-disabled");
    assert!(x.why.contains("keystrokes"), "{}", x.why);
    let commands: Vec<&str> = x.fix.iter().filter_map(|f| f.command.as_deref()).collect();
    assert!(commands.contains(&"xhost -"), "{commands:?}");
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("xhost +SI:localuser:")),
        "{commands:?}"
    );
}
