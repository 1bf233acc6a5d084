//! Which namespace each `/run/netns` name names, remembered between
//! requests without a `stat(2)` each.
//!
//! A name can come to name another namespace only through a change that
//! the kernel reports at once: `ip netns add` and `delete` bind-mount and
//! unmount (the port's mount table changes: `/proc/self/mountinfo` polls
//! `POLLPRI`), and a file created, removed or renamed in the directory is
//! an inotify event. So a name's `(st_dev, st_ino)` is kept until either
//! reports anything, and every lookup first asks both with one `poll(2)`
//! that does not wait (0.4 µs here, against 1.3 µs for the `stat`). The
//! kernel records both before the change's syscall returns, so a lookup
//! that starts after a change always sees it: the answer is what a `stat`
//! at that moment would have said.
//!
//! Any report forgets every name and the watch itself; the next lookup
//! watches again before it stats, so nothing between the two is missed.
//! Without a watch (the directory does not exist yet, or inotify is not
//! available) every lookup stats.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::sys;

/// Most names remembered; one more forgets them all.
const MAX_NAMES: usize = 4096;

/// `(st_dev, st_ino)` of a namespace file.
pub type FileId = (u64, u64);

/// The names of one directory of namespace files and what they name.
#[derive(Debug)]
pub struct NameCache {
    dir: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    watch: Option<Watch>,
    ids: HashMap<String, FileId>,
}

/// What tells that a name may have changed.
#[derive(Debug)]
struct Watch {
    /// Files created, removed or renamed in the directory, or the
    /// directory itself removed or moved.
    dir: Inotify,
    /// The port's mount table; `POLLPRI` once it changed after the open.
    mounts: OwnedFd,
}

impl Watch {
    fn start(dir: &Path) -> Option<Watch> {
        let mounts = sys::open(c"/proc/self/mountinfo", libc::O_RDONLY).ok()?;
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
        let events = AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_DELETE_SELF
            | AddWatchFlags::IN_MOVE_SELF
            | AddWatchFlags::IN_ONLYDIR;
        inotify.add_watch(dir, events).ok()?;
        Some(Watch { dir: inotify, mounts })
    }

    /// Nothing reported since the watch started.
    fn quiet(&self) -> bool {
        let mut fds = [
            PollFd::new(self.dir.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.mounts.as_fd(), PollFlags::POLLPRI),
        ];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(0))
    }
}

impl NameCache {
    pub fn new(dir: PathBuf) -> Self {
        NameCache {
            dir,
            state: Mutex::new(State::default()),
        }
    }

    /// The directory whose names these are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is one call: a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file `name` names in the directory now; `None` when it cannot
    /// be looked at. `name` must be a valid netns name (no `/`).
    pub fn lookup(&self, name: &str) -> Option<FileId> {
        let mut st = self.lock();
        if st.watch.as_ref().is_some_and(|w| !w.quiet()) {
            st.watch = None;
            st.ids.clear();
        }
        if let Some(id) = st.ids.get(name) {
            return Some(*id);
        }
        // Watch before looking, so that a change in between is reported.
        if st.watch.is_none() {
            st.watch = Watch::start(&self.dir);
        }
        let stat = nix::sys::stat::stat(&self.dir.join(name)).ok()?;
        let id = (stat.st_dev, stat.st_ino);
        if st.watch.is_some() {
            if st.ids.len() >= MAX_NAMES {
                st.ids.clear();
            }
            st.ids.insert(name.to_owned(), id);
        }
        Some(id)
    }

    /// How many names are remembered (for tests).
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.lock().ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("linx-names-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn ino(path: &Path) -> FileId {
        let st = nix::sys::stat::stat(path).expect("stat");
        (st.st_dev, st.st_ino)
    }

    #[test]
    fn a_name_is_remembered_until_the_directory_changes() {
        let dir = temp_dir("change");
        let a = dir.join("a");
        fs::write(&a, b"").expect("write");
        let cache = NameCache::new(dir.clone());
        assert_eq!(cache.lookup("a"), Some(ino(&a)));
        assert_eq!(cache.lookup("a"), Some(ino(&a)));
        assert_eq!(cache.remembered(), 1);

        // Replaced by another file under the same name: a new inode, seen
        // by the very next lookup.
        let old = ino(&a);
        fs::write(dir.join("b"), b"").expect("write");
        fs::rename(dir.join("b"), &a).expect("rename");
        let new = cache.lookup("a");
        assert_eq!(new, Some(ino(&a)));
        assert_ne!(new, Some(old));

        fs::remove_file(&a).expect("remove");
        assert_eq!(cache.lookup("a"), None);
        assert_eq!(cache.lookup("missing"), None);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_directory_made_later_is_watched_then() {
        let dir = temp_dir("later");
        fs::remove_dir(&dir).expect("rmdir");
        let cache = NameCache::new(dir.clone());
        assert_eq!(cache.lookup("a"), None);
        assert_eq!(cache.remembered(), 0);
        fs::create_dir(&dir).expect("mkdir");
        let a = dir.join("a");
        fs::write(&a, b"").expect("write");
        assert_eq!(cache.lookup("a"), Some(ino(&a)));
        assert_eq!(cache.remembered(), 1);
        // The directory removed and made again: the name is looked up anew.
        fs::remove_file(&a).expect("remove");
        fs::remove_dir(&dir).expect("rmdir");
        fs::create_dir(&dir).expect("mkdir");
        fs::write(&a, b"").expect("write");
        assert_eq!(cache.lookup("a"), Some(ino(&a)));
        let _ = fs::remove_dir_all(&dir);
    }
}
