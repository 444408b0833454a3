//! Where DOCKER_HOST is set: the lines of the shell start-up files, `/etc/environment`,
//! systemd's `environment.d` and fish's configuration that assign it, as `FILE:LINE`. The files
//! are read through the sysroot (each bounded by the sysroot's file size limit); a file that
//! does not exist is skipped, one that cannot be read makes the list unknown.

use crate::error::ProbeError;
use crate::facts::Context;

/// How a file assigns variables.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Syntax {
    /// sh, bash and zsh: `export DOCKER_HOST=…`, `DOCKER_HOST=…`, `declare -x`, `typeset -x`.
    Shell,
    /// `/etc/environment` (pam_env) and `environment.d/*.conf`: `DOCKER_HOST=…`.
    Environment,
    /// fish: `set -gx DOCKER_HOST …` (any flags), and `SETUVAR --export DOCKER_HOST:…` in
    /// `fish_variables` (a universal variable set with `set -Ux`).
    Fish,
}

/// At most this many files of one `*.d` directory are read.
const MAX_DIR_FILES: usize = 256;

/// The files looked at, relative to the home (`~/…`) or absolute, with their syntax. A `*`
/// stands for every file of that directory with the given suffix.
const FILES: &[(&str, Syntax)] = &[
    ("~/.bashrc", Syntax::Shell),
    ("~/.bash_profile", Syntax::Shell),
    ("~/.bash_login", Syntax::Shell),
    ("~/.profile", Syntax::Shell),
    ("~/.zshenv", Syntax::Shell),
    ("~/.zprofile", Syntax::Shell),
    ("~/.zshrc", Syntax::Shell),
    ("~/.zlogin", Syntax::Shell),
    ("~/.config/environment.d/*.conf", Syntax::Environment),
    ("~/.pam_environment", Syntax::Environment),
    ("~/.config/fish/config.fish", Syntax::Fish),
    ("~/.config/fish/conf.d/*.fish", Syntax::Fish),
    ("~/.config/fish/fish_variables", Syntax::Fish),
    ("/etc/profile", Syntax::Shell),
    ("/etc/profile.d/*.sh", Syntax::Shell),
    ("/etc/bash.bashrc", Syntax::Shell),
    ("/etc/zsh/zshenv", Syntax::Shell),
    ("/etc/zsh/zprofile", Syntax::Shell),
    ("/etc/zsh/zshrc", Syntax::Shell),
    ("/etc/environment", Syntax::Environment),
    ("/etc/environment.d/*.conf", Syntax::Environment),
    ("/etc/fish/config.fish", Syntax::Fish),
    ("/etc/fish/conf.d/*.fish", Syntax::Fish),
];

/// Whether a line assigns `var` in the given syntax (comments and other variables do not).
pub fn assigns(line: &str, var: &str, syntax: Syntax) -> bool {
    let line = line.trim_start();
    if line.starts_with('#') {
        return false;
    }
    let assignment = |rest: &str| {
        rest.strip_prefix(var)
            .is_some_and(|after| after.starts_with('='))
    };
    match syntax {
        Syntax::Environment => assignment(line),
        Syntax::Shell => {
            let mut words = line.split_whitespace().peekable();
            // `export`, `declare -x`, `typeset -gx`, `readonly`, `local` and their flags.
            while let Some(w) = words.peek() {
                if matches!(*w, "export" | "declare" | "typeset" | "readonly" | "local")
                    || (w.starts_with('-') && w.len() > 1)
                {
                    words.next();
                } else {
                    break;
                }
            }
            words.next().is_some_and(assignment)
        }
        Syntax::Fish => {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("set") => {
                    let mut name = None;
                    for w in words {
                        if let Some(long) = w.strip_prefix("--") {
                            // Erasing, querying or showing the variable sets nothing.
                            if matches!(long, "erase" | "query" | "show" | "names") {
                                return false;
                            }
                        } else if let Some(short) = w.strip_prefix('-') {
                            if short.contains(['e', 'q', 'S', 'n']) {
                                return false;
                            }
                        } else {
                            name = Some(w);
                            break;
                        }
                    }
                    name == Some(var)
                }
                Some("SETUVAR") => words
                    .find(|w| !w.starts_with('-'))
                    .is_some_and(|w| w.strip_prefix(var).is_some_and(|r| r.starts_with(':'))),
                _ => false,
            }
        }
    }
}

/// The `FILE:LINE` of every line that assigns `var`, in the order of [`FILES`]. `home` is the
/// judged user's home; without it the user's files are not read.
pub fn set_in(ctx: &Context, home: Option<&str>, var: &str) -> Result<Vec<String>, ProbeError> {
    let mut found = Vec::new();
    for (pattern, syntax) in FILES {
        let path = match pattern.strip_prefix("~/") {
            Some(rest) => match home {
                Some(h) => format!("{h}/{rest}"),
                None => continue,
            },
            None => (*pattern).to_owned(),
        };
        for file in expand(ctx, &path)? {
            let Some(text) = read(ctx, &file)? else {
                continue;
            };
            for (n, line) in text.lines().enumerate() {
                if assigns(line, var, *syntax) {
                    found.push(format!("{file}:{}", n + 1));
                }
            }
        }
    }
    Ok(found)
}

/// The files a pattern names: itself, or every file of a `dir/*.suffix`, sorted by name.
fn expand(ctx: &Context, path: &str) -> Result<Vec<String>, ProbeError> {
    let Some((dir, suffix)) = path.split_once("/*") else {
        return Ok(vec![path.to_owned()]);
    };
    match ctx.sysroot.read_dir_names(dir) {
        Ok(names) => Ok(names
            .into_iter()
            .filter(|n| n.ends_with(suffix) && !n.starts_with('.'))
            .take(MAX_DIR_FILES)
            .map(|n| format!("{dir}/{n}"))
            .collect()),
        Err(ProbeError::Io { source, .. })
            if matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// A file's text; `None` when it does not exist or is not a regular file (a dangling link, a
/// directory named like a file).
fn read(ctx: &Context, path: &str) -> Result<Option<String>, ProbeError> {
    match ctx.sysroot.read_optional(path) {
        Ok(t) => Ok(t),
        Err(ProbeError::NotAFile { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_assignments() {
        let s = |l| assigns(l, "DOCKER_HOST", Syntax::Shell);
        assert!(s("export DOCKER_HOST=tcp://localhost:2375"));
        assert!(s(
            "  export DOCKER_HOST=\"unix:///run/user/$UID/docker.sock\""
        ));
        assert!(s("DOCKER_HOST=tcp://127.0.0.1:2375"));
        assert!(s("declare -x DOCKER_HOST=\"tcp://192.168.59.103:2375\""));
        assert!(s("typeset -gx DOCKER_HOST=ssh://build"));
        assert!(!s("# export DOCKER_HOST=tcp://localhost:2375"));
        assert!(!s("export DOCKER_HOSTNAME=x"));
        assert!(!s("unset DOCKER_HOST"));
        assert!(!s("echo $DOCKER_HOST"));
    }

    #[test]
    fn environment_and_fish_assignments() {
        let e = |l| assigns(l, "DOCKER_HOST", Syntax::Environment);
        assert!(e("DOCKER_HOST=tcp://localhost:2375"));
        assert!(!e("#DOCKER_HOST=tcp://localhost:2375"));
        assert!(!e("PATH=/usr/bin"));
        let f = |l| assigns(l, "DOCKER_HOST", Syntax::Fish);
        assert!(f("set -gx DOCKER_HOST tcp://localhost:2375"));
        assert!(f("set -x DOCKER_HOST unix:///run/user/1000/docker.sock"));
        assert!(f("    set --export --global DOCKER_HOST tcp://h:2375"));
        assert!(f(
            "SETUVAR --export DOCKER_HOST:tcp\\x3a//localhost\\x3a2375"
        ));
        assert!(!f("set -gx DOCKER_HOSTS x"));
        assert!(!f("set -e DOCKER_HOST"));
        assert!(!f("set --erase DOCKER_HOST"));
        assert!(!f("# set -gx DOCKER_HOST x"));
    }
}
