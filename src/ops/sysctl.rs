//! sysctl read, write and list, relative to a `/proc/sys` directory
//! descriptor opened inside the target's namespaces.
//!
//! Every path is checked here first ([`check_path`]: relative, no `.`/`..` or
//! empty segment, no NUL, bounded length and depth) and then opened with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_XDEV)`, so the kernel refuses anything that would leave
//! `/proc/sys` as well, including a mount over part of it in the target's
//! mount namespace (a bind mount of some other file is `exdev`).
//!
//! Listing a directory walks it with several threads (`sysctl/walk.rs`).

mod walk;

use crate::error::{OpError, Reason, Result, Stage};
use crate::sys;
use nix::errno::Errno;
use std::ffi::CString;
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

/// Read a whole value. A `/proc/sys` handler produces its value in one
/// call, up to the size asked for: a read that does not fill the buffer
/// has all of it, so a short value costs one `pread`, not two. Most
/// handlers give nothing to a read that does not start at 0 (the integer
/// ones), so a value that fills the buffer is read again from the start
/// with a larger one, never continued. The first read asks for little:
/// the kernel allocates and clears as much as is asked for.
fn read_fd(fd: BorrowedFd<'_>) -> std::result::Result<Vec<u8>, Errno> {
    let mut first = [0u8; FIRST_READ];
    let n = sys::pread(fd, &mut first, 0)?;
    if n < FIRST_READ {
        return Ok(first[..n].to_vec());
    }
    let mut size = 16 * FIRST_READ;
    loop {
        let mut buf = vec![0u8; size];
        let n = sys::pread(fd, &mut buf, 0)?;
        if n < size {
            buf.truncate(n);
            return Ok(buf);
        }
        if size > MAX_VALUE {
            return Err(Errno::EFBIG);
        }
        size = (size * 8).min(MAX_VALUE + 1);
    }
}

/// Bytes asked for by a value's first read (see [`read_fd`]).
const FIRST_READ: usize = 1024;

/// Write one value, in a single `write(2)` as the kernel expects. A value
/// the kernel takes only part of is `{write, {partial, Written, Total}}`:
/// what it took has been set. An empty value is written as a newline, as
/// sysctl(8) writes it: the kernel never calls a handler for a write of
/// nothing, so the value would stay as it was while the write succeeded.
pub fn write(root: BorrowedFd<'_>, path: &[u8], value: &[u8]) -> Result<()> {
    let cpath = check_path(path, false)?;
    if value.len() > MAX_VALUE || value.contains(&0) {
        return Err(OpError::badarg("value"));
    }
    let value = if value.is_empty() { b"\n" } else { value };
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

/// Write `value` exactly as given, in one `write(2)`: nothing is added to
/// it (an empty value is a write of nothing, which the kernel accepts
/// without calling the file's handler), and the count the kernel returns
/// is not checked (what it parsed is set). The contract of the NIF-based
/// library's `write_in_ns`, which `linx_native` serves. The path rules
/// are those of [`write`]; the value is only bounded in size.
pub fn write_raw(root: BorrowedFd<'_>, path: &[u8], value: &[u8]) -> Result<()> {
    let cpath = check_path(path, false)?;
    if value.len() > MAX_VALUE {
        return Err(OpError::badarg("value"));
    }
    let err = |e| OpError::errno(Stage::Write, e);
    let fd = sys::openat2(root, &cpath, libc::O_WRONLY, RESOLVE).map_err(err)?;
    sys::write(fd.as_fd(), value).map(|_| ()).map_err(err)
}

/// List every readable value under `path` (the whole tree for an empty
/// path), sorted by path. A path that names a file lists that one entry.
pub fn list(root: BorrowedFd<'_>, path: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let cpath = check_path(path, true)?;
    let err = |e| OpError::errno(Stage::List, e);
    let fd = sys::openat2(root, &cpath, libc::O_RDONLY, RESOLVE).map_err(err)?;
    let (_, _, mode) = sys::fstat_id(fd.as_fd()).map_err(err)?;
    if mode & libc::S_IFMT != libc::S_IFDIR {
        let value = read_fd(fd.as_fd()).map_err(err)?;
        return Ok(vec![(path.to_vec(), value)]);
    }
    let mut entries = walk::walk(fd, path.to_vec())?;
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// The names of the entries of the directory `path` (not below them),
/// in no particular order.
pub fn children(root: BorrowedFd<'_>, path: &[u8]) -> Result<Vec<Vec<u8>>> {
    let cpath = check_path(path, true)?;
    let err = |e| OpError::errno(Stage::List, e);
    let fd = sys::openat2(root, &cpath, libc::O_RDONLY | libc::O_DIRECTORY, RESOLVE).map_err(err)?;
    let (names, _dir) = walk::read_names(fd).map_err(err)?;
    Ok(names.into_iter().map(|(name, _)| name.into_bytes()).collect())
}

/// Entries as the node shows them: each path as its key (dots for the
/// slashes when every segment is made of `[A-Za-z0-9_-]`, which keeps a
/// key with a dot in a name, such as `net/ipv4/conf/eth0.100/forwarding`,
/// in slash form), each value without its trailing spaces, tabs and
/// newlines. The rules of the node's `linx_sysctl:path_to_key/1` and
/// `read/2`, applied here so that a whole-tree list is not converted one
/// key at a time in the node.
pub fn key_form(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    entries
        .into_iter()
        .map(|(mut path, mut value)| {
            if dot_form(&path) {
                path.iter_mut().filter(|b| **b == b'/').for_each(|b| *b = b'.');
            }
            let kept = value
                .iter()
                .rposition(|b| !matches!(b, b' ' | b'\t' | b'\n'))
                .map_or(0, |i| i + 1);
            value.truncate(kept);
            (path, value)
        })
        .collect()
}

/// Whether a path is a non-empty run of `[A-Za-z0-9_-]+` segments joined
/// by single slashes.
fn dot_form(path: &[u8]) -> bool {
    !path.is_empty()
        && path.split(|b| *b == b'/').all(|seg| {
            !seg.is_empty()
                && seg
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_in_key_form() {
        let entry = |p: &str, v: &str| (p.as_bytes().to_vec(), v.as_bytes().to_vec());
        let got = key_form(vec![
            entry("kernel/ostype", "Linux\n"),
            entry("net/ipv4/conf/eth0.100/forwarding", "1\n"),
            entry("net/ipv4/ip_local_port_range", "32768\t60999 \n"),
            entry("dev/tty-x/ldisc_autoload", ""),
            entry("fs/a b", "  x\n\n"),
            entry("", "\n"),
        ]);
        assert_eq!(
            got,
            vec![
                entry("kernel.ostype", "Linux"),
                entry("net/ipv4/conf/eth0.100/forwarding", "1"),
                entry("net.ipv4.ip_local_port_range", "32768\t60999"),
                entry("dev.tty-x.ldisc_autoload", ""),
                entry("fs/a b", "  x"),
                entry("", ""),
            ]
        );
    }

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
    fn a_raw_write_is_the_value_as_given() {
        let dir = std::env::temp_dir().join(format!("linx-raw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        let root = sys::open(&CString::new(dir.as_os_str().as_encoded_bytes()).unwrap(), libc::O_PATH).unwrap();
        std::fs::write(&file, b"old").unwrap();
        write(root.as_fd(), b"f", b"").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"\nld", "a newline for an empty value");
        std::fs::write(&file, b"old").unwrap();
        write_raw(root.as_fd(), b"f", b"").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"old", "nothing written");
        write_raw(root.as_fd(), b"f", b"a\0").unwrap();
        assert_eq!(
            std::fs::read(&file).unwrap(),
            b"a\0d",
            "the bytes as given, NUL and all"
        );
        assert_eq!(write(root.as_fd(), b"f", b"a\0"), Err(OpError::badarg("value")));
        assert_eq!(write_raw(root.as_fd(), b"../f", b"x"), Err(OpError::badarg("path")));
        std::fs::remove_dir_all(&dir).unwrap();
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
