//! The operations linx performs, as typed values, and what they produce.
//!
//! - [`sysctl`]: read, write and list under a `/proc/sys` descriptor with `openat2`.
//! - [`apply`]: batches and transactional writes, one namespace visit each.
//! - [`socket`]: netlink and other sockets created in the calling thread's network namespace.
//! - [`netns`]: network namespaces made, removed and listed as `ip netns` does.
//! - [`fdchan`]: the `SCM_RIGHTS` sender that hands descriptors to the BEAM.
//!
//! An op runs on a thread already inside its target's namespaces and
//! returns an [`Outcome`]; how an outcome is written (port frames, C-node
//! messages) is the business of `wire` and the front ends.

pub mod apply;
pub mod fdchan;
pub mod netns;
pub mod socket;
pub mod sysctl;

use crate::error::OpError;
use eetf::Term;
use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// One step of a batch, run in the batch's target.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOp {
    Read(Vec<u8>),
    Write(Vec<u8>, Vec<u8>),
    List(Vec<u8>),
}

/// What an op produced: a typed result, encoded by whoever answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `ok`
    Ok,
    /// `{ok, Binary}`
    Value(Vec<u8>),
    /// `{ok, [{Path, Value}]}`
    Entries(Vec<(Vec<u8>, Vec<u8>)>),
    /// `{ok, #{Key => Integer}}`
    Counters(Vec<(&'static str, u64)>),
    /// `{ok, Term}`: a ping's payload, as it came.
    Echo(Term),
    /// `{ok, [Binary]}`: netlink messages, one binary each.
    Messages(Vec<Vec<u8>>),
    /// `{ok, fd}`: the descriptor went out on the fd channel.
    FdSent,
    /// `{ok, [Binary]}`: names (of network namespaces).
    Names(Vec<String>),
    /// `{ok, Integer}`: the handle of a held namespace.
    Handle(u64),
    /// `{ok, [Result]}`: the results of a batch, in order.
    Batch(Vec<Outcome>),
    /// `{error, {apply_failed, Path, {Stage, Reason}, [RolledBack]}}`.
    ApplyFailed {
        path: Vec<u8>,
        error: OpError,
        rolled_back: Vec<Vec<u8>>,
    },
    /// `{error, {Stage, Reason}}`
    Error(OpError),
}

impl From<OpError> for Outcome {
    fn from(e: OpError) -> Self {
        Outcome::Error(e)
    }
}

impl<T: Into<Outcome>> From<Result<T, OpError>> for Outcome {
    fn from(r: Result<T, OpError>) -> Self {
        r.map_or_else(Outcome::Error, Into::into)
    }
}

impl Outcome {
    /// Whether this outcome reports a failure.
    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Error(_) | Outcome::ApplyFailed { .. })
    }
}

/// Most sysctl files a worker keeps open for reading again.
const READ_CACHE: usize = 256;

/// State a worker thread keeps for the ops it runs: `/proc/sys` as its
/// namespaces see it, and sysctl files already open. It belongs to one
/// thread (not `Sync`).
pub struct Ctx {
    root: std::cell::OnceCell<Result<OwnedFd, OpError>>,
    /// Sysctl files already opened for reading, by relative path.
    open_files: std::cell::RefCell<HashMap<Vec<u8>, Arc<OwnedFd>>>,
    /// Files opened since [`Ctx::take_opened`] was last called.
    opened: std::cell::RefCell<Vec<(Vec<u8>, Arc<OwnedFd>)>>,
    /// Netlink sockets kept for the calls this worker makes.
    netlink: std::cell::RefCell<socket::Kept>,
}

impl Ctx {
    /// Fresh state for a worker that has just entered its namespaces.
    pub fn new() -> Self {
        Ctx {
            root: std::cell::OnceCell::new(),
            open_files: std::cell::RefCell::new(HashMap::new()),
            opened: std::cell::RefCell::new(Vec::new()),
            netlink: std::cell::RefCell::new(socket::Kept::default()),
        }
    }

    /// The sysctl files opened for reading since the last call: a file
    /// opened inside a namespace reads that namespace's value from any
    /// thread, so the executor can offer them to the front end.
    pub fn take_opened(&self) -> Vec<(Vec<u8>, Arc<OwnedFd>)> {
        std::mem::take(&mut *self.opened.borrow_mut())
    }

    /// Read a sysctl, through a descriptor kept from an earlier read of the
    /// same path when there is one (a read through it that fails is retried
    /// on a fresh open, which gives the real answer).
    pub fn read_sysctl(&self, path: &[u8]) -> Result<Vec<u8>, OpError> {
        let mut files = self.open_files.borrow_mut();
        if let Some(fd) = files.get(path) {
            if let Ok(value) = sysctl::reread(fd.as_fd()) {
                return Ok(value);
            }
            files.remove(path);
        }
        let (fd, value) = sysctl::open_read(self.proc_sys()?, path)?;
        if files.len() >= READ_CACHE {
            files.clear();
        }
        let fd = Arc::new(fd);
        files.insert(path.to_vec(), Arc::clone(&fd));
        self.opened.borrow_mut().push((path.to_vec(), fd));
        Ok(value)
    }

    /// A netlink call ([`socket::netlink_call_parts`]) on the socket this
    /// worker keeps for `protocol` (with strict checking when `strict`).
    pub fn netlink_call<F>(
        &self,
        protocol: i32,
        strict: bool,
        msg: &[u8],
        part_bytes: usize,
        take_part: F,
    ) -> Result<Vec<Vec<u8>>, OpError>
    where
        F: FnMut(&[Vec<u8>]) -> bool,
    {
        self.netlink
            .borrow_mut()
            .call(protocol, strict, msg, part_bytes, take_part)
    }

    /// `run` on the socket this worker keeps for `protocol` (see
    /// [`socket::Kept::with`]).
    pub fn with_netlink<T>(&self, protocol: i32, run: impl FnOnce(BorrowedFd<'_>) -> (T, bool)) -> Result<T, OpError> {
        self.netlink.borrow_mut().with(protocol, run)
    }

    /// An rtnetlink socket this worker made in its namespace for the front
    /// end (see [`socket::call_at_once`]), once.
    pub fn take_offered_netlink(&self) -> Option<OwnedFd> {
        self.netlink.borrow_mut().take_offer()
    }

    /// `/proc/sys` as seen from this worker's namespaces, opened on first use.
    pub fn proc_sys(&self) -> Result<BorrowedFd<'_>, OpError> {
        match self.root.get_or_init(sysctl::open_root) {
            Ok(fd) => Ok(fd.as_fd()),
            Err(e) => Err(e.clone()),
        }
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Self::new()
    }
}
