//! Worker threads pinned to namespace sets.
//!
//! `setns(2)` changes only the calling thread, so each namespace set gets a
//! thread of its own: it enters the set once (after `unshare(CLONE_FS)` when
//! the mount namespace changes), then serves every job for that set from a
//! bounded queue, and retires after an idle period (or earlier, when its
//! slot is needed for another set and it has nothing to do). A thread whose
//! entry failed part-way answers its jobs with the error and is discarded,
//! never reused. Requests for the port's own namespaces run on a worker
//! that enters nothing and takes no slot.
//!
//! A worker keeps its namespaces alive while it runs, so the `(dev, ino)`
//! key of a namespace it serves cannot be handed to a new namespace: a netns
//! deleted and created again under the same name always gets a new worker.

use super::offered::ReadCache;
use super::spin::SpinTurn;
use super::{NsKey, NsSet, Sink};
use crate::error::{OpError, Reason, Stage};
use crate::ops::{Ctx, Outcome};
use crate::stats::Stats;
use nix::sched::CloneFlags;
use std::collections::HashMap;
use std::os::fd::AsFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a worker runs: it gets the worker's context, returns the outcome.
pub type Work = Box<dyn FnOnce(&Ctx) -> Outcome + Send>;

/// A request waiting for its worker.
pub struct Job {
    pub id: u64,
    pub work: Work,
}

/// Limits and behaviour of the executor.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most worker threads alive at once.
    pub max_workers: usize,
    /// Most jobs queued on one worker.
    pub queue_len: usize,
    /// How long a worker waits for work before it retires.
    pub idle: Duration,
    /// Keep workers pinned and reuse them. Off: every job enters its
    /// namespaces on a fresh thread that ends with the job (the classic
    /// thread-per-call design, kept for comparison).
    pub cache: bool,
    /// How long a worker keeps looking for its next job after one before
    /// it sleeps, while jobs keep coming (one spinner at a time); zero: it
    /// sleeps at once.
    pub spin: Duration,
}

/// The default of [`Config::spin`] and of the port's own reader.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);

impl Default for Config {
    fn default() -> Self {
        Config {
            max_workers: 64,
            queue_len: 1024,
            idle: Duration::from_secs(10),
            cache: true,
            spin: DEFAULT_SPIN,
        }
    }
}

/// A worker in the map: its queue, and what eviction needs to know.
struct Slot {
    tx: SyncSender<Job>,
    /// Jobs queued on the worker or running there.
    inflight: Arc<AtomicUsize>,
    /// When it was last given a job.
    last_used: Instant,
    /// Tells this worker's entry from a later one for the same key.
    generation: u64,
}

struct Inner<S> {
    workers: Mutex<Workers>,
    sink: Arc<S>,
    cfg: Config,
    stats: Arc<Stats>,
    offered: ReadCache,
}

#[derive(Default)]
struct Workers {
    slots: HashMap<NsKey, Slot>,
    next_generation: u64,
}

/// The pool of namespace-pinned workers; results go to the sink `S`.
///
/// At most `max_workers` workers serve other namespaces than the port's
/// own (whose worker takes no slot). When all slots are taken, a new set
/// takes the slot of the idle worker used least recently, which leaves;
/// only when every worker has work queued or running is a new set refused
/// with `{busy, workers}`.
pub struct Executor<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Executor<S> {
    fn clone(&self) -> Self {
        Executor {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: Sink> Executor<S> {
    pub fn new(cfg: Config, sink: Arc<S>, stats: Arc<Stats>) -> Self {
        Executor {
            inner: Arc::new(Inner {
                workers: Mutex::new(Workers::default()),
                sink,
                cfg,
                stats,
                offered: ReadCache::default(),
            }),
        }
    }

    /// Whether a worker serves `key` (so `key` names live namespaces).
    pub fn serves(&self, key: &NsKey) -> bool {
        self.inner.cfg.cache && self.inner.lock().slots.contains_key(key)
    }

    /// Read `path` through a file the worker for `key` already opened
    /// inside its namespaces, on the calling thread; `None` when there is
    /// none (or it no longer reads), and the work must go to the worker.
    pub fn read_offered(&self, key: &NsKey, path: &[u8]) -> Option<Vec<u8>> {
        if !self.inner.cfg.cache {
            return None;
        }
        self.inner.offered.read(key, path)
    }

    /// The rtnetlink socket the worker for `key` made in its namespace for
    /// the front end, if there is one.
    pub fn netlink_offered(&self, key: &NsKey) -> Option<Arc<crate::ops::socket::Shared>> {
        if !self.inner.cfg.cache {
            return None;
        }
        self.inner.offered.netlink(key)
    }

    /// Stop offering the socket of `key` (it failed).
    pub fn drop_netlink_offered(&self, key: &NsKey) {
        self.inner.offered.drop_netlink(key);
    }

    /// Hand `job` to the worker already serving `key`, if there is one;
    /// otherwise give it back (the caller then resolves the target fully).
    pub fn submit_existing(&self, key: &NsKey, job: Job) -> Result<(), Job> {
        if !self.inner.cfg.cache {
            return Err(job);
        }
        let mut workers = self.inner.lock();
        let Some(slot) = workers.slots.get_mut(key) else {
            return Err(job);
        };
        match slot.give(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(job)) => {
                drop(workers);
                self.inner.reply(job.id, OpError::word(Stage::Busy, "queue").into());
                Ok(())
            }
            Err(TrySendError::Disconnected(job)) => Err(job),
        }
    }

    /// Run `job` in the namespaces of `set`, on the worker for that set
    /// (started if needed). Overload is answered with `{busy, queue}` or
    /// `{busy, workers}`.
    pub fn submit(&self, set: NsSet, job: Job) {
        if !self.inner.cfg.cache {
            return self.run_once(set, job);
        }
        let key = set.key();
        let mut workers = self.inner.lock();
        let job = match workers.slots.get_mut(&key) {
            Some(slot) => match slot.give(job) {
                Ok(()) => return,
                Err(TrySendError::Full(job)) => {
                    drop(workers);
                    return self.inner.reply(job.id, OpError::word(Stage::Busy, "queue").into());
                }
                // The worker is gone (it can only vanish by exiting); start anew.
                Err(TrySendError::Disconnected(job)) => {
                    workers.slots.remove(&key);
                    job
                }
            },
            None => job,
        };
        if !key.is_empty() && !workers.make_room(self.inner.cfg.max_workers) {
            drop(workers);
            return self.inner.reply(job.id, OpError::word(Stage::Busy, "workers").into());
        }
        let (tx, rx) = mpsc::sync_channel(self.inner.cfg.queue_len);
        let generation = workers.next_generation;
        workers.next_generation += 1;
        let mut slot = Slot {
            tx,
            inflight: Arc::new(AtomicUsize::new(0)),
            last_used: Instant::now(),
            generation,
        };
        let id = job.id;
        // A fresh channel with room for at least one job cannot refuse it.
        if slot.give(job).is_err() {
            drop(workers);
            return self.inner.reply(id, OpError::word(Stage::Busy, "queue").into());
        }
        let inner = Arc::clone(&self.inner);
        let spawned = std::thread::Builder::new().name("linx-worker".into()).spawn({
            let me = Some((key.clone(), generation, Arc::clone(&slot.inflight)));
            move || inner.run(me, set, rx)
        });
        match spawned {
            Ok(_) => {
                workers.slots.insert(key, slot);
                self.inner.stats.workers_started.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                drop(workers);
                let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EAGAIN));
                self.inner.reply(id, OpError::errno(Stage::Thread, errno).into());
            }
        }
    }

    /// The uncached path: a fresh thread enters, runs one job, and ends.
    fn run_once(&self, set: NsSet, job: Job) {
        let inner = Arc::clone(&self.inner);
        let alive = inner.stats.workers_alive.load(Ordering::Relaxed);
        if alive >= inner.cfg.max_workers as u64 {
            return inner.reply(job.id, OpError::word(Stage::Busy, "workers").into());
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let id = job.id;
        if tx.try_send(job).is_err() {
            return inner.reply(id, OpError::word(Stage::Busy, "queue").into());
        }
        drop(tx);
        let spawned = std::thread::Builder::new()
            .name("linx-once".into())
            .spawn(move || inner.run(None, set, rx));
        if let Err(e) = spawned {
            let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EAGAIN));
            self.inner.reply(id, OpError::errno(Stage::Thread, errno).into());
        }
    }

    /// How many workers are in the map (the port's own included).
    /// Send away the worker for `key`, whose namespaces are going away: it
    /// ends once the jobs already queued on it are done.
    pub fn retire(&self, key: &NsKey) {
        drop(self.inner.lock().slots.remove(key));
    }

    pub fn workers(&self) -> usize {
        self.inner.lock().slots.len()
    }
}

impl Slot {
    /// Queue a job on this worker.
    fn give(&mut self, job: Job) -> Result<(), TrySendError<Job>> {
        self.inflight.fetch_add(1, Ordering::AcqRel);
        match self.tx.try_send(job) {
            Ok(()) => {
                self.last_used = Instant::now();
                Ok(())
            }
            Err(e) => {
                self.inflight.fetch_sub(1, Ordering::AcqRel);
                Err(e)
            }
        }
    }
}

impl Workers {
    /// Make sure a new worker for another set than the port's own fits
    /// under `max`, sending away the idle worker used least recently if
    /// need be. `false` when every counted worker has work.
    fn make_room(&mut self, max: usize) -> bool {
        let counted = self.slots.keys().filter(|k| !k.is_empty()).count();
        if counted < max {
            return true;
        }
        let idlest = self
            .slots
            .iter()
            .filter(|(k, s)| !k.is_empty() && s.inflight.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, s)| s.last_used)
            .map(|(k, _)| k.clone());
        match idlest {
            // Dropping its sender ends the worker once its (empty) queue is read.
            Some(key) => self.slots.remove(&key).is_some(),
            None => false,
        }
    }
}

impl<S: Sink> Inner<S> {
    fn lock(&self) -> MutexGuard<'_, Workers> {
        // A poisoned map is still a consistent map: every update is one call.
        self.workers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reply(&self, id: u64, outcome: Outcome) {
        self.sink.result(id, outcome);
    }

    /// Leave the map, if the entry for `key` is still this worker's.
    fn forget(&self, workers: &mut Workers, key: &NsKey, generation: u64) {
        if workers.slots.get(key).is_some_and(|s| s.generation == generation) {
            workers.slots.remove(key);
        }
    }

    /// The body of a worker thread; `me` is its entry in the worker map
    /// (none for a one-shot thread): key, generation and in-flight count.
    fn run(&self, me: Option<(NsKey, u64, Arc<AtomicUsize>)>, set: NsSet, rx: Receiver<Job>) {
        self.stats.workers_alive.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = enter(set) {
            // Half-entered threads are never reused: leave the map, answer
            // everything queued, and end.
            if let Some((key, generation, _)) = &me {
                self.forget(&mut self.lock(), key, *generation);
            }
            while let Ok(job) = rx.try_recv() {
                self.reply(job.id, e.clone().into());
            }
            self.stats.workers_alive.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let ctx = Ctx::new();
        // Whether jobs keep coming: the last came within the spin time of
        // this worker running out of work, so the next is worth spinning for.
        let mut busy = false;
        loop {
            let waiting_since = Instant::now();
            let next = match self.spin_for(&rx, busy) {
                Some(job) => Ok(job),
                None => rx.recv_timeout(self.cfg.idle),
            };
            busy = waiting_since.elapsed() < self.cfg.spin;
            let job = match next {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    // Retire, unless a job slipped in: submit sends under the
                    // same lock, so an empty queue here stays empty.
                    let mut workers = self.lock();
                    match rx.try_recv() {
                        Ok(job) => job,
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => {
                            if let Some((key, generation, _)) = &me {
                                self.forget(&mut workers, key, *generation);
                            }
                            break;
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let id = job.id;
            let reply = match catch_unwind(AssertUnwindSafe(|| (job.work)(&ctx))) {
                Ok(reply) => reply,
                Err(panic) => Outcome::Error(OpError {
                    stage: Stage::Panic,
                    reason: Reason::Text(panic_message(&panic)),
                }),
            };
            // Done before the reply leaves: a caller that saw its reply
            // finds this worker idle.
            if let Some((key, generation, inflight)) = &me {
                let opened = ctx.take_opened();
                if !opened.is_empty() {
                    self.offered.offer(key, *generation, opened);
                }
                if let Some(fd) = ctx.take_offered_netlink() {
                    self.offered.offer_netlink(key, *generation, fd);
                }
                inflight.fetch_sub(1, Ordering::AcqRel);
            }
            self.reply(id, reply);
        }
        if let Some((key, generation, _)) = &me {
            // Before the thread (which keeps the namespaces alive) ends.
            self.offered.forget(key, *generation);
        }
        self.stats.workers_alive.fetch_sub(1, Ordering::Relaxed);
    }

    /// Look for the next job for up to the spin time, while jobs keep
    /// coming (`busy`) and no other thread of the process spins: a job that
    /// comes soon after the last one then needs no wake-up.
    fn spin_for(&self, rx: &Receiver<Job>, busy: bool) -> Option<Job> {
        if self.cfg.spin.is_zero() || !busy {
            return None;
        }
        let turn = SpinTurn::take()?;
        let deadline = Instant::now() + self.cfg.spin;
        let job = loop {
            match rx.try_recv() {
                Ok(job) => break Some(job),
                Err(TryRecvError::Disconnected) => break None,
                Err(TryRecvError::Empty) if !turn.held() || Instant::now() >= deadline => break None,
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
            }
        };
        // The reader may have taken the turn: it is then its to give back.
        if turn.held() {
            drop(turn);
        } else {
            std::mem::forget(turn);
        }
        job
    }
}

/// Enter every namespace of the set, in order, on the calling thread.
fn enter(set: NsSet) -> Result<(), OpError> {
    if set.has_mount() {
        nix::sched::unshare(CloneFlags::CLONE_FS).map_err(|e| OpError::errno(Stage::Unshare, e))?;
    }
    for m in &set.members {
        nix::sched::setns(m.fd.as_fd(), m.kind).map_err(|e| OpError::errno(Stage::Setns, e))?;
    }
    Ok(())
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

#[cfg(test)]
#[path = "executor_tests.rs"]
mod tests;
