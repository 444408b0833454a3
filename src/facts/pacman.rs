//! Installed packages, from pacman's local database (`/var/lib/pacman/local`). Only the
//! entries dockdoc needs are read, so beyond listing the directory the cost does not grow with
//! the database.
//!
//! The database is parsed here rather than with the `alpm-db` crate: that crate adds over a
//! hundred crates to the build and rejects a whole file for one field it does not like, while
//! dockdoc needs four fields (`%NAME%`, `%VERSION%`, `%BASE%`, `%PROVIDES%`) of `desc` and the
//! `%FILES%` list of `files`, a line-based format a short parser reads tolerantly.
//!
//! Cost: each installed package is a directory `name-pkgver-pkgrel` (the version may carry an
//! epoch, `docker-1:27.3.1-1`). The names alone say what is installed, so the directory is
//! listed once per run (the kernel probe's ownership lookup shares the listing), without a
//! `stat` or an allocation per entry, and only the names that start with a prefix dockdoc asks
//! about ([`PREFIXES`]) are split and sorted. The kernel's listing itself is the one part that
//! grows with the database: about 1.5 ms for 5,000 packages on ext4. A `desc` is read only for
//! a package dockdoc asks about by name, or for a candidate that might *provide* that name, and
//! the candidates are the packages whose name starts with a stem (`qemu` for qemu, `iptables`
//! for iptables-nft, `docker`, `linux`). The trade-off: a provider whose name does not share
//! the stem (e.g. `podman-docker`, which provides `docker`) is not seen; for the names dockdoc
//! asks about, the real providers in Arch's repositories and the AUR (`qemu-full`,
//! `qemu-desktop`, `docker-git`, `iptables`) all do.

pub mod known_bad;
pub mod vercmp;

pub use known_bad::derive;

use super::{Context, Fact, FactKind::*, FactSpec, Facts, Sysroot, spec};

pub const SCHEMA: &[FactSpec] = &[
    spec(
        "pacman.db_present",
        Bool,
        "the local database /var/lib/pacman/local exists",
    ),
    spec(
        "pacman.docker_version",
        Text,
        "installed version of the docker package (or one providing docker); null if not installed",
    ),
    spec(
        "pacman.kernel_packages",
        List,
        "installed kernel packages as `name version` (linux, linux-lts, linux-zen, …)",
    ),
    spec(
        "pacman.kernel_releases",
        List,
        "kernel releases whose /usr/lib/modules/<release> tree an installed kernel package owns (e.g. 6.11.2-arch1-1)",
    ),
    spec(
        "pacman.osx_packages_missing",
        List,
        "host packages docker-osx's README asks for that are not installed (honouring provides)",
    ),
    spec(
        "pacman.osx_packages_missing_args",
        Text,
        "the missing docker-osx host packages space-separated, for a pacman command line; null if none is missing",
    ),
    spec("pacman.xhost_installed", Bool, "xorg-xhost is installed"),
    spec(
        "pacman.nvidia_utils_version",
        Text,
        "the installed nvidia-utils (or a package providing it), the user-space half of the NVIDIA driver; null when none is installed",
    ),
    spec(
        "pacman.nvidia_container_toolkit_installed",
        Bool,
        "nvidia-container-toolkit (or a package providing it) is installed: nvidia-ctk, the nvidia runtime and the --gpus hook",
    ),
    spec(
        "pacman.docker_buildx_installed",
        Bool,
        "docker-buildx (or a package providing it) is installed: the BuildKit builder `docker build` uses",
    ),
    spec(
        "pacman.docker_compose_installed",
        Bool,
        "docker-compose (or a package providing it) is installed: the `docker compose` CLI plugin",
    ),
    spec(
        "pacman.watched_versions",
        List,
        "`name version` of each installed package that checks/data/known-bad-versions.toml names",
    ),
    spec(
        "pacman.iptables_package",
        Text,
        "which iptables package is installed (iptables, iptables-nft, iptables-legacy); null if none",
    ),
    spec(
        "pacman.iptables_backend",
        Text,
        "the backend of the installed iptables package: nft or legacy (Arch's `iptables` is nft when it provides iptables-nft); null if none",
    ),
];

/// The facts [`derive`] computes from the gathered ones (and the kernel's cgroup layout).
pub const DERIVED_SCHEMA: &[FactSpec] = &[
    spec(
        "pacman.known_bad_versions",
        List,
        "derived: installed versions in a bad range of checks/data/known-bad-versions.toml (pacman's vercmp, epochs included), each with its symptom, fixed version and thread",
    ),
    spec(
        "pacman.known_bad_fixes",
        List,
        "derived: the fix of each entry in pacman.known_bad_versions",
    ),
    spec(
        "pacman.known_bad_severity",
        Text,
        "derived: the highest severity (error, warning, info) among pacman.known_bad_versions; null if none",
    ),
];

/// Where pacman keeps the local database, inside the sysroot.
pub const LOCAL_DB: &str = "/var/lib/pacman/local";

/// The host packages docker-osx's README installs (`sudo pacman -S qemu libvirt dnsmasq
/// virt-manager bridge-utils flex bison iptables-nft edk2-ovmf`), each with the stem of the
/// package names that may provide it.
const OSX_PACKAGES: &[(&str, &str)] = &[
    ("qemu", "qemu"),
    ("libvirt", "libvirt"),
    ("dnsmasq", "dnsmasq"),
    ("virt-manager", "virt-manager"),
    ("bridge-utils", "bridge-utils"),
    ("flex", "flex"),
    ("bison", "bison"),
    // Since Arch's 2026 switch, `iptables` is the nft variant and provides iptables-nft.
    ("iptables-nft", "iptables"),
    ("edk2-ovmf", "edk2-ovmf"),
];

/// The package names of the iptables variants, in the order they are reported.
const IPTABLES_PACKAGES: &[&str] = &["iptables", "iptables-nft", "iptables-legacy"];

/// The prefixes of every package name dockdoc looks up, by name or by stem: the directories of
/// other packages are not even copied out of the listing.
const PREFIXES: &[&str] = &[
    "docker",
    "linux",
    "xorg-xhost",
    "qemu",
    "libvirt",
    "dnsmasq",
    "virt-manager",
    "bridge-utils",
    "flex",
    "bison",
    "iptables",
    "edk2-ovmf",
    // The systemd version decides the name of systemd-networkd's forwarding setting.
    "systemd",
    // The NVIDIA driver's user-space half, against the loaded module; the container toolkit.
    "nvidia-utils",
    "nvidia-container-toolkit",
];

pub fn gather(ctx: &Context, facts: &mut Facts) {
    let db = match LocalDb::open(&ctx.sysroot) {
        Ok(Some(db)) => db,
        Ok(None) => {
            facts.set("pacman.db_present", Fact::known(false));
            facts.fill_missing(
                SCHEMA,
                &Fact::unknown(format!("no pacman database at {LOCAL_DB}")),
            );
            return;
        }
        Err(e) => {
            facts.set("pacman.db_present", Fact::known(true));
            facts.fill_missing(SCHEMA, &Fact::unknown(e));
            return;
        }
    };
    facts.set("pacman.db_present", Fact::known(true));

    facts.set(
        "pacman.docker_version",
        match db.provider("docker", "docker") {
            Ok(Some(p)) => Fact::known(p.version),
            Ok(None) => Fact::known(None::<String>),
            Err(e) => Fact::unknown(e),
        },
    );

    facts.set(
        "pacman.nvidia_utils_version",
        match db.provider("nvidia-utils", "nvidia-utils") {
            Ok(Some(p)) => Fact::known(p.version),
            Ok(None) => Fact::known(None::<String>),
            Err(e) => Fact::unknown(e),
        },
    );

    match db.kernels() {
        Ok(kernels) => {
            let packages: Vec<String> = kernels
                .iter()
                .map(|k| format!("{} {}", k.name, k.version))
                .collect();
            let mut releases: Vec<String> = kernels.into_iter().flat_map(|k| k.releases).collect();
            releases.sort();
            releases.dedup();
            facts.set("pacman.kernel_packages", Fact::known(packages));
            facts.set("pacman.kernel_releases", Fact::known(releases));
        }
        Err(e) => {
            facts.set("pacman.kernel_packages", Fact::unknown(e.clone()));
            facts.set("pacman.kernel_releases", Fact::unknown(e));
        }
    }

    match db.osx_missing() {
        Ok(missing) => {
            let args = (!missing.is_empty()).then(|| missing.join(" "));
            facts.set("pacman.osx_packages_missing", Fact::known(missing));
            facts.set("pacman.osx_packages_missing_args", Fact::known(args));
        }
        Err(e) => {
            facts.set("pacman.osx_packages_missing", Fact::unknown(e.clone()));
            facts.set("pacman.osx_packages_missing_args", Fact::unknown(e));
        }
    }

    for (key, name) in [
        ("pacman.docker_buildx_installed", "docker-buildx"),
        ("pacman.docker_compose_installed", "docker-compose"),
        (
            "pacman.nvidia_container_toolkit_installed",
            "nvidia-container-toolkit",
        ),
    ] {
        facts.set(key, Fact::from(db.satisfied(name, name)));
    }

    facts.set(
        "pacman.watched_versions",
        match known_bad::entries() {
            Ok(entries) => Fact::known(db.watched_versions(&entries)),
            Err(e) => Fact::unknown(e),
        },
    );

    facts.set(
        "pacman.xhost_installed",
        Fact::known(db.entry("xorg-xhost").is_some()),
    );

    // The package is known from its name; only the backend of Arch's `iptables` needs its desc.
    match db.iptables_package() {
        Some(entry) => {
            facts.set("pacman.iptables_package", Fact::known(entry.name.as_str()));
            facts.set(
                "pacman.iptables_backend",
                Fact::from(db.iptables_backend(entry)),
            );
        }
        None => {
            facts.set("pacman.iptables_package", Fact::known(None::<String>));
            facts.set("pacman.iptables_backend", Fact::known(None::<String>));
        }
    }
}

/// One entry of the local database, from its directory name alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// `[epoch:]pkgver-pkgrel`, as `pacman -Q` prints it.
    pub version: String,
    pub dir: String,
}

/// Splits a local database directory name `name-pkgver-pkgrel` (names may contain dashes,
/// versions may not) into name and version. `None` for anything else (`ALPM_DB_VERSION`).
pub fn split_entry(dir: &str) -> Option<(&str, &str)> {
    let mut parts = dir.rsplitn(3, '-');
    let pkgrel = parts.next()?;
    let pkgver = parts.next()?;
    let name = parts.next()?;
    if name.is_empty() || pkgver.is_empty() || pkgrel.is_empty() {
        return None;
    }
    Some((name, dir.get(name.len() + 1..)?))
}

/// The fields of a `desc` file dockdoc uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desc {
    pub name: String,
    pub version: String,
    pub base: Option<String>,
    /// Provided names without their version constraint (`qemu=9.1.0` → `qemu`).
    pub provides: Vec<String>,
}

/// The sections of pacman's line-based database format: a `%SECTION%` line, its values one per
/// line, a blank line.
fn sections(text: &str) -> impl Iterator<Item = (&str, Vec<&str>)> {
    let mut lines = text.lines().peekable();
    std::iter::from_fn(move || {
        loop {
            let line = lines.next()?;
            let line = line.trim_end();
            if line.len() > 2 && line.starts_with('%') && line.ends_with('%') {
                let mut values = Vec::new();
                while let Some(v) = lines.peek() {
                    let v = v.trim_end();
                    if v.is_empty() {
                        break;
                    }
                    values.push(v);
                    lines.next();
                }
                let key = line.strip_prefix('%').and_then(|l| l.strip_suffix('%'))?;
                return Some((key, values));
            }
        }
    })
}

/// Parses a `desc` file. Fails (with the reason, not the path) when `%NAME%` or `%VERSION%`
/// is missing, which is what binary junk or a truncated file look like.
pub fn parse_desc(text: &str) -> Result<Desc, String> {
    let mut name = None;
    let mut version = None;
    let mut base = None;
    let mut provides = Vec::new();
    for (section, values) in sections(text) {
        let first = values.first().map(|v| (*v).to_owned());
        match section {
            "NAME" => name = first,
            "VERSION" => version = first,
            "BASE" => base = first,
            "PROVIDES" => {
                provides = values
                    .iter()
                    .map(|p| {
                        p.split(['=', '<', '>'])
                            .next()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .filter(|p| !p.is_empty())
                    .collect();
            }
            _ => {}
        }
    }
    let name = name.ok_or("no %NAME% section")?;
    let version = version.ok_or("no %VERSION% section")?;
    Ok(Desc {
        name,
        version,
        base,
        provides,
    })
}

/// Parses a `files` file into its `%FILES%` list (paths relative to the root, directories
/// ending in `/`).
pub fn parse_files(text: &str) -> Vec<String> {
    sections(text)
        .filter(|(section, _)| *section == "FILES")
        .flat_map(|(_, values)| values.into_iter().map(str::to_owned))
        .collect()
}

/// The kernel releases whose module tree a package's file list owns: every
/// `usr/lib/modules/<release>/vmlinuz` (the file Arch's kernel packages ship and mkinitcpio's
/// hooks trigger on). `linux-firmware` or `linux-headers` own no such file.
pub fn kernel_releases(files: &[String]) -> Vec<String> {
    files
        .iter()
        .filter_map(|f| f.strip_prefix("usr/lib/modules/")?.strip_suffix("/vmlinuz"))
        .filter(|rel| !rel.is_empty() && !rel.contains('/'))
        .map(str::to_owned)
        .collect()
}

/// An installed package that was read: its entry and its `desc`.
#[derive(Clone, Debug)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub desc: Desc,
}

/// An installed kernel package and the releases it owns.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub name: String,
    pub version: String,
    pub releases: Vec<String>,
}

/// The local database: the entries dockdoc may ask about (the names starting with one of
/// [`PREFIXES`], sorted), and reads of single entries on demand.
pub struct LocalDb<'a> {
    sysroot: &'a Sysroot,
    entries: Vec<Entry>,
}

impl<'a> LocalDb<'a> {
    /// Lists the entries whose names start with one of [`PREFIXES`]. `Ok(None)` when there
    /// is no database directory.
    pub fn open(sysroot: &'a Sysroot) -> Result<Option<Self>, String> {
        match sysroot.metadata_optional(LOCAL_DB) {
            Ok(None) => return Ok(None),
            Ok(Some(m)) if !m.is_dir() => return Ok(None),
            Ok(Some(_)) => {}
            Err(e) => return Err(e.to_string()),
        }
        let names = sysroot
            .read_dir_names_with_prefix(LOCAL_DB, PREFIXES)
            .map_err(|e| e.to_string())?;
        let entries = names
            .into_iter()
            .filter_map(|dir| {
                let (name, version) = split_entry(&dir)?;
                Some(Entry {
                    name: name.to_owned(),
                    version: version.to_owned(),
                    dir,
                })
            })
            .collect();
        Ok(Some(LocalDb { sysroot, entries }))
    }

    /// The entries listed: those whose names start with one of [`PREFIXES`].
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry of the package with exactly this name, without reading anything.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    fn path(entry: &Entry, file: &str) -> String {
        format!("{LOCAL_DB}/{}/{file}", entry.dir)
    }

    /// Reads and parses one entry's `desc`; the error names the file.
    pub fn desc(&self, entry: &Entry) -> Result<Desc, String> {
        let path = Self::path(entry, "desc");
        let text = self.sysroot.read_string(&path).map_err(|e| e.to_string())?;
        let desc = parse_desc(&text).map_err(|why| format!("{path}: {why}"))?;
        if desc.name != entry.name {
            return Err(format!(
                "{path}: %NAME% is `{}`, but the directory names `{}`",
                desc.name, entry.name
            ));
        }
        Ok(desc)
    }

    /// Reads one entry's `files` list; the error names the file.
    pub fn files(&self, entry: &Entry) -> Result<Vec<String>, String> {
        let path = Self::path(entry, "files");
        let text = self.sysroot.read_string(&path).map_err(|e| e.to_string())?;
        Ok(parse_files(&text))
    }

    /// The installed package that satisfies `name` the way `pacman -T name` does: the package
    /// of that name, else one providing it among the packages whose name starts with `stem`.
    /// A candidate whose `desc` cannot be read makes the answer unknown only when no other
    /// package satisfies the name.
    pub fn provider(&self, name: &str, stem: &str) -> Result<Option<Package>, String> {
        let mut unreadable = None;
        if let Some(entry) = self.entry(name) {
            match self.desc(entry) {
                Ok(desc) => {
                    return Ok(Some(Package {
                        name: entry.name.clone(),
                        version: desc.version.clone(),
                        desc,
                    }));
                }
                Err(e) => unreadable = Some(e),
            }
        }
        for entry in self
            .entries
            .iter()
            .filter(|e| e.name != name && e.name.starts_with(stem))
        {
            match self.desc(entry) {
                Ok(desc) if desc.provides.iter().any(|p| p == name) => {
                    return Ok(Some(Package {
                        name: entry.name.clone(),
                        version: desc.version.clone(),
                        desc,
                    }));
                }
                Ok(_) => {}
                Err(e) => unreadable = unreadable.or(Some(e)),
            }
        }
        match unreadable {
            Some(e) => Err(format!("cannot tell whether {name} is installed: {e}")),
            None => Ok(None),
        }
    }

    /// Whether `name` is satisfied, for lists of requirements: an installed package of that
    /// exact name counts without reading it.
    pub fn satisfied(&self, name: &str, stem: &str) -> Result<bool, String> {
        if self.entry(name).is_some() {
            return Ok(true);
        }
        self.provider(name, stem).map(|p| p.is_some())
    }

    /// docker-osx's host packages that are not installed, in the README's order.
    pub fn osx_missing(&self) -> Result<Vec<String>, String> {
        let mut missing = Vec::new();
        for (name, stem) in OSX_PACKAGES {
            if !self.satisfied(name, stem)? {
                missing.push((*name).to_owned());
            }
        }
        Ok(missing)
    }

    /// The installed kernel packages: `linux*` packages that own a
    /// `usr/lib/modules/<release>/vmlinuz`. Packages known not to be kernels (firmware,
    /// headers, docs, the API headers) are not read.
    pub fn kernels(&self) -> Result<Vec<Kernel>, String> {
        let mut kernels = Vec::new();
        for entry in self.entries.iter().filter(|e| {
            e.name.starts_with("linux")
                && !e.name.starts_with("linux-firmware")
                && !e.name.starts_with("linux-api-headers")
                && !e.name.ends_with("-headers")
                && !e.name.ends_with("-docs")
        }) {
            let desc = self.desc(entry)?;
            let releases = kernel_releases(&self.files(entry)?);
            if !releases.is_empty() {
                kernels.push(Kernel {
                    name: entry.name.clone(),
                    version: desc.version,
                    releases,
                });
            }
        }
        Ok(kernels)
    }

    /// `name version` of each installed package that a known-bad entry names, in the
    /// entries' order, each package once.
    pub fn watched_versions(&self, entries: &[known_bad::Entry]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for entry in entries {
            if let Some(e) = self.entry(&entry.package) {
                let line = format!("{} {}", e.name, e.version);
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
        out
    }

    /// The installed iptables package (iptables, iptables-nft or iptables-legacy).
    pub fn iptables_package(&self) -> Option<&Entry> {
        IPTABLES_PACKAGES.iter().find_map(|n| self.entry(n))
    }

    /// The backend of an iptables package: `nft` or `legacy`. Arch's `iptables` is the nft
    /// variant when it provides iptables-nft (since the 2026 switch) and the legacy one before.
    pub fn iptables_backend(&self, entry: &Entry) -> Result<&'static str, String> {
        Ok(match entry.name.as_str() {
            "iptables-nft" => "nft",
            "iptables-legacy" => "legacy",
            _ if self
                .desc(entry)?
                .provides
                .iter()
                .any(|p| p == "iptables-nft") =>
            {
                "nft"
            }
            _ => "legacy",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `desc` as `pacman -U` wrote it for the stand-in qemu-full package built by
    /// tests/fixtures/pacman/build-dbs.
    const QEMU_FULL_DESC: &str = "%NAME%
qemu-full

%VERSION%
9.1.0-2

%BASE%
qemu-full

%DESC%
A full QEMU setup

%URL%
https://archlinux.org/packages/?name=qemu-full

%ARCH%
x86_64

%BUILDDATE%
1727740800

%INSTALLDATE%
1727740800

%PACKAGER%
dockdoc fixtures <fixtures@dockdoc.invalid>

%SIZE%
19

%LICENSE%
GPL-2.0-only
LGPL-2.1-only

%VALIDATION%
none

%CONFLICTS%
qemu-base
qemu-desktop

%PROVIDES%
qemu
qemu-base
qemu-desktop

";

    /// The `files` of the stand-in linux 6.11.2.arch1-1, as pacman wrote it.
    const LINUX_FILES: &str = "%FILES%
usr/
usr/lib/
usr/lib/modules/
usr/lib/modules/6.11.2-arch1-1/
usr/lib/modules/6.11.2-arch1-1/pkgbase
usr/lib/modules/6.11.2-arch1-1/vmlinuz

";

    #[test]
    fn parses_a_real_desc() {
        let d = parse_desc(QEMU_FULL_DESC).unwrap();
        assert_eq!(d.name, "qemu-full");
        assert_eq!(d.version, "9.1.0-2");
        assert_eq!(d.base.as_deref(), Some("qemu-full"));
        assert_eq!(d.provides, ["qemu", "qemu-base", "qemu-desktop"]);
    }

    #[test]
    fn strips_version_constraints_from_provides() {
        let d = parse_desc(
            "%NAME%\nlibvirt\n\n%VERSION%\n1:10.8.0-1\n\n%PROVIDES%\nlibvirt.so=0-64\nqemu>=9\n\n",
        )
        .unwrap();
        assert_eq!(d.provides, ["libvirt.so", "qemu"]);
        assert_eq!(d.base, None);
    }

    #[test]
    fn parses_a_real_files_list_and_its_kernel_release() {
        let files = parse_files(LINUX_FILES);
        assert_eq!(files.len(), 6);
        assert_eq!(files[5], "usr/lib/modules/6.11.2-arch1-1/vmlinuz");
        assert_eq!(kernel_releases(&files), ["6.11.2-arch1-1"]);
        let firmware = parse_files("%FILES%\nusr/\nusr/lib/\nusr/lib/firmware/README\n\n");
        assert!(kernel_releases(&firmware).is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(
            parse_desc("\u{0}\u{fffd}\u{fffd}ELF\n%%\n%\n\n%NAME"),
            Err("no %NAME% section".into())
        );
        assert_eq!(
            parse_desc("%NAME%\ndocker\n\n"),
            Err("no %VERSION% section".into())
        );
        assert_eq!(parse_desc(""), Err("no %NAME% section".into()));
        assert!(parse_files("\u{0}\u{1}junk").is_empty());
    }

    /// Only names starting with one of PREFIXES are listed: every name and stem dockdoc looks
    /// up must start with one.
    #[test]
    fn every_looked_up_name_is_listed() {
        let covered = |n: &str| PREFIXES.iter().any(|p| n.starts_with(p));
        let looked_up = OSX_PACKAGES
            .iter()
            .flat_map(|(name, stem)| [*name, *stem])
            .chain(IPTABLES_PACKAGES.iter().copied())
            .chain([
                "docker",
                "linux",
                "xorg-xhost",
                "docker-buildx",
                "docker-compose",
            ]);
        let entries = known_bad::entries().unwrap();
        let looked_up = looked_up.chain(entries.iter().map(|e| e.package.as_str()));
        for name in looked_up {
            assert!(covered(name), "{name} is not under any of PREFIXES");
        }
    }

    #[test]
    fn splits_directory_names_into_name_and_version() {
        assert_eq!(
            split_entry("docker-1:27.3.1-1"),
            Some(("docker", "1:27.3.1-1"))
        );
        assert_eq!(
            split_entry("linux-firmware-20241017.b4fc0d9a-1"),
            Some(("linux-firmware", "20241017.b4fc0d9a-1"))
        );
        assert_eq!(
            split_entry("glibc-2.40+r16+gaa533d58ff-2"),
            Some(("glibc", "2.40+r16+gaa533d58ff-2"))
        );
        assert_eq!(split_entry("ALPM_DB_VERSION"), None);
        assert_eq!(split_entry("foo-1"), None);
        assert_eq!(split_entry("-1-2"), None);
    }
}
