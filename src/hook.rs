//! `dockdoc hook kernel-upgrade`: run by pacman after a transaction that touched a kernel
//! (`usr/lib/modules/*/vmlinuz`). When the running kernel's modules are gone it prints one
//! warning — Docker's veth pairs and every other module load fail until a reboot — and which
//! kernel the reboot brings. Silent otherwise. Reads only, never fails the transaction.

use std::io::Write;

use crate::facts::{Context, Endpoints, Env, Facts, Sysroot, kernel, os};
use crate::terminal::visible;

/// The warning to print, if any, from the kernel facts.
pub fn kernel_upgrade_warning(facts: &Facts) -> Option<String> {
    if facts.bool("os.in_container") == Some(true) || facts.bool("os.wsl") == Some(true) {
        return None;
    }
    let running = visible(facts.text("kernel.running_release")?);
    if facts.bool("kernel.running_modules_present") != Some(false) {
        return None;
    }
    let installed = facts.list("kernel.installed_releases").unwrap_or_default();
    let next = match facts.text("kernel.pending_release") {
        Some(pending) => format!("A reboot brings {}.", visible(pending)),
        None if !installed.is_empty() => {
            format!("Installed kernels: {}.", visible(&installed.join(", ")))
        }
        None => "No kernel is installed under /usr/lib/modules: install one before rebooting."
            .to_owned(),
    };
    Some(format!(
        "==> WARNING: the running kernel {running} has no modules any more (/usr/lib/modules/{running} is gone).\n\
         \x20   Docker bridge networking (veth) and any other module load will fail until you reboot.\n\
         \x20   {next}\n\
         \x20   Details: dockdoc explain running-kernel-modules-missing"
    ))
}

pub fn kernel_upgrade(root: Option<&std::path::Path>, out: &mut dyn Write) -> std::io::Result<()> {
    let ctx = Context::new(
        Sysroot::new(root.unwrap_or(std::path::Path::new("/"))),
        Endpoints::default(),
        Env::default(),
        std::time::Duration::from_secs(1),
    );
    let mut facts = Facts::default();
    os::gather(&ctx, &mut facts);
    kernel::gather(&ctx, &mut facts);
    if let Some(warning) = kernel_upgrade_warning(&facts) {
        writeln!(out, "{warning}")?;
    }
    Ok(())
}
