//! From a decoded request to a reply: answers what needs no namespace at
//! once, resolves targets, and hands namespace work to the executor.

use crate::codec::{self, BatchOp, Op, Reply, Request, Target};
use crate::error::{OpError, Stage};
use crate::executor::{Ctx, Executor, Job, Outbox, Work};
use crate::fdchan::{FdChan, PerRequest};
use crate::helper::Helpers;
use crate::ns::Resolver;
use crate::policy::Policy;
use crate::socket;
use crate::stats::Stats;
use crate::sysctl;
use nix::errno::Errno;
use std::os::fd::BorrowedFd;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The version reported in the ready frame and by the `version` op.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Routes requests; cheap to share between threads.
pub struct Dispatcher {
    resolver: Resolver,
    executor: Executor,
    stats: Arc<Stats>,
    out: Outbox,
    fdchan: Option<Arc<FdChan>>,
    policy: Policy,
    helpers: Option<Helpers>,
    per_request: Option<PerRequest>,
}

impl Dispatcher {
    pub fn new(
        resolver: Resolver,
        executor: Executor,
        stats: Arc<Stats>,
        out: Outbox,
        fdchan: Option<Arc<FdChan>>,
        policy: Policy,
        helpers: Option<Helpers>,
    ) -> Self {
        Dispatcher {
            resolver,
            executor,
            stats,
            out,
            fdchan,
            policy,
            helpers,
            per_request: None,
        }
    }

    /// Send descriptors to the channel registered for their request in
    /// `chans` when there is one (C-node mode: each caller brings its own).
    pub fn with_per_request_fdchans(mut self, chans: PerRequest) -> Self {
        self.per_request = Some(chans);
        self
    }

    /// Handle one frame body: decode it and serve it, or answer why not.
    pub fn handle_frame(&self, bytes: &[u8]) {
        match codec::decode_request(bytes) {
            Ok(req) => {
                // Only these targets can hold a user namespace; keep the
                // frame for a namespace helper.
                let fwd = matches!(req.op.target(), Some(Target::Pid(_) | Target::Ns(_))).then_some(bytes);
                self.serve(req, fwd)
            }
            Err(rejected) => {
                self.stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                self.reply(rejected.id, rejected.error.into());
            }
        }
    }

    /// Serve a decoded request. Targets with a user namespace need the
    /// request as a frame (see `handle_frame`) and are refused here.
    pub fn handle(&self, req: Request) {
        self.serve(req, None)
    }

    fn serve(&self, req: Request, fwd: Option<&[u8]>) {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let Request { id, op } = req;
        if let Err(e) = self.policy.check(&op) {
            return self.reply(id, e.into());
        }
        match op {
            Op::Version => self.reply(id, Reply::Value(VERSION.as_bytes().to_vec())),
            Op::Stats => self.reply(id, Reply::Counters(self.stats.snapshot())),
            Op::Ping(t) => self.reply(id, Reply::Term(t)),
            Op::SysctlRead { path, target } => {
                if let Err(e) = sysctl::check_path(&path, false) {
                    return self.reply(id, e.into());
                }
                let work = move |ctx: &Ctx| ctx.read_sysctl(&path).map(Reply::Value).unwrap_or_else(Reply::Error);
                self.in_target(id, &target, false, Box::new(work), fwd);
            }
            Op::SysctlWrite { path, value, target } => self.sysctl(id, path, false, &target, fwd, move |root, path| {
                sysctl::write(root, path, &value).map(|()| Reply::Ok)
            }),
            Op::SysctlList { path, target } => self.sysctl(id, path, true, &target, fwd, |root, path| {
                sysctl::list(root, path).map(Reply::Entries)
            }),
            Op::NetlinkOpen {
                protocol,
                groups,
                target,
            } => self.socket(id, &target, fwd, move || socket::netlink(protocol, groups)),
            Op::SocketOpen {
                domain,
                ty,
                protocol,
                target,
            } => self.socket(id, &target, fwd, move || socket::open(domain, ty, protocol)),
            Op::NetlinkCall { protocol, msg, target } => {
                let work = move |_: &Ctx| {
                    socket::netlink_call(protocol, &msg)
                        .map(Reply::Messages)
                        .unwrap_or_else(Reply::Error)
                };
                self.in_target(id, &target, true, Box::new(work), fwd);
            }
            Op::Apply { target, settings } => {
                if let Some(e) = settings.iter().find_map(|(p, _)| sysctl::check_path(p, false).err()) {
                    return self.reply(id, e.into());
                }
                let work = move |ctx: &Ctx| apply(ctx, &settings);
                self.in_target(id, &target, false, Box::new(work), fwd);
            }
            Op::Batch { target, ops } => {
                let work = move |ctx: &Ctx| Reply::Batch(ops.iter().map(|op| batch_step(ctx, op)).collect());
                self.in_target(id, &target, false, Box::new(work), fwd);
            }
        }
    }

    /// Check the path before anything else, then run `f` in the target with
    /// its `/proc/sys` and the path.
    fn sysctl<F>(&self, id: u64, path: Vec<u8>, allow_root: bool, target: &Target, fwd: Option<&[u8]>, f: F)
    where
        F: FnOnce(BorrowedFd<'_>, &[u8]) -> Result<Reply, OpError> + Send + 'static,
    {
        if let Err(e) = sysctl::check_path(&path, allow_root) {
            return self.reply(id, e.into());
        }
        let work = move |ctx: &Ctx| {
            let result = ctx.proc_sys().and_then(|root| f(root, &path));
            result.unwrap_or_else(Reply::Error)
        };
        self.in_target(id, target, false, Box::new(work), fwd);
    }

    /// Create a socket in the target's network namespace (and no other),
    /// send it on the fd channel tagged with `id`, close our copy, reply.
    fn socket<F>(&self, id: u64, target: &Target, fwd: Option<&[u8]>, make: F)
    where
        F: FnOnce() -> Result<OwnedFd, OpError> + Send + 'static,
    {
        let own = self.per_request.as_ref().and_then(|chans| chans.take(id));
        let chan = own.or_else(|| self.fdchan.clone());
        let work = move |_: &Ctx| {
            let Some(chan) = chan else {
                return OpError::errno(Stage::SendFd, Errno::ENOTCONN).into();
            };
            match make() {
                // `fd` is closed when it goes out of scope, sent or not.
                Ok(fd) => match chan.send(id, fd.as_fd()) {
                    Ok(()) => Reply::FdSent,
                    Err(e) => OpError::errno(Stage::SendFd, e).into(),
                },
                Err(e) => e.into(),
            }
        };
        self.in_target(id, target, true, Box::new(work), fwd);
    }

    /// Run `work` on the worker pinned to the target's namespaces (only its
    /// network namespace when `net_only`). A worker already serving the
    /// target is found with `stat` alone; otherwise the target is resolved
    /// here, in the port's own namespaces, and a worker started for it.
    ///
    /// A set with a user namespace goes to a namespace helper instead (a
    /// single-threaded process), as the request frame `fwd`.
    fn in_target(&self, id: u64, target: &Target, net_only: bool, work: Work, fwd: Option<&[u8]>) {
        let mut job = Job { id, work };
        if let Some(key) = self.resolver.quick_key(target, net_only) {
            match self.executor.submit_existing(&key, job) {
                Ok(()) => return,
                Err(back) => job = back,
            }
        }
        let set = if net_only {
            self.resolver.resolve_net(target)
        } else {
            self.resolver.resolve(target)
        };
        match set {
            Ok(set) if set.has_user() => match (fwd, &self.helpers) {
                (Some(frame), Some(helpers)) => helpers.submit(set, id, frame),
                _ => self.reply(id, OpError::errno(Stage::Setns, Errno::EINVAL).into()),
            },
            Ok(set) => self.executor.submit(set, job),
            Err(e) => self.reply(id, e.into()),
        }
    }

    fn reply(&self, id: u64, reply: Reply) {
        let _ = self.out.send((id, reply));
    }
}

/// One step of a batch; a step's failure is its own result, not the batch's.
fn batch_step(ctx: &Ctx, op: &BatchOp) -> Reply {
    let run = || -> Result<Reply, OpError> {
        let root = ctx.proc_sys()?;
        match op {
            BatchOp::Read(path) => ctx.read_sysctl(path).map(Reply::Value),
            BatchOp::Write(path, value) => sysctl::write(root, path, value).map(|()| Reply::Ok),
            BatchOp::List(path) => sysctl::list(root, path).map(Reply::Entries),
        }
    };
    run().unwrap_or_else(Reply::Error)
}

/// Read every old value, then write in order; on the first failure restore,
/// newest first, what was already written. One namespace visit, on one
/// worker, so no other request of this port interleaves.
fn apply(ctx: &Ctx, settings: &[(Vec<u8>, Vec<u8>)]) -> Reply {
    let root = match ctx.proc_sys() {
        Ok(root) => root,
        Err(e) => return e.into(),
    };
    let mut old = Vec::with_capacity(settings.len());
    for (path, _) in settings {
        match sysctl::read(root, path) {
            Ok(v) => old.push((path.clone(), v)),
            Err(error) => {
                return Reply::ApplyFailed {
                    path: path.clone(),
                    error,
                    rolled_back: Vec::new(),
                }
            }
        }
    }
    for (i, (path, value)) in settings.iter().enumerate() {
        if let Err(error) = sysctl::write(root, path, value) {
            let mut rolled_back = Vec::new();
            for (p, v) in old[..i].iter().rev() {
                let restore = v.strip_suffix(b"\n").unwrap_or(v);
                if sysctl::write(root, p, restore).is_ok() {
                    rolled_back.push(p.clone());
                }
            }
            return Reply::ApplyFailed {
                path: path.clone(),
                error,
                rolled_back,
            };
        }
    }
    Reply::Entries(old)
}
