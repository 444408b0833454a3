//! The man page `dockdoc.1`, generated from the clap definitions. clap_mangen renders one
//! command per page; dockdoc has few subcommands, so they all go into the one page: the top-level
//! synopsis, description and options, then a section per visible subcommand with its own
//! synopsis, description and options, then FILES (the pacman hook) and the version.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;

/// Renders the complete page.
pub fn render(out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let top = clap_mangen::Man::new(cmd.clone());
    top.render_title(out)?;
    top.render_name_section(out)?;
    top.render_synopsis_section(out)?;
    top.render_description_section(out)?;
    top.render_options_section(out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("dockdoc {}", sub.get_name());
        let man = clap_mangen::Man::new(sub.clone().bin_name(name.clone()));
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        // Each part comes with its own top-level heading: drop it (synopsis), turn it into a
        // paragraph break (description) or demote it to a subsection (options), so the subcommand reads as one section.
        write_part(out, &man, |m, w| m.render_synopsis_section(w), None)?;
        write_part(
            out,
            &man,
            |m, w| m.render_description_section(w),
            Some(".PP"),
        )?;
        write_part(
            out,
            &man,
            |m, w| m.render_options_section(w),
            Some(".SS Options"),
        )?;
    }
    out.write_all(FILES.as_bytes())?;
    top.render_version_section(out)
}

type Part = fn(&clap_mangen::Man, &mut dyn Write) -> std::io::Result<()>;

/// Renders one section of a subcommand's page with its `.SH` line removed (or replaced).
fn write_part(
    out: &mut dyn Write,
    man: &clap_mangen::Man,
    part: Part,
    heading: Option<&str>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    part(man, &mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    for line in text.lines() {
        // clap_mangen starts every rendered fragment with the two string definitions for
        // the apostrophe; the page header already has them.
        if line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq") {
            continue;
        }
        if line.starts_with(".SH ") {
            if let Some(h) = heading {
                writeln!(out, "{h}")?;
            }
            continue;
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

const FILES: &str = r#".SH FILES
.TP
\fI/usr/share/libalpm/hooks/dockdoc\-kernel\-upgrade.hook\fR
The pacman hook: after a transaction that installs, upgrades or removes a kernel it runs
\fBdockdoc hook kernel\-upgrade\fR, which prints one warning when the running kernel's modules
are gone (Docker bridge networking and every other module load fail until a reboot) and is
silent otherwise. Silence it with
\fBln \-s /dev/null /etc/pacman.d/hooks/dockdoc\-kernel\-upgrade.hook\fR.
.TP
\fI/etc/dockdoc/checks.d/*.toml\fR, \fI$XDG_CONFIG_HOME/dockdoc/checks.d/*.toml\fR
Extra check files, loaded after the built\-in checks; a check with a built\-in id replaces it.
.TP
\fI/var/lib/dockdoc/fix/RUN/\fR, \fI$XDG_STATE_HOME/dockdoc/fix/RUN/\fR
The undo journal of \fBdockdoc fix \-\-apply\fR: \fIrun.json\fR (the steps run) and
\fIbackup/\fR (a copy of each file a step wrote), for root steps and for user steps
(default \fI~/.local/state\fR). \fBdockdoc fix \-\-undo\fR reads them; \fBdockdoc fix
\-\-list\-runs\fR lists them. dockdoc writes nowhere else, except \fB\-\-output\fR.
"#;
