//! Namespaces: which ones a target names, and the threads and processes
//! that run work inside them.
//!
//! - [`target`]: [`Target`], where a request runs, as callers name it.
//! - [`resolver`]: a target to an ordered [`NsSet`] of open, nsfs-checked
//!   namespace files (pidfds for `{pid, N}`), identified by [`NsKey`].
//! - [`executor`]: worker threads pinned to one set each, entered once,
//!   reused, retired when idle; bounded queues.
//! - [`helper`]: single-threaded helper processes for sets with a user
//!   namespace, which a multi-threaded process cannot enter; replaced when
//!   they stop answering.
//! - [`outbox`]: a helper's stdin, written without ever waiting (bounded
//!   queue, writer thread).
//! - [`held`]: network namespaces with no name, held open for their
//!   callers (`{held, Id}` targets).
//! - [`offered`]: `/proc/sys` files the workers opened inside their
//!   namespaces, read from the front end's thread without a hand-off.
//! - [`spin`]: one thread at a time may spin for its next request.
//!
//! Results leave through a [`Sink`] that the front end provides, so this
//! layer knows nothing of frames or distribution messages.

pub mod executor;
pub mod held;
pub mod helper;
pub mod names;
pub mod offered;
pub mod outbox;
pub mod resolver;
pub mod spin;
pub mod target;

pub use executor::Executor;
pub use helper::Helpers;
pub use resolver::Resolver;
pub use target::Target;

use crate::ops::Outcome;
use nix::sched::CloneFlags;
use std::os::fd::OwnedFd;

/// Where the results of requests go: port mode's writer, C-node mode's
/// router. Called from whichever thread produced the result.
pub trait Sink: Send + Sync + 'static {
    /// The result of request `id`.
    fn result(&self, id: u64, outcome: Outcome);
    /// Some of the reply messages of request `id`, sent ahead of its
    /// result while more are still to come; false when they were not
    /// sent, and must then come in the result. A front end whose requests
    /// get one reply each (a C-node's router, a namespace helper, whose
    /// replies its parent relays one per request) keeps this default.
    fn part(&self, _id: u64, _messages: &[Vec<u8>]) -> bool {
        false
    }
    /// A namespace helper's reply to request `id` (`0`: a notice of its own),
    /// as the helper wrote it.
    fn relay(&self, id: u64, frame: helper::Frame);
    /// Something the operator should hear of (a helper replaced), as a
    /// line of text.
    fn notice(&self, text: &str);
}

/// Identity of one namespace: `(CLONE_NEW* type, st_dev, st_ino)` of its nsfs file.
pub type NsId = (i32, u64, u64);

/// Identity of a namespace set, in entry order. Empty: the port's own.
pub type NsKey = Vec<NsId>;

/// One opened namespace file.
#[derive(Debug)]
pub struct NsFile {
    pub fd: OwnedFd,
    pub kind: CloneFlags,
    pub id: NsId,
}

/// An ordered set of namespaces to enter.
#[derive(Debug, Default)]
pub struct NsSet {
    pub members: Vec<NsFile>,
}

impl NsSet {
    /// The identity of this set.
    pub fn key(&self) -> NsKey {
        self.members.iter().map(|m| m.id).collect()
    }

    /// Whether the set has a user namespace (which only a single-threaded
    /// process can enter: see `helper`).
    pub fn has_user(&self) -> bool {
        self.members.iter().any(|m| m.kind == CloneFlags::CLONE_NEWUSER)
    }

    /// Whether entering this set changes the mount namespace (which needs
    /// `unshare(CLONE_FS)` on the thread first).
    pub fn has_mount(&self) -> bool {
        self.members.iter().any(|m| m.kind == CloneFlags::CLONE_NEWNS)
    }
}
