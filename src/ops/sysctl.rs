//! sysctl read, write and list, relative to a `/proc/sys` directory
//! descriptor opened inside the target's namespaces.
//!
//! Every path is checked here first ([`check_path`]: relative, no `.`/`..` or
//! empty segment, no NUL, bounded length and depth) and then opened with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_XDEV)`, so the kernel refuses anything that would leave
//! `/proc/sys` as well, including a mount over part of it in the target's
//! mount namespace (a bind mount of some other file is `exdev`).

use crate::error::{OpError, Reason, Result, Stage};
use crate::sys;
use nix::dir::{Dir, Type};
use nix::errno::Errno;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Largest value read from one file; larger ones are `efbig`.
pub const MAX_VALUE: usize = 1 << 20;
/// Deepest directory level a list walks (and most segments in a path).
pub const MAX_DEPTH: usize = 32;
/// Longest relative path accepted.
pub const MAX_PATH: usize = 4096;
/// Most bytes of paths and values one list may return.
pub const MAX_LIST_BYTES: usize = 12 << 20;

const RESOLVE: u64 =
    libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_XDEV;

/// Check a relative sysctl path from the wire and make it a C string.
/// `allow_root` lets the empty path stand for `/proc/sys` itself (list).
pub fn check_path(path: &[u8], allow_root: bool) -> Result<CString> {
    let bad = || OpError::badarg("path");
    if path.is_empty() {
        return if allow_root { Ok(c".".to_owned()) } else { Err(bad()) };
    }
    if path.len() > MAX_PATH || path[0] == b'/' {
        return Err(bad());
    }
    let mut depth = 0;
    for seg in path.split(|&b| b == b'/') {
        depth += 1;
        if seg.is_empty() || seg == b"." || seg == b".." || depth > MAX_DEPTH {
            return Err(bad());
        }
    }
    CString::new(path).map_err(|_| bad())
}

/// Open `/proc/sys` in the calling thread's namespaces.
pub fn open_root() -> Result<OwnedFd> {
    sys::open(c"/proc/sys", libc::O_PATH | libc::O_DIRECTORY).map_err(|e| OpError::errno(Stage::Open, e))
}

/// Read one value (trailing newline kept).
pub fn read(root: BorrowedFd<'_>, path: &[u8]) -> Result<Vec<u8>> {
    open_read(root, path).map(|(_, value)| value)
}

/// Open and read one value; the open descriptor is returned too, so that
/// a worker can keep it and read again with [`reread`].
pub fn open_read(root: BorrowedFd<'_>, path: &[u8]) -> Result<(OwnedFd, Vec<u8>)> {
    let cpath = check_path(path, false)?;
    let err = |e| OpError::errno(Stage::Read, e);
    let fd = sys::openat2(root, &cpath, libc::O_RDONLY, RESOLVE).map_err(err)?;
    let value = read_fd(fd.as_fd()).map_err(err)?;
    Ok((fd, value))
}

/// Read a value again through a descriptor kept from [`open_read`]. A
/// sysctl file regenerates its value on every read from offset 0; once its
/// entry is unregistered (an interface deleted, say) the read fails and the
/// caller opens the path afresh.
pub fn reread(fd: BorrowedFd<'_>) -> std::result::Result<Vec<u8>, Errno> {
    read_fd(fd)
}

fn read_fd(fd: BorrowedFd<'_>) -> std::result::Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sys::pread(fd, &mut chunk, out.len() as i64)?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > MAX_VALUE {
            return Err(Errno::EFBIG);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Write one value, in a single `write(2)` as the kernel expects. A value
/// the kernel takes only part of is `{write, {partial, Written, Total}}`:
/// what it took has been set.
pub fn write(root: BorrowedFd<'_>, path: &[u8], value: &[u8]) -> Result<()> {
    let cpath = check_path(path, false)?;
    if value.len() > MAX_VALUE || value.contains(&0) {
        return Err(OpError::badarg("value"));
    }
    let err = |e| OpError::errno(Stage::Write, e);
    let fd = sys::openat2(root, &cpath, libc::O_WRONLY, RESOLVE).map_err(err)?;
    let n = sys::write(fd.as_fd(), value).map_err(err)?;
    if n != value.len() {
        // The kernel parsed part of the value and set what it parsed.
        return Err(OpError {
            stage: Stage::Write,
            reason: Reason::Partial {
                written: n,
                total: value.len(),
            },
        });
    }
    Ok(())
}

/// Errors a walk passes over silently, as `sysctl -a` does.
fn skippable(e: Errno) -> bool {
    matches!(
        e,
        Errno::EACCES
            | Errno::EPERM
            | Errno::EIO
            | Errno::EINVAL
            | Errno::ENOENT
            | Errno::EOPNOTSUPP
            | Errno::ENODEV
            | Errno::EXDEV
    )
}

/// List every readable value under `path` (the whole tree for an empty
/// path), sorted by path. A path that names a file lists that one entry.
pub fn list(root: BorrowedFd<'_>, path: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let cpath = check_path(path, true)?;
    let err = |e| OpError::errno(Stage::List, e);
    let fd = sys::openat2(root, &cpath, libc::O_RDONLY, RESOLVE).map_err(err)?;
    let (_, _, mode) = sys::fstat_id(fd.as_fd()).map_err(err)?;
    let mut out = Walk {
        entries: Vec::new(),
        bytes: 0,
    };
    if mode & libc::S_IFMT != libc::S_IFDIR {
        let value = read_fd(fd.as_fd()).map_err(err)?;
        out.entries.push((path.to_vec(), value));
        return Ok(out.entries);
    }
    out.dir(fd, path.to_vec(), 1)?;
    out.entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(out.entries)
}

struct Walk {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    bytes: usize,
}

impl Walk {
    fn dir(&mut self, dirfd: OwnedFd, prefix: Vec<u8>, depth: usize) -> Result<()> {
        let names = match read_names(&dirfd) {
            Ok(names) => names,
            // Only the root's failure is reported; deeper ones are skipped.
            Err(e) if depth > 1 && skippable(e) => return Ok(()),
            Err(e) => return Err(OpError::errno(Stage::List, e)),
        };
        for (name, kind) in names {
            let mut child = prefix.clone();
            if !child.is_empty() {
                child.push(b'/');
            }
            child.extend_from_slice(name.to_bytes());
            let is_dir = kind == Some(Type::Directory);
            if is_dir && depth >= MAX_DEPTH {
                continue;
            }
            let flags = if is_dir {
                libc::O_RDONLY | libc::O_DIRECTORY
            } else {
                libc::O_RDONLY
            };
            let fd = match sys::openat2(dirfd.as_fd(), &name, flags, RESOLVE) {
                Ok(fd) => fd,
                Err(e) if skippable(e) => continue,
                Err(e) => return Err(OpError::errno(Stage::List, e)),
            };
            if is_dir {
                self.dir(fd, child, depth + 1)?;
                continue;
            }
            match read_fd(fd.as_fd()) {
                Ok(value) => {
                    self.bytes += child.len() + value.len();
                    if self.bytes > MAX_LIST_BYTES {
                        return Err(OpError::errno(Stage::List, Errno::EFBIG));
                    }
                    self.entries.push((child, value));
                }
                Err(e) if skippable(e) || e == Errno::EFBIG => continue,
                Err(e) => return Err(OpError::errno(Stage::List, e)),
            }
        }
        Ok(())
    }
}

/// The entries of a directory (without `.` and `..`), with their types.
fn read_names(dirfd: &OwnedFd) -> std::result::Result<Vec<(CString, Option<Type>)>, Errno> {
    // Dir takes ownership of the descriptor it reads; give it a duplicate.
    let dup = dirfd
        .try_clone()
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    let mut dir = Dir::from_fd(std::os::fd::IntoRawFd::into_raw_fd(dup))?;
    let mut names = Vec::new();
    for entry in dir.iter() {
        let entry = entry?;
        let name: &CStr = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        names.push((name.to_owned(), entry.file_type()));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_checked_before_the_kernel() {
        for good in ["kernel/ostype", "net/ipv4/conf/br.100/forwarding", "a"] {
            assert!(check_path(good.as_bytes(), false).is_ok(), "{good}");
        }
        let deep = vec!["a"; 33].join("/");
        let long = "a".repeat(MAX_PATH + 1);
        for bad in [
            "",
            "/kernel",
            "kernel/",
            "kernel//ostype",
            "../etc",
            "net/../..",
            "./kernel",
            "a\0b",
            &deep,
            &long,
        ] {
            assert_eq!(
                check_path(bad.as_bytes(), false),
                Err(OpError::badarg("path")),
                "{bad:?}"
            );
        }
        assert_eq!(check_path(b"", true).unwrap().as_bytes(), b".");
    }

    #[test]
    fn read_and_list_in_own_namespaces() {
        let root = open_root().unwrap();
        let v = read(root.as_fd(), b"kernel/ostype").unwrap();
        assert_eq!(v, b"Linux\n");
        let e = read(root.as_fd(), b"kernel/no_such_key").unwrap_err();
        assert_eq!(e, OpError::errno(Stage::Read, Errno::ENOENT));
        let one = list(root.as_fd(), b"kernel/ostype").unwrap();
        assert_eq!(one, vec![(b"kernel/ostype".to_vec(), b"Linux\n".to_vec())]);
        let all = list(root.as_fd(), b"kernel").unwrap();
        assert!(all.len() > 20);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        assert!(all.iter().any(|(p, _)| p == b"kernel/ostype"));
        let e = list(root.as_fd(), b"no/such").unwrap_err();
        assert_eq!(e, OpError::errno(Stage::List, Errno::ENOENT));
    }
}
