//! From a typed request to its outcome: checks the policy, answers what
//! needs no namespace at once, resolves the target, and hands the work to
//! the worker pinned to the target's namespaces (or, for a set with a user
//! namespace, to a namespace helper). Every outcome leaves through the
//! front end's [`Sink`], from whichever thread produced it, with the
//! request's id; replies may leave in any order.

mod nl;
pub mod policy;
pub mod request;

pub use policy::Policy;
pub use request::{BatchOp, NetnsOp, NlMsg, Op, Patch, Request, MAX_BATCH, MAX_NS_FDS};

use crate::error::{OpError, Stage};
use crate::ns::executor::{Job, Work};
use crate::ns::resolver::identify;
use crate::ns::{Executor, Helpers, NsKey, Resolver, Sink, Target};
use crate::ops::fdchan::{FdChan, PerRequest};
use crate::ops::{apply, netns, socket, sysctl, Ctx, Outcome};
use crate::stats::Stats;
use nix::errno::Errno;
use nix::sched::CloneFlags;
use nl::{netlink_batch, with_ns_fds};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The version reported in the ready frame and by the `version` op.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Routes requests; shared by the front end's threads.
pub struct Dispatcher<S> {
    resolver: Resolver,
    executor: Executor<S>,
    stats: Arc<Stats>,
    sink: Arc<S>,
    fdchan: Option<Arc<FdChan>>,
    policy: Policy,
    helpers: Option<Helpers<S>>,
    per_request: Option<PerRequest>,
}

/// What a dispatcher is built from.
pub struct Parts<S> {
    pub resolver: Resolver,
    pub executor: Executor<S>,
    pub stats: Arc<Stats>,
    pub sink: Arc<S>,
    /// Where descriptors go (port mode's channel).
    pub fdchan: Option<Arc<FdChan>>,
    pub policy: Policy,
    /// Namespace helpers; none inside a helper, which starts none.
    pub helpers: Option<Helpers<S>>,
}

impl<S: Sink> Dispatcher<S> {
    pub fn new(parts: Parts<S>) -> Self {
        Dispatcher {
            resolver: parts.resolver,
            executor: parts.executor,
            stats: parts.stats,
            sink: parts.sink,
            fdchan: parts.fdchan,
            policy: parts.policy,
            helpers: parts.helpers,
            per_request: None,
        }
    }

    /// Send descriptors to the channel registered for their request in
    /// `chans` when there is one (C-node mode: each caller brings its own).
    pub fn with_per_request_fdchans(mut self, chans: PerRequest) -> Self {
        self.per_request = Some(chans);
        self
    }

    /// Serve one request. A namespace helper speaks the port protocol, so a
    /// request bound for one is sent as the frame body `{Id, Op}` that
    /// `frame` gives: the bytes it arrived as (port mode), or encoded when
    /// needed (C-node mode).
    pub fn handle<F>(&self, req: Request, frame: F)
    where
        F: FnOnce(&Request) -> Vec<u8>,
    {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.policy.check(&req.op) {
            return self.answer(req.id, e.into());
        }
        match &req.op {
            Op::Version => return self.answer(req.id, Outcome::Value(VERSION.as_bytes().to_vec())),
            Op::Stats => return self.answer(req.id, Outcome::Counters(self.stats.snapshot())),
            Op::Ping(_) => {
                let Op::Ping(t) = req.op else { return };
                return self.answer(req.id, Outcome::Echo(t));
            }
            Op::Netns(_) => {
                let Op::Netns(op) = req.op else { return };
                return self.answer(req.id, self.netns(op));
            }
            Op::NetlinkBindFd { fd, groups } => return self.answer(req.id, self.bind_in_node(*fd, *groups)),
            _ => {}
        }
        if let Err(e) = check_paths(&req.op) {
            return self.answer(req.id, e.into());
        }
        let Some(target) = req.op.target().cloned() else {
            return;
        };
        let net_only = req.op.net_only();
        // A worker already serving the target is found by what its name
        // names (see `ns::names`: a `stat` only after a change; a key no
        // worker serves is only a guess: the full resolution checks what
        // the file is).
        let known = self
            .resolver
            .quick_key(&target)
            .filter(|k| k.is_empty() || self.executor.serves(k));
        if let Some(key) = known {
            let guard = match self.admit(&req.op, &target, &key) {
                Ok(guard) => guard,
                Err(refused) => return self.answer(req.id, refused),
            };
            if let Some(outcome) = self.offered(&req.op, &key) {
                return self.answer(req.id, outcome);
            }
            if self.change_at_once(req.id, &req.op, &key) {
                return;
            }
            // A read or write in the port's own namespaces is served on the
            // calling thread (which never enters another): no hand-off.
            let here = key.is_empty() && matches!(req.op, Op::SysctlRead { .. } | Op::SysctlWrite { .. });
            let job = self.job(req.id, req.op, guard);
            if here {
                let outcome = OWN.with(|ctx| {
                    let outcome = (job.work)(ctx);
                    // This thread's files are not offered to anyone.
                    drop(ctx.take_opened());
                    outcome
                });
                return self.answer(job.id, outcome);
            }
            if let Err(job) = self.executor.submit_existing(&key, job) {
                // No such worker (yet, or any more): resolve fully.
                self.resolve_and_submit(&target, net_only, Pending::<F>::Job(job));
            }
            return;
        }
        self.resolve_and_submit(&target, net_only, Pending::Request(req, frame))
    }

    /// Make, remove, list or hold network namespaces, here: in the port's
    /// own namespaces (a new one is made on a thread of its own).
    fn netns(&self, op: NetnsOp) -> Outcome {
        let dir = self.resolver.netns_dir();
        match op {
            NetnsOp::Add { name, lo_up } => netns::add(dir, &name, lo_up).map(|()| Outcome::Ok).into(),
            NetnsOp::Delete { name } => netns::delete(dir, &name).map(|()| Outcome::Ok).into(),
            NetnsOp::List => netns::list(dir).map(Outcome::Names).into(),
            NetnsOp::Identify { pid } => netns::identify(dir, pid).map(Outcome::Names).into(),
            NetnsOp::New { lo_up } => {
                let made = netns::new_anonymous(lo_up).and_then(|fd| {
                    let ns = identify(&fd).map_err(|e| OpError::errno(Stage::OpenNs, e))?;
                    let held = self.resolver.held().insert(fd, ns);
                    held.ok_or(OpError::word(Stage::Busy, "held"))
                });
                made.map(Outcome::Handle).into()
            }
            NetnsOp::Release { id } => match self.resolver.held().release(id) {
                Some(ns) => {
                    // A worker inside would keep the namespace alive.
                    self.executor.retire(&vec![ns]);
                    Outcome::Ok
                }
                None => OpError::errno(Stage::OpenNs, Errno::ENOENT).into(),
            },
        }
    }

    /// Bind a netlink socket of the node's (see [`socket::bind_in_node`]):
    /// the node is the process at the other end of the fd channel, so a
    /// front end without one (C-node mode) cannot do it (`{bind, eopnotsupp}`).
    fn bind_in_node(&self, fd: i32, groups: u32) -> Outcome {
        let Some(chan) = &self.fdchan else {
            return OpError::errno(Stage::Bind, Errno::EOPNOTSUPP).into();
        };
        chan.peer_pid()
            .map_err(|e| OpError::errno(Stage::Bind, e))
            .and_then(|node| socket::bind_in_node(node, fd, groups))
            .map(|()| Outcome::Ok)
            .into()
    }

    /// A read through a file the worker for `key` already opened inside
    /// its namespaces, on the calling thread (no hand-off); `None`: the
    /// work goes to a worker.
    fn offered(&self, op: &Op, key: &NsKey) -> Option<Outcome> {
        match op {
            Op::SysctlRead { path, .. } if !key.is_empty() => self.executor.read_offered(key, path).map(Outcome::Value),
            _ => None,
        }
    }

    /// A single rtnetlink change sent here, on the socket the worker for
    /// `key` made for the front end, when it is free: the kernel does the
    /// work and answers within the send, so there is no hand-off to wake
    /// the worker for. Should the answer not be there at once, the worker
    /// waits for it. `false`: not such a request, or no such socket.
    fn change_at_once(&self, id: u64, op: &Op, key: &NsKey) -> bool {
        let Op::NetlinkCall {
            protocol,
            msg,
            ns_fds,
            strict,
            ..
        } = op
        else {
            return false;
        };
        if *protocol != libc::NETLINK_ROUTE || *strict || !ns_fds.is_empty() || key.is_empty() || !socket::at_once(msg)
        {
            return false;
        }
        let Some(shared) = self.executor.netlink_offered(key) else {
            return false;
        };
        let Some(fd) = shared.take() else {
            return false;
        };
        match socket::call_at_once(fd, msg) {
            Ok(Ok(replies)) => {
                shared.release();
                self.answer(id, Outcome::Messages(replies));
            }
            Ok(Err(owed)) => {
                let work: Work = Box::new(move |_: &Ctx| {
                    let replies = owed.finish(shared.held());
                    shared.release();
                    replies.map(Outcome::Messages).into()
                });
                if let Err(job) = self.executor.submit_existing(key, Job { id, work }) {
                    // The worker is gone: a thread of its own waits.
                    let sink = Arc::clone(&self.sink);
                    std::thread::spawn(move || sink.result(job.id, (job.work)(&Ctx::new())));
                }
            }
            Err(e) => {
                shared.release();
                self.executor.drop_netlink_offered(key);
                self.answer(id, e.into());
            }
        }
        true
    }

    /// What the namespaces a target resolved to (`key`) allow: a policy
    /// without `self` refuses every target that resolves to the port's own
    /// namespaces; a target that enters only a network namespace refuses
    /// writes outside `net/` (they would reach the port's own namespaces)
    /// unless it is `{host_keys, Target}`. `Ok(true)`: the work must check
    /// each write itself (a batch's write steps).
    fn admit(&self, op: &Op, target: &Target, key: &NsKey) -> Result<bool, Outcome> {
        self.policy
            .check_own(key.is_empty() && *target.place() != Target::Current)?;
        let net_only = !key.is_empty() && key.iter().all(|(kind, _, _)| *kind == CloneFlags::CLONE_NEWNET.bits());
        if !net_only || target.host_keys() {
            return Ok(false);
        }
        match op {
            Op::SysctlWrite { path, .. } => in_netns(path).map(|()| false).map_err(Outcome::from),
            Op::Apply { settings, .. } => match settings.iter().find(|(p, _)| in_netns(p).is_err()) {
                Some((path, _)) => Err(Outcome::ApplyFailed {
                    path: path.clone(),
                    error: not_in_target(),
                    rolled_back: Vec::new(),
                }),
                None => Ok(false),
            },
            Op::Batch { .. } => Ok(true),
            _ => Ok(false),
        }
    }

    /// Resolve the target here, in the port's own namespaces, and start
    /// the work on the worker for its set; a set with a user namespace
    /// goes to a namespace helper as a frame.
    fn resolve_and_submit<F>(&self, target: &Target, net_only: bool, pending: Pending<F>)
    where
        F: FnOnce(&Request) -> Vec<u8>,
    {
        let id = match &pending {
            Pending::Job(job) => job.id,
            Pending::Request(req, _) => req.id,
        };
        let set = if net_only {
            self.resolver.resolve_net(target)
        } else {
            self.resolver.resolve(target)
        };
        let set = match set {
            Ok(set) => set,
            Err(e) => return self.answer(id, e.into()),
        };
        let guard = match &pending {
            Pending::Request(req, _) => match self.admit(&req.op, target, &set.key()) {
                Ok(guard) => guard,
                Err(refused) => return self.answer(id, refused),
            },
            // Admitted on the quick path already.
            Pending::Job(_) => false,
        };
        match (pending, &self.helpers) {
            (Pending::Request(req, frame), Some(helpers)) if set.has_user() => helpers.submit(set, id, &frame(&req)),
            // Only a helper can enter a user namespace (and only targets
            // that can name one arrive here as requests).
            _ if set.has_user() => self.answer(id, OpError::errno(Stage::Setns, Errno::EINVAL).into()),
            (Pending::Request(req, _), _) => self.executor.submit(set, self.job(req.id, req.op, guard)),
            (Pending::Job(job), _) => self.executor.submit(set, job),
        }
    }

    /// The work of an op, to run on a worker inside its target; `guard`:
    /// the target enters only a network namespace, so a batch's writes
    /// must stay under `net/`.
    fn job(&self, id: u64, op: Op, guard: bool) -> Job {
        let work: Work = match op {
            Op::SysctlRead { path, .. } => Box::new(move |ctx: &Ctx| ctx.read_sysctl(&path).map(Outcome::Value).into()),
            Op::SysctlWrite { path, value, raw, .. } => in_proc_sys(move |root| {
                let written = if raw {
                    sysctl::write_raw(root, &path, &value)
                } else {
                    sysctl::write(root, &path, &value)
                };
                written.map(|()| Outcome::Ok)
            }),
            Op::SysctlList { path, keys, .. } => in_proc_sys(move |root| {
                sysctl::list(root, &path)
                    .map(|entries| Outcome::Entries(if keys { sysctl::key_form(entries) } else { entries }))
            }),
            Op::NetlinkOpen { protocol, groups, .. } => self.socket(id, move || socket::netlink(protocol, groups)),
            Op::SocketOpen {
                domain, ty, protocol, ..
            } => self.socket(id, move || socket::open(domain, ty, protocol)),
            Op::NetlinkCall {
                protocol,
                msg,
                ns_fds,
                part_bytes,
                strict,
                ..
            } => {
                // Resolved on the worker, which entered only the target's
                // network namespace: paths and pids mean what they mean
                // to the port, and the descriptors live in this process.
                let resolver = self.resolver.clone();
                let sink = Arc::clone(&self.sink);
                Box::new(move |ctx: &Ctx| {
                    with_ns_fds(&resolver, msg, &ns_fds)
                        .and_then(|(msg, _fds)| {
                            ctx.netlink_call(protocol, strict, &msg, part_bytes, |part| sink.part(id, part))
                        })
                        .map(Outcome::Messages)
                        .into()
                })
            }
            Op::NetlinkBatch {
                protocol, msgs, stop, ..
            } => {
                let resolver = self.resolver.clone();
                Box::new(move |ctx: &Ctx| netlink_batch(ctx, &resolver, protocol, msgs, stop))
            }
            Op::Apply { settings, .. } => Box::new(move |ctx: &Ctx| apply::apply(ctx, &settings)),
            Op::Batch { ops, .. } => {
                Box::new(move |ctx: &Ctx| apply::batch(ctx, &ops, |path| if guard { in_netns(path) } else { Ok(()) }))
            }
            // Answered before any job is made.
            Op::Version | Op::Stats | Op::Ping(_) | Op::Netns(_) | Op::NetlinkBindFd { .. } => {
                Box::new(|_: &Ctx| Outcome::Ok)
            }
        };
        Job { id, work }
    }

    /// Create a socket in the worker's network namespace, send it on the
    /// fd channel tagged with `id`, and close our copy.
    fn socket<F>(&self, id: u64, make: F) -> Work
    where
        F: FnOnce() -> Result<OwnedFd, OpError> + Send + 'static,
    {
        let own = self.per_request.as_ref().and_then(|chans| chans.take(id));
        let chan = own.or_else(|| self.fdchan.clone());
        Box::new(move |_: &Ctx| {
            let Some(chan) = chan else {
                return OpError::errno(Stage::SendFd, Errno::ENOTCONN).into();
            };
            match make() {
                // `fd` is closed when it goes out of scope, sent or not.
                Ok(fd) => match chan.send(id, fd.as_fd()) {
                    Ok(()) => Outcome::FdSent,
                    Err(e) => OpError::errno(Stage::SendFd, e).into(),
                },
                Err(e) => e.into(),
            }
        })
    }

    fn answer(&self, id: u64, outcome: Outcome) {
        self.sink.result(id, outcome);
    }
}

thread_local! {
    /// The state of the front end's own thread for the requests it serves
    /// itself, in the port's own namespaces (front-end threads never
    /// enter another).
    static OWN: Ctx = Ctx::new();
}

/// A request on its way to a worker or a helper.
enum Pending<F> {
    /// The work is built (a worker was expected; the target has no user namespace).
    Job(Job),
    /// The request as it came, with the way to make its frame.
    Request(Request, F),
}

/// Work that needs the worker's `/proc/sys`.
fn in_proc_sys<F>(f: F) -> Work
where
    F: FnOnce(BorrowedFd<'_>) -> Result<Outcome, OpError> + Send + 'static,
{
    Box::new(move |ctx: &Ctx| ctx.proc_sys().and_then(f).into())
}

/// `{write, not_in_target}`: a write outside `net/` through a target that
/// enters only a network namespace.
fn not_in_target() -> OpError {
    OpError::word(Stage::Write, "not_in_target")
}

/// Whether a path belongs to the network namespace.
fn in_netns(path: &[u8]) -> Result<(), OpError> {
    if path == b"net" || path.starts_with(b"net/") {
        Ok(())
    } else {
        Err(not_in_target())
    }
}

/// Check every sysctl path of an op before anything else is done for it.
fn check_paths(op: &Op) -> Result<(), OpError> {
    match op {
        Op::SysctlRead { path, .. } | Op::SysctlWrite { path, .. } => sysctl::check_path(path, false).map(drop),
        Op::SysctlList { path, .. } => sysctl::check_path(path, true).map(drop),
        Op::Apply { settings, .. } => settings
            .iter()
            .try_for_each(|(p, _)| sysctl::check_path(p, false).map(drop)),
        _ => Ok(()),
    }
}
