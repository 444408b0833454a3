//! POSIX access ACLs written as the kernel stores them, the `system.posix_acl_access` xattr
//! (acl(5); the layout of linux/posix_acl_xattr.h), so no test needs setfacl (package acl).
//! [`modify`] and [`remove_all`] do what `setfacl -m SPEC` and `setfacl -b` do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const XATTR: &str = "system.posix_acl_access";
const VERSION: u32 = 2;
const USER_OBJ: u16 = 0x01;
const USER: u16 = 0x02;
const GROUP_OBJ: u16 = 0x04;
const GROUP: u16 = 0x08;
const MASK: u16 = 0x10;
const OTHER: u16 = 0x20;
const UNDEFINED_ID: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    tag: u16,
    id: u32,
    perm: u16,
}

/// `setfacl -m SPEC PATH`: SPEC is setfacl's comma-separated entries (`u:1000:rw`, `g:968:r`,
/// `m::r`, `o::---`). Named entries get a mask recomputed as the union of the group class, as
/// setfacl does, unless SPEC sets the mask itself.
pub fn modify(path: &Path, spec: &str) -> Result<(), String> {
    let mut entries = read(path)?;
    let mut mask_given = false;
    for item in spec.split(',') {
        let fields: Vec<&str> = item.split(':').collect();
        let [kind, id, perm] = fields[..] else {
            return Err(format!("ACL entry {item:?} is not TYPE:ID:PERMS"));
        };
        let named = !id.is_empty();
        let tag = match (kind, named) {
            ("u" | "user", false) => USER_OBJ,
            ("u" | "user", true) => USER,
            ("g" | "group", false) => GROUP_OBJ,
            ("g" | "group", true) => GROUP,
            ("m" | "mask", false) => MASK,
            ("o" | "other", false) => OTHER,
            _ => return Err(format!("ACL entry {item:?}: unknown type")),
        };
        mask_given |= tag == MASK;
        let id = if named {
            id.parse()
                .map_err(|_| format!("ACL entry {item:?}: the id must be numeric"))?
        } else {
            UNDEFINED_ID
        };
        let perm = perm_bits(perm).ok_or_else(|| format!("ACL entry {item:?}: bad perms"))?;
        entries.retain(|e| (e.tag, e.id) != (tag, id));
        entries.push(Entry { tag, id, perm });
    }
    let extended = entries.iter().any(|e| e.tag == USER || e.tag == GROUP);
    if extended && !mask_given {
        let union = entries
            .iter()
            .filter(|e| matches!(e.tag, USER | GROUP | GROUP_OBJ))
            .fold(0, |acc, e| acc | e.perm);
        entries.retain(|e| e.tag != MASK);
        entries.push(Entry {
            tag: MASK,
            id: UNDEFINED_ID,
            perm: union,
        });
    }
    entries.sort();
    write(path, &entries)
}

/// `setfacl -b PATH`: the extended entries removed. The mode stays as it is, so the group
/// bits keep the old mask (the kernel showed the mask there), as with setfacl.
pub fn remove_all(path: &Path) -> Result<(), String> {
    match rustix::fs::removexattr(path, XATTR) {
        Ok(()) | Err(rustix::io::Errno::NODATA) => Ok(()),
        Err(e) => Err(format!("removexattr {}: {e}", path.display())),
    }
}

fn perm_bits(text: &str) -> Option<u16> {
    let mut bits = 0;
    for c in text.chars() {
        bits |= match c {
            'r' => 4,
            'w' => 2,
            'x' => 1,
            '-' => 0,
            _ => return None,
        };
    }
    Some(bits)
}

/// The file's ACL: its xattr, else the three entries its mode stands for.
fn read(path: &Path) -> Result<Vec<Entry>, String> {
    let mut buf = vec![0u8; 4 + 8 * 64];
    match rustix::fs::getxattr(path, XATTR, &mut buf) {
        Ok(n) => {
            let bytes = &buf[..n];
            let version = u32::from_le_bytes(bytes[..4].try_into().unwrap());
            assert_eq!(version, VERSION, "{}: ACL xattr version", path.display());
            Ok(bytes[4..]
                .chunks_exact(8)
                .map(|c| Entry {
                    tag: u16::from_le_bytes([c[0], c[1]]),
                    perm: u16::from_le_bytes([c[2], c[3]]),
                    id: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
                })
                .collect())
        }
        Err(rustix::io::Errno::NODATA) => {
            let mode = std::fs::metadata(path)
                .map_err(|e| e.to_string())?
                .permissions()
                .mode();
            let perm = |shift: u32| ((mode >> shift) & 7) as u16;
            Ok(vec![
                Entry {
                    tag: USER_OBJ,
                    id: UNDEFINED_ID,
                    perm: perm(6),
                },
                Entry {
                    tag: GROUP_OBJ,
                    id: UNDEFINED_ID,
                    perm: perm(3),
                },
                Entry {
                    tag: OTHER,
                    id: UNDEFINED_ID,
                    perm: perm(0),
                },
            ])
        }
        Err(e) => Err(format!("getxattr {}: {e}", path.display())),
    }
}

/// Sets the xattr; the kernel takes the mask (or the group entry) into the mode's group bits.
fn write(path: &Path, entries: &[Entry]) -> Result<(), String> {
    let mut bytes = VERSION.to_le_bytes().to_vec();
    for e in entries {
        bytes.extend(e.tag.to_le_bytes());
        bytes.extend(e.perm.to_le_bytes());
        bytes.extend(e.id.to_le_bytes());
    }
    rustix::fs::setxattr(path, XATTR, &bytes, rustix::fs::XattrFlags::empty())
        .map_err(|e| format!("setxattr {} {XATTR}: {e}", path.display()))
}
