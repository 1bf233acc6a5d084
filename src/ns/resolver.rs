//! Targets to namespace sets.
//!
//! A [`Target`] becomes an ordered list of open namespace files ([`NsSet`]).
//! Every file is opened in the port's own namespaces (this module never
//! calls `setns`), checked to live on nsfs, and asked for its namespace type,
//! so that `setns` is always called with the type it expects. A set is
//! identified by the `(type, st_dev, st_ino)` of its members ([`NsKey`]):
//! two targets with the same key are the same namespaces, and a namespace
//! that was deleted and created again under the same name gets a new key.
//! Members equal to the port's own namespaces are left out: entering them
//! would change nothing (and for a user namespace would fail).

use super::held::Held;
use super::names::NameCache;
use super::target::{valid_netns_name, Target, NETNS_DIR};
use super::{NsFile, NsId, NsKey, NsSet};
use crate::error::{OpError, Result, Stage};
use crate::sys;
use nix::errno::Errno;
use nix::sched::CloneFlags;
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

/// The namespaces `{pid, N}` enters, in this order.
pub const PID_KINDS: [(&str, CloneFlags); 5] = [
    ("user", CloneFlags::CLONE_NEWUSER),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("net", CloneFlags::CLONE_NEWNET),
];

/// All namespace kinds, for recording the port's own.
const ALL_KINDS: [&str; 8] = ["user", "mnt", "uts", "ipc", "net", "pid", "cgroup", "time"];

/// Resolves targets, knowing the port's own namespaces.
#[derive(Debug, Clone)]
pub struct Resolver {
    own: Vec<NsId>,
    /// Every target means "here" (a namespace helper, already inside).
    pinned: bool,
    /// The namespaces with no name this process holds.
    held: Arc<Held>,
    /// `CAP_SYS_ADMIN` is in effect: a network namespace can be entered
    /// without its owning user namespace.
    any_netns: bool,
    /// Where `{netns, Name}` targets live, and what each name names now
    /// (for [`Resolver::quick_key`]).
    names: Arc<NameCache>,
}

impl Resolver {
    /// Record the namespaces the port itself is in. Call from the main thread
    /// before any thread has entered another namespace.
    pub fn new() -> Self {
        let own = ALL_KINDS
            .iter()
            .filter_map(|k| {
                let path = CString::new(format!("/proc/self/ns/{k}")).ok()?;
                let fd = sys::open(&path, libc::O_RDONLY).ok()?;
                identify(&fd).ok()
            })
            .collect();
        Resolver {
            own,
            pinned: false,
            held: Arc::new(Held::new()),
            any_netns: sys::caps::has_sys_admin(),
            names: Arc::new(NameCache::new(NETNS_DIR.into())),
        }
    }

    /// Where `{netns, Name}` targets live.
    pub fn netns_dir(&self) -> &Path {
        self.names.dir()
    }

    /// The namespaces with no name this process holds.
    pub fn held(&self) -> &Arc<Held> {
        &self.held
    }

    /// A resolver for a process that already is in its target's
    /// namespaces: every target resolves to the empty set.
    pub fn pinned() -> Self {
        Resolver {
            pinned: true,
            ..Self::new()
        }
    }

    /// Resolve a target into the namespaces to enter.
    pub fn resolve(&self, target: &Target) -> Result<NsSet> {
        if self.pinned {
            return Ok(NsSet::default());
        }
        match target.place() {
            Target::Current | Target::HostKeys(_) => Ok(NsSet::default()),
            Target::Ns(paths) => {
                let mut set = NsSet::default();
                for p in paths {
                    let file = open_ns(p, None)?;
                    self.push(&mut set, file);
                }
                Ok(set)
            }
            Target::Netns(name) => {
                if !valid_netns_name(name) {
                    return Err(OpError::badarg("target"));
                }
                let file = open_ns(&self.names.dir().join(name), Some(CloneFlags::CLONE_NEWNET))?;
                let mut set = NsSet::default();
                self.push(&mut set, file);
                Ok(set)
            }
            Target::Pid(pid) => self.resolve_pid(*pid, &PID_KINDS),
            Target::Held(id) => {
                // Released (or never held): as if its file were gone.
                let (fd, ns) = self.held.get(*id).ok_or(OpError::errno(Stage::OpenNs, Errno::ENOENT))?;
                let fd = fd.try_clone().map_err(|e| {
                    OpError::errno(Stage::OpenNs, e.raw_os_error().map_or(Errno::EMFILE, Errno::from_raw))
                })?;
                let mut set = NsSet::default();
                self.push(
                    &mut set,
                    NsFile {
                        fd,
                        kind: CloneFlags::CLONE_NEWNET,
                        id: ns,
                    },
                );
                Ok(set)
            }
        }
    }

    /// Resolve only the network namespace of a target: what a socket needs.
    /// Other members of an `{ns, [...]}` list are opened and checked, not entered.
    pub fn resolve_net(&self, target: &Target) -> Result<NsSet> {
        if self.pinned {
            return Ok(NsSet::default());
        }
        match target.place() {
            // Without CAP_SYS_ADMIN a rootless container's netns is entered
            // through its user namespace: all of the process's set then
            // (the same set a sysctl op enters, served by one helper).
            Target::Pid(pid) if !self.any_netns => self.resolve_pid(*pid, &PID_KINDS),
            Target::Pid(pid) => self.resolve_pid(*pid, &PID_KINDS[4..]),
            other => {
                let mut set = self.resolve(other)?;
                set.members.retain(|m| m.kind == CloneFlags::CLONE_NEWNET);
                Ok(set)
            }
        }
    }

    /// Resolve the given namespace kinds of a process, checking afterwards
    /// that the pid still names the process whose files were opened.
    pub fn resolve_pid(&self, pid: i32, kinds: &[(&str, CloneFlags)]) -> Result<NsSet> {
        if pid <= 0 {
            return Err(OpError::badarg("target"));
        }
        let pidfd = sys::pidfd_open(pid).map_err(|e| OpError::errno(Stage::OpenNs, e))?;
        let mut set = NsSet::default();
        for (name, kind) in kinds {
            let path = format!("/proc/{pid}/ns/{name}");
            let file = open_ns(Path::new(&path), Some(*kind)).map_err(|e| match e.reason {
                // The process went away between pidfd_open and here.
                crate::error::Reason::Errno(Errno::ENOENT) => OpError::errno(Stage::OpenNs, Errno::ESRCH),
                // An exiting process refuses access to its files: say so.
                _ if sys::pidfd_alive(pidfd.as_fd()).is_err() => OpError::errno(Stage::OpenNs, Errno::ESRCH),
                _ => e,
            })?;
            self.push(&mut set, file);
        }
        // The files were opened through the pid; if it was reaped and reused
        // meanwhile, the pidfd (which names the original process) says so.
        sys::pidfd_alive(pidfd.as_fd()).map_err(|e| OpError::errno(Stage::OpenNs, e))?;
        Ok(set)
    }

    /// The key a target would resolve to, found with what the name names
    /// now (a `stat(2)`, or what one said while nothing in the directory
    /// or the mount table changed since, see [`NameCache`]) and nothing
    /// opened; `None` when that cannot be known
    /// this way (a pid target, whose pid may have been reused; a list of
    /// files, whose types `stat` cannot tell; or any error: the full
    /// resolution reports it). A `{netns, Name}` key says "network
    /// namespace", so a file of another type there never matches the key of
    /// a worker (keys carry the type); only a key some worker already serves
    /// is ever used, and such a key names a live namespace.
    pub fn quick_key(&self, target: &Target) -> Option<NsKey> {
        if self.pinned {
            return Some(NsKey::new());
        }
        let mut key = NsKey::new();
        match target.place() {
            Target::Current => {}
            Target::Netns(name) if valid_netns_name(name) => {
                let (dev, ino) = self.names.lookup(name)?;
                key.push((CloneFlags::CLONE_NEWNET.bits(), dev, ino));
            }
            Target::Held(id) => key.push(self.held.get(*id)?.1),
            _ => return None,
        }
        key.retain(|id| !self.own.contains(id));
        Some(key)
    }

    fn push(&self, set: &mut NsSet, file: NsFile) {
        if !self.own.contains(&file.id) {
            set.members.push(file);
        }
    }
}

impl Default for Resolver {
    fn default() -> Self {
        Self::new()
    }
}

/// Open a namespace file, check it is one, and (if given) of which type.
pub fn open_ns(path: &Path, expect: Option<CloneFlags>) -> Result<NsFile> {
    let err = |e| OpError::errno(Stage::OpenNs, e);
    let cpath = CString::new(path.as_os_str().as_bytes()).map_err(|_| OpError::badarg("target"))?;
    // Look before opening: a namespace file is a regular file on nsfs, and
    // opening anything else (a FIFO would block, a device has side effects)
    // is not ours to do. The open descriptor is checked again below.
    let st = nix::sys::stat::stat(path).map_err(err)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG
        || nix::sys::statfs::statfs(path).map_err(err)?.filesystem_type().0 != libc::NSFS_MAGIC
    {
        return Err(err(Errno::EINVAL));
    }
    let fd = sys::open(&cpath, libc::O_RDONLY | libc::O_NOCTTY | libc::O_NONBLOCK).map_err(err)?;
    let id = identify(&fd).map_err(err)?;
    let kind = id.0;
    if let Some(want) = expect {
        if kind != want.bits() {
            return Err(err(Errno::EINVAL));
        }
    }
    let flags = CloneFlags::from_bits_truncate(kind);
    Ok(NsFile { fd, kind: flags, id })
}

/// The `CLONE_NEW*` type and identity of an open namespace file; `EINVAL`
/// if it is not one.
pub fn identify(fd: &OwnedFd) -> std::result::Result<NsId, Errno> {
    if !sys::is_nsfs(fd.as_fd())? {
        return Err(Errno::EINVAL);
    }
    let kind = sys::ns_type(fd.as_fd()).map_err(|_| Errno::EINVAL)?;
    let (dev, ino, _) = sys::fstat_id(fd.as_fd())?;
    Ok((kind, dev, ino))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_target_enters_nothing() {
        let r = Resolver::new();
        assert!(r.resolve(&Target::Current).unwrap().members.is_empty());
        // Our own net namespace file is a namespace, and equals our own.
        let own = r.resolve(&Target::Ns(vec!["/proc/self/ns/net".into()])).unwrap();
        assert!(own.members.is_empty());
    }

    #[test]
    fn files_that_are_not_namespaces() {
        let r = Resolver::new();
        for p in ["/dev/null", "/proc/sys", "/etc/hostname"] {
            let e = r.resolve(&Target::Ns(vec![p.into()])).unwrap_err();
            assert_eq!(e, OpError::errno(Stage::OpenNs, Errno::EINVAL), "{p}");
        }
        let e = r.resolve(&Target::Ns(vec!["/nonexistent/ns".into()])).unwrap_err();
        assert_eq!(e, OpError::errno(Stage::OpenNs, Errno::ENOENT));
    }

    #[test]
    fn dead_pid() {
        let r = Resolver::new();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        let e = r.resolve(&Target::Pid(pid)).unwrap_err();
        assert_eq!(e, OpError::errno(Stage::OpenNs, Errno::ESRCH));
    }
}
