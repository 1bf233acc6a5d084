//! Network namespaces made and removed by the port, the way `ip netns`
//! does it, so that each side can use what the other made:
//!
//! - a named namespace is a file `/run/netns/NAME` with the namespace
//!   bind-mounted on it, `/run/netns` being a shared mount point (so that
//!   the mount is seen in mount namespaces made later);
//! - an anonymous namespace is only an open descriptor, which the caller
//!   keeps (see `ns::held`): it is gone when the last descriptor closes.
//!
//! A new namespace is made on a fresh thread of its own, which
//! `unshare(CLONE_NEWNET)`s and ends: no worker or front-end thread ever
//! leaves its namespaces. All of this runs in the port's own mount
//! namespace.

use crate::error::{OpError, Result, Stage};
use crate::ops::socket;
use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::stat::Mode;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The namespace operations, as requests name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetnsOp {
    /// Make `/run/netns/NAME` (optionally with `lo` up).
    Add { name: String, lo_up: bool },
    /// Unmount and remove `/run/netns/NAME`.
    Delete { name: String },
    /// The names in `/run/netns`.
    List,
    /// The names in `/run/netns` that are the network namespace of a process.
    Identify { pid: i32 },
    /// A namespace with no name, held by the port (optionally with `lo` up).
    New { lo_up: bool },
    /// Let go of a held namespace.
    Release { id: u64 },
}

impl NetnsOp {
    /// The op's name, for policies and statistics.
    pub fn name(&self) -> &'static str {
        match self {
            NetnsOp::Add { .. } => "netns_add",
            NetnsOp::Delete { .. } => "netns_delete",
            NetnsOp::List => "netns_list",
            NetnsOp::Identify { .. } => "netns_identify",
            NetnsOp::New { .. } => "netns_new",
            NetnsOp::Release { .. } => "netns_release",
        }
    }
}

/// Make the named namespace `dir/name`, as `ip netns add` does.
pub fn add(dir: &Path, name: &str, lo_up: bool) -> Result<()> {
    let path = named(dir, name)?;
    shared_dir(dir)?;
    // The mount point: a new, empty file (`eexist` if the name is taken).
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o000)
        .open(&path)
        .map_err(|e| OpError::errno(Stage::Create, io_errno(&e)))?;
    let bind = path.clone();
    let made = on_new_netns(move || {
        mount(
            Some("/proc/thread-self/ns/net"),
            &bind,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| OpError::errno(Stage::Mount, e))?;
        if lo_up {
            loopback_up()?;
        }
        Ok(())
    });
    if made.is_err() {
        // Leave nothing behind: no mount (if `lo` failed), no file.
        let _ = umount2(&path, MntFlags::MNT_DETACH);
        let _ = std::fs::remove_file(&path);
    }
    made
}

/// Remove the named namespace `dir/name`, as `ip netns delete` does: the
/// namespace itself lives on while a process is in it or holds it.
pub fn delete(dir: &Path, name: &str) -> Result<()> {
    let path = named(dir, name)?;
    match umount2(&path, MntFlags::MNT_DETACH) {
        // EINVAL: not a mount point (a file left by a failed add); ENOENT:
        // no such name, which unlink reports.
        Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(OpError::errno(Stage::Umount, e)),
    }
    std::fs::remove_file(&path).map_err(|e| OpError::errno(Stage::Unlink, io_errno(&e)))
}

/// The names in `dir`, sorted; none if it does not exist.
pub fn list(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(OpError::errno(Stage::List, io_errno(&e))),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| valid_netns_name(n))
        .collect();
    names.sort();
    Ok(names)
}

/// The names in `dir` whose namespace is the network namespace of `pid`.
pub fn identify(dir: &Path, pid: i32) -> Result<Vec<String>> {
    if pid <= 0 {
        return Err(OpError::badarg("pid"));
    }
    let own = nix::sys::stat::stat(format!("/proc/{pid}/ns/net").as_str())
        .map_err(|e| OpError::errno(Stage::OpenNs, if e == Errno::ENOENT { Errno::ESRCH } else { e }))?;
    Ok(list(dir)?
        .into_iter()
        .filter(|n| {
            nix::sys::stat::stat(&dir.join(n)).is_ok_and(|st| (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino))
        })
        .collect())
}

/// A new network namespace with no name: the descriptor that holds it.
pub fn new_anonymous(lo_up: bool) -> Result<OwnedFd> {
    on_new_netns(move || {
        let fd = crate::sys::open(c"/proc/thread-self/ns/net", libc::O_RDONLY)
            .map_err(|e| OpError::errno(Stage::OpenNs, e))?;
        if lo_up {
            loopback_up()?;
        }
        Ok(fd)
    })
}

/// A netns name as `ip netns` accepts it: one path component.
pub fn valid_netns_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// `dir/name`, for a name `ip netns` accepts.
fn named(dir: &Path, name: &str) -> Result<PathBuf> {
    if valid_netns_name(name) {
        Ok(dir.join(name))
    } else {
        Err(OpError::badarg("name"))
    }
}

/// Make `dir` exist and be a shared mount point, binding it onto itself
/// first if it is not a mount point yet.
fn shared_dir(dir: &Path) -> Result<()> {
    let err = |e| OpError::errno(Stage::Mount, e);
    match nix::unistd::mkdir(dir, Mode::from_bits_truncate(0o755)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(err(e)),
    }
    let share = || {
        mount(
            None::<&str>,
            dir,
            Some("none"),
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        )
    };
    match share() {
        Ok(()) => Ok(()),
        // Not a mount point: make it one, then share it.
        Err(Errno::EINVAL) => {
            mount(
                Some(dir),
                dir,
                Some("none"),
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .map_err(err)?;
            share().map_err(err)
        }
        Err(e) => Err(err(e)),
    }
}

/// Run `f` on a fresh thread that has just entered a new network
/// namespace, and wait for it. The thread ends with `f`, so nothing else
/// ever runs in the port's threads outside their namespaces.
fn on_new_netns<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let thread = std::thread::Builder::new()
        .name("linx-netns".into())
        .spawn(move || {
            unshare(CloneFlags::CLONE_NEWNET).map_err(|e| OpError::errno(Stage::Unshare, e))?;
            f()
        })
        .map_err(|e| OpError::errno(Stage::Thread, io_errno(&e)))?;
    thread
        .join()
        .unwrap_or_else(|_| Err(OpError::word(Stage::Panic, "netns")))
}

/// Bring `lo` (always index 1 in a new namespace) up, from the calling
/// thread's network namespace: one RTM_NEWLINK with an ack.
fn loopback_up() -> Result<()> {
    const RTM_NEWLINK: u16 = 16;
    const NLM_F_REQUEST: u16 = 0x1;
    const NLM_F_ACK: u16 = 0x4;
    const IFF_UP: u32 = 0x1;
    let mut msg = Vec::with_capacity(32);
    msg.extend_from_slice(&32u32.to_ne_bytes());
    msg.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // pid
                                                // struct ifinfomsg: family, pad, type, index, flags, change.
    msg.extend_from_slice(&[0, 0, 0, 0]);
    msg.extend_from_slice(&1i32.to_ne_bytes());
    msg.extend_from_slice(&IFF_UP.to_ne_bytes());
    msg.extend_from_slice(&IFF_UP.to_ne_bytes());
    let replies = socket::netlink_call(libc::NETLINK_ROUTE, &msg)?;
    // The ack is an NLMSG_ERROR whose error is 0.
    match replies.first().and_then(|r| r.get(16..20)) {
        Some(code) => match i32::from_ne_bytes([code[0], code[1], code[2], code[3]]) {
            0 => Ok(()),
            neg => Err(OpError::errno(Stage::Loopback, Errno::from_raw(-neg))),
        },
        None => Err(OpError::errno(Stage::Recv, Errno::EPROTO)),
    }
}

fn io_errno(e: &std::io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}
