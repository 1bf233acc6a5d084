//! The walk behind the list of a directory ([`list`](super::list)): a few
//! threads (`WALK_THREADS`) read the tree below it, taking subdirectories
//! from a shared queue, and open and read each file as the rest of sysctl
//! does (`openat2` with the same resolve flags, the same reader).

use super::{read_fd, MAX_DEPTH, MAX_LIST_BYTES, RESOLVE};
use crate::error::{OpError, Result, Stage};
use crate::sys;
use nix::dir::{Dir, Type};
use nix::errno::Errno;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

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

/// Threads a walk uses, the calling one included. A new thread starts in
/// the namespaces of the thread that makes it (a worker inside its
/// target), and a `/proc/sys` file opened there reads that namespace's
/// value, so the walk is the same from any of them; most of its time is
/// the kernel's, reading one file after another, which two threads halve.
const WALK_THREADS: usize = 2;

/// Walk the directory `fd` (named `prefix`): every readable value below
/// it, in no particular order. Directories wait in a shared queue, by
/// their path below `fd` (so that a wide tree holds no more descriptors
/// open than there are threads), which the threads take from until it is
/// empty and none of them is reading one (that could add more).
pub(super) fn walk(fd: OwnedFd, prefix: Vec<u8>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let shared = Walk {
        start: fd,
        queue: Mutex::new(Queue {
            dirs: vec![Pending {
                rel: Vec::new(),
                path: prefix,
                depth: 1,
            }],
            busy: 0,
            waiting: 0,
            failed: None,
        }),
        more: Condvar::new(),
        bytes: AtomicUsize::new(0),
    };
    let entries = std::thread::scope(|scope| {
        // A thread that cannot be made leaves the walk to the others.
        let helpers: Vec<_> = (1..WALK_THREADS)
            .filter_map(|i| {
                std::thread::Builder::new()
                    .name(format!("linx-walk-{i}"))
                    .spawn_scoped(scope, || shared.run())
                    .ok()
            })
            .collect();
        let mut all = shared.run();
        for helper in helpers {
            match helper.join() {
                Ok(found) => all.extend(found),
                // Its share is lost: say so rather than return a short list.
                Err(_) => {
                    shared.lock().failed.get_or_insert(OpError::word(Stage::Panic, "list"));
                }
            }
        }
        all
    });
    match shared.queue.into_inner().unwrap_or_else(|p| p.into_inner()).failed {
        Some(e) => Err(e),
        None => Ok(entries),
    }
}

struct Walk {
    /// The directory the walk started from.
    start: OwnedFd,
    queue: Mutex<Queue>,
    more: Condvar,
    bytes: AtomicUsize,
}

struct Queue {
    /// Directories to read.
    dirs: Vec<Pending>,
    /// Threads reading a directory now.
    busy: usize,
    /// Threads asleep on `more`: a change wakes someone only then (a
    /// wake-up is a syscall even with nobody to wake).
    waiting: usize,
    /// The walk's error; every thread stops once there is one.
    failed: Option<OpError>,
}

/// A directory waiting to be read: its path below the walk's start, its
/// name in the list, and its depth.
struct Pending {
    rel: Vec<u8>,
    path: Vec<u8>,
    depth: usize,
}

impl Walk {
    /// One thread's share of the walk: the entries it read.
    fn run(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut found = Vec::new();
        while let Some(dir) = self.next() {
            let result = self.dir(dir, &mut found);
            let mut q = self.lock();
            q.busy -= 1;
            if let Err(e) = result {
                q.failed.get_or_insert(e);
            }
            let wake = q.waiting > 0;
            drop(q);
            if wake {
                self.more.notify_all();
            }
        }
        found
    }

    /// The next directory to read, waiting while another thread may still
    /// find some; `None` when the walk is over (or failed).
    fn next(&self) -> Option<Pending> {
        let mut q = self.lock();
        loop {
            if q.failed.is_some() {
                return None;
            }
            if let Some(job) = q.dirs.pop() {
                q.busy += 1;
                return Some(job);
            }
            if q.busy == 0 {
                return None;
            }
            q.waiting += 1;
            q = self.more.wait(q).unwrap_or_else(|p| p.into_inner());
            q.waiting -= 1;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Read one directory: its files' values into `found`, its
    /// subdirectories into the queue.
    fn dir(&self, dir: Pending, found: &mut Vec<(Vec<u8>, Vec<u8>)>) -> Result<()> {
        let Pending {
            rel,
            path: prefix,
            depth,
        } = dir;
        // Only the root's failure is reported; deeper ones are skipped.
        let failed = |e| {
            if depth > 1 && skippable(e) {
                Ok(())
            } else {
                Err(OpError::errno(Stage::List, e))
            }
        };
        // The directory read, and the one its files are opened from.
        let opened = if rel.is_empty() {
            self.start
                .try_clone()
                .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
        } else {
            CString::new(rel.clone())
                .map_err(|_| Errno::EINVAL)
                .and_then(|c| sys::openat2(self.start.as_fd(), &c, libc::O_RDONLY | libc::O_DIRECTORY, RESOLVE))
        };
        let (names, dir) = match opened.and_then(read_names) {
            Ok(read) => read,
            Err(e) => return failed(e),
        };
        let dirfd = sys::dir_fd(&dir);
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
            if is_dir {
                let mut sub = rel.clone();
                if !sub.is_empty() {
                    sub.push(b'/');
                }
                sub.extend_from_slice(name.to_bytes());
                let mut q = self.lock();
                q.dirs.push(Pending {
                    rel: sub,
                    path: child,
                    depth: depth + 1,
                });
                let wake = q.waiting > 0;
                drop(q);
                if wake {
                    self.more.notify_one();
                }
                continue;
            }
            let fd = match sys::openat2(dirfd, &name, libc::O_RDONLY, RESOLVE) {
                Ok(fd) => fd,
                Err(e) if skippable(e) => continue,
                Err(e) => return Err(OpError::errno(Stage::List, e)),
            };
            match read_fd(fd.as_fd()) {
                Ok(value) => {
                    let size = child.len() + value.len();
                    if self.bytes.fetch_add(size, Ordering::Relaxed) + size > MAX_LIST_BYTES {
                        return Err(OpError::errno(Stage::List, Errno::EFBIG));
                    }
                    found.push((child, value));
                }
                Err(e) if skippable(e) || e == Errno::EFBIG => continue,
                Err(e) => return Err(OpError::errno(Stage::List, e)),
            }
        }
        Ok(())
    }
}

/// The entries of a directory (without `.` and `..`), with their types;
/// and the directory, still open, to open them from.
type Names = Vec<(CString, Option<Type>)>;

pub(super) fn read_names(fd: OwnedFd) -> std::result::Result<(Names, Dir), Errno> {
    let mut dir = Dir::from(fd)?;
    let mut names = Vec::new();
    for entry in dir.iter() {
        let entry = entry?;
        let name: &CStr = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        names.push((name.to_owned(), entry.file_type()));
    }
    Ok((names, dir))
}
