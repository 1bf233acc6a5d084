//! Namespace helpers: single-threaded child processes for targets that
//! include a user namespace.
//!
//! `setns(2)` into a user namespace fails with `EINVAL` in a multi-threaded
//! process, so the port cannot enter one on a worker thread. For such a
//! target the port starts its own program again (`/proc/self/exe
//! --ns-helper`), handing it the open namespace files as descriptors 3, 4,
//! ... and one end of a `SOCK_SEQPACKET` pair as its fd channel. The helper
//! enters the namespaces while it still has one thread, then serves the
//! same protocol on its stdin and stdout with every target meaning "here".
//! The port forwards the request frames unchanged, relays the helper's
//! replies and the descriptors it sends, and answers the requests of a
//! helper that died with the reason it gave (its exit status is the errno
//! of the `setns` that failed). One helper serves one namespace set and
//! leaves when it has been idle for the executor's idle time. Helpers are
//! held to the executor's worker limit: when all slots are taken, the idle
//! helper used least recently leaves for a new set, and only when every
//! helper has requests in flight is a new set refused with `{busy, helpers}`.
//!
//! A helper never holds up anyone but its own callers:
//! - requests reach its stdin through an [`Outbox`]: written at once when
//!   the pipe takes them, queued (boundedly) when it does not, and refused
//!   with `{busy, helper}` when the queue is full; the front end's thread
//!   never waits on a helper's pipe;
//! - a helper with requests in flight that has sent nothing for the
//!   liveness time is sent a ping; when that gets no answer within the
//!   liveness time either, the helper is killed (`SIGKILL`) and forgotten,
//!   its waiting requests are answered `{thread, hung}`, and the next
//!   request for its set starts a new one.
//!
//! This file is the port's side; the helper's own, entering the namespaces
//! it is handed ([`enter_from_args`]), is in `helper/enter.rs`.

mod enter;

pub use enter::{enter_from_args, Entered};

use super::outbox::{Outbox, Refused, QUEUE_BYTES};
use super::{NsKey, NsSet, Sink};
use crate::error::{OpError, Stage};
use crate::frame::{framed, read_header};
use crate::ops::fdchan::FdChan;
use crate::stats::Stats;
use crate::sys;
use nix::errno::Errno;
use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The first descriptor number namespace files are given in the helper.
const FIRST_NS_FD: i32 = 3;
/// The id of the liveness probe sent to a helper, `{Id, {ping, liveness}}`:
/// far above any id a front end hands out (they count up from 1), so its
/// answer is told from a request's.
const PING_ID: u64 = u64::MAX;

/// A helper's reply as it wrote it: the body of a `{packet,4}` frame that
/// holds `{Id, Result}`, passed on without decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(pub Vec<u8>);

impl Frame {
    /// The request id of a `{Id, Result}` frame, read from its first bytes:
    /// version 131, a 2-tuple (104, 2), then the id as a small integer
    /// (97), an integer (98) or a small bignum (110) of at most 8 bytes.
    pub fn id(&self) -> Option<u64> {
        match self.0.as_slice() {
            [131, 104, 2, 97, n, ..] => Some(u64::from(*n)),
            [131, 104, 2, 98, a, b, c, d, ..] => u64::try_from(i32::from_be_bytes([*a, *b, *c, *d])).ok(),
            [131, 104, 2, 110, n, 0, rest @ ..] if *n as usize <= 8 && rest.len() >= *n as usize => Some(
                rest[..*n as usize]
                    .iter()
                    .rev()
                    .fold(0, |acc, b| acc << 8 | u64::from(*b)),
            ),
            _ => None,
        }
    }
}

struct Helper {
    /// Its stdin.
    outbox: Arc<Outbox>,
    pending: Mutex<HashSet<u64>>,
    last_used: Mutex<Instant>,
    live: Mutex<Live>,
    /// The process, until its reader reaps it (killing it before then can
    /// never hit another process that got its pid).
    child: Mutex<Option<Child>>,
}

/// The default of [`Limits::liveness`] (`--liveness-ms`).
pub const DEFAULT_LIVENESS: Duration = Duration::from_secs(3);

/// What the liveness check knows of a helper.
struct Live {
    /// When it last sent anything, or got work while it had none.
    heard: Instant,
    /// When the unanswered ping left, if one did.
    pinged: Option<Instant>,
    /// It was killed for not answering for this long.
    hung: Option<Duration>,
}

/// Limits of a port's helpers.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A helper leaves after this long without work.
    pub idle: Duration,
    /// Most helpers alive at once (the executor's worker limit).
    pub max: usize,
    /// How long a busy helper may stay silent before it is pinged, and
    /// then how long the ping may go unanswered before it is replaced.
    pub liveness: Duration,
}

/// The helpers of one port, by namespace set; replies go to the sink `S`.
pub struct Helpers<S> {
    map: Arc<Mutex<HashMap<NsKey, Arc<Helper>>>>,
    sink: Arc<S>,
    fdchan: Option<Arc<FdChan>>,
    stats: Arc<Stats>,
    limits: Limits,
}

impl<S> Clone for Helpers<S> {
    fn clone(&self) -> Self {
        Helpers {
            map: Arc::clone(&self.map),
            sink: Arc::clone(&self.sink),
            fdchan: self.fdchan.clone(),
            stats: Arc::clone(&self.stats),
            limits: self.limits,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn thread_err(e: std::io::Error) -> OpError {
    OpError::errno(Stage::Thread, Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

impl<S: Sink> Helpers<S> {
    /// Helpers held to `limits`; replies go to `sink`.
    pub fn new(sink: Arc<S>, fdchan: Option<Arc<FdChan>>, stats: Arc<Stats>, limits: Limits) -> Self {
        let helpers = Helpers {
            map: Arc::new(Mutex::new(HashMap::new())),
            sink,
            fdchan,
            stats,
            limits,
        };
        let watch = helpers.clone();
        let _ = std::thread::Builder::new()
            .name("linx-helper-watch".into())
            .spawn(move || watch.watch());
        helpers
    }

    /// Forward one request, as the frame body `{Id, Op}`, to the helper for
    /// `set` (started if need be).
    pub fn submit(&self, set: NsSet, id: u64, frame: &[u8]) {
        let key = set.key();
        let helper = {
            let mut map = lock(&self.map);
            match map.get(&key).cloned() {
                Some(h) => h,
                None if !make_room(&mut map, self.limits.max) => {
                    drop(map);
                    return self.sink.result(id, OpError::word(Stage::Busy, "helpers").into());
                }
                None => match self.spawn(&key, set) {
                    Ok(h) => {
                        map.insert(key.clone(), Arc::clone(&h));
                        h
                    }
                    Err(e) => {
                        drop(map);
                        return self.sink.result(id, e.into());
                    }
                },
            }
        };
        let now = Instant::now();
        *lock(&helper.last_used) = now;
        let was_idle = {
            let mut pending = lock(&helper.pending);
            let was_idle = pending.is_empty();
            pending.insert(id);
            was_idle
        };
        if was_idle {
            // Its silence counts from now: it had nothing to say before.
            lock(&helper.live).heard = now;
        }
        let refused = match helper.outbox.send(framed(frame), true) {
            Ok(()) => return,
            Err(Refused::Full) => OpError::word(Stage::Busy, "helper"),
            // The helper is gone; its reader answers what it had.
            Err(Refused::Closed) => OpError::errno(Stage::Thread, Errno::EPIPE),
        };
        // Never sent: nobody else can answer it.
        if lock(&helper.pending).remove(&id) {
            self.sink.result(id, refused.into());
        }
    }

    /// Start a helper for `set`, with its reader and fd relay threads.
    fn spawn(&self, key: &NsKey, set: NsSet) -> Result<Arc<Helper>, OpError> {
        let (ours, theirs) = nix::sys::socket::socketpair(
            nix::sys::socket::AddressFamily::Unix,
            nix::sys::socket::SockType::SeqPacket,
            None,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| OpError::errno(Stage::Thread, e))?;
        let mut cmd = Command::new("/proc/self/exe");
        cmd.arg("--ns-helper");
        let mut fds: Vec<i32> = Vec::new();
        for (i, m) in set.members.iter().enumerate() {
            cmd.arg(format!("{}:{}", FIRST_NS_FD + i as i32, m.kind.bits()));
            fds.push(m.fd.as_raw_fd());
        }
        let chan_fd = FIRST_NS_FD + fds.len() as i32;
        cmd.arg(format!("chan:{chan_fd}"));
        // Its parent-death signal follows the thread that starts it: only
        // the first thread's end is the program's. Port mode's reader and
        // the C-node's runtime both run on the first thread.
        if sys::on_main_thread() {
            cmd.arg(format!("parent:{}", std::process::id()));
        }
        fds.push(theirs.as_raw_fd());
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        sys::place_fds(&mut cmd, fds, FIRST_NS_FD);
        let mut child = cmd.spawn().map_err(thread_err)?;
        drop(theirs);
        drop(set);
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(OpError::errno(Stage::Thread, Errno::EPIPE));
        };
        let outbox = match Outbox::start(stdin, QUEUE_BYTES) {
            Ok(outbox) => outbox,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(thread_err(e));
            }
        };
        let helper = Arc::new(Helper {
            outbox,
            pending: Mutex::new(HashSet::new()),
            last_used: Mutex::new(Instant::now()),
            live: Mutex::new(Live {
                heard: Instant::now(),
                pinged: None,
                hung: None,
            }),
            child: Mutex::new(Some(child)),
        });
        self.stats.helpers_alive.fetch_add(1, Ordering::Relaxed);
        self.stats.helpers_started.fetch_add(1, Ordering::Relaxed);
        let relay = self.clone();
        std::thread::Builder::new()
            .name("linx-helper-fds".into())
            .spawn(move || relay.relay_fds(ours))
            .map_err(thread_err)?;
        let reader = (self.clone(), key.clone(), Arc::clone(&helper));
        std::thread::Builder::new()
            .name("linx-helper-out".into())
            .spawn(move || {
                let (helpers, key, helper) = reader;
                helpers.read_replies(stdout, &helper);
                helpers.helper_ended(&key, &helper);
            })
            .map_err(thread_err)?;
        Ok(helper)
    }

    /// Pass the helper's replies on, as they are. Its first frame is its
    /// ready frame, which is for us; later id-0 frames are its log lines.
    fn read_replies(&self, stdout: ChildStdout, helper: &Helper) {
        let mut stdout = BufReader::new(stdout);
        let mut first = true;
        while let Some(frame) = read_helper_frame(&mut stdout) {
            {
                let mut live = lock(&helper.live);
                live.heard = Instant::now();
                live.pinged = None;
            }
            if std::mem::take(&mut first) {
                continue;
            }
            let Some(id) = frame.id() else { continue };
            if id == PING_ID {
                continue;
            }
            if id == 0 || lock(&helper.pending).remove(&id) {
                self.sink.relay(id, frame);
            }
        }
    }

    /// The helper's stdout closed: answer what it left, and forget it.
    fn helper_ended(&self, key: &NsKey, helper: &Arc<Helper>) {
        {
            let mut map = lock(&self.map);
            if map.get(key).is_some_and(|h| Arc::ptr_eq(h, helper)) {
                map.remove(key);
            }
        }
        helper.outbox.close();
        let child = lock(&helper.child).take();
        let status = child.and_then(|mut c| c.wait().ok()).and_then(|s| s.code());
        let error = match (lock(&helper.live).hung, status) {
            (Some(_), _) => OpError::word(Stage::Thread, "hung"),
            (None, Some(code)) if code > 0 && code < 256 => OpError::errno(Stage::Setns, Errno::from_raw(code)),
            _ => OpError::errno(Stage::Thread, Errno::ECHILD),
        };
        let pending: Vec<u64> = lock(&helper.pending).drain().collect();
        for id in pending {
            self.sink.result(id, error.clone().into());
        }
        self.stats.helpers_alive.fetch_sub(1, Ordering::Relaxed);
    }

    /// Pass on every descriptor the helper sends, with its request id.
    fn relay_fds(&self, sock: OwnedFd) {
        loop {
            let mut payload = [0u8; 8];
            let (n, fd) = match sys::recv_fd(sock.as_fd(), &mut payload) {
                Ok((0, _)) | Err(_) => return,
                Ok(got) => got,
            };
            let Some(fd) = fd.filter(|_| n == payload.len()) else {
                continue;
            };
            if let Some(chan) = &self.fdchan {
                // The reply that follows says whether the BEAM got it.
                let _ = chan.send(u64::from_be_bytes(payload), fd.as_fd());
            }
        }
    }

    /// Every tick: close the stdin of helpers idle for longer than the
    /// idle time (each then ends on its own), ping busy helpers that have
    /// been silent for the liveness time, and replace those whose ping
    /// went unanswered as long.
    fn watch(&self) {
        let limits = self.limits;
        let tick = limits
            .idle
            .min(limits.liveness / 4)
            .min(Duration::from_secs(1))
            .max(Duration::from_millis(10));
        loop {
            std::thread::sleep(tick);
            let mut hung = Vec::new();
            let mut map = lock(&self.map);
            for (key, helper) in map.iter() {
                if lock(&helper.pending).is_empty() {
                    if lock(&helper.last_used).elapsed() >= limits.idle {
                        helper.outbox.close();
                    }
                    continue;
                }
                let mut live = lock(&helper.live);
                match live.pinged {
                    None if live.heard.elapsed() >= limits.liveness => {
                        live.pinged = Some(Instant::now());
                        // Queued behind what waits: unanswered too if the
                        // helper does not read.
                        let _ = helper.outbox.send(ping_frame(), false);
                    }
                    Some(at) if at.elapsed() >= limits.liveness => {
                        live.hung = Some(live.heard.elapsed());
                        hung.push(key.clone());
                    }
                    _ => {}
                }
            }
            let hung: Vec<Arc<Helper>> = hung.iter().filter_map(|key| map.remove(key)).collect();
            // Not under the map's lock: the notice is written to the front end.
            drop(map);
            for helper in hung {
                self.replace(&helper);
            }
        }
    }

    /// Kill a helper that stopped answering; its reader then answers what
    /// it had with `{thread, hung}`. Already out of the map: the next
    /// request for its set starts a new helper.
    fn replace(&self, helper: &Helper) {
        let silent = lock(&helper.live).hung.unwrap_or_default();
        let waiting = lock(&helper.pending).len();
        let pid = match lock(&helper.child).as_mut() {
            Some(child) => {
                let _ = child.kill();
                child.id()
            }
            None => 0,
        };
        helper.outbox.close();
        self.stats.helpers_hung.fetch_add(1, Ordering::Relaxed);
        self.sink.notice(&format!(
            "namespace helper {pid} answered nothing for {} ms, not even a ping; \
             killed it, {} request(s) failed",
            silent.as_millis(),
            waiting
        ));
    }
}

/// The liveness probe `{PING_ID, {ping, liveness}}`, as a frame.
fn ping_frame() -> Vec<u8> {
    let op = eetf::Tuple::from(vec![
        eetf::Term::from(eetf::Atom::from("ping")),
        eetf::Term::from(eetf::Atom::from("liveness")),
    ]);
    let req = eetf::Tuple::from(vec![
        eetf::Term::from(eetf::BigInteger::from(PING_ID)),
        eetf::Term::from(op),
    ]);
    let mut body = Vec::new();
    // Encoding a tuple of an integer and atoms into a Vec cannot fail.
    let _ = eetf::Term::from(req).encode(&mut body);
    framed(&body)
}

/// Make room for one more helper under `max`, sending away the idle one
/// used least recently if need be (closing its stdin ends it). `false`
/// when every helper has requests in flight.
fn make_room(map: &mut HashMap<NsKey, Arc<Helper>>, max: usize) -> bool {
    if map.len() < max {
        return true;
    }
    let idlest = map
        .iter()
        .filter(|(_, h)| lock(&h.pending).is_empty())
        .min_by_key(|(_, h)| *lock(&h.last_used))
        .map(|(k, _)| k.clone());
    let Some(key) = idlest else { return false };
    if let Some(helper) = map.remove(&key) {
        helper.outbox.close();
    }
    true
}

/// One `{packet,4}` frame from a helper; `None` at the end of its output
/// or on a frame beyond a port's own limit (a helper never sends one).
fn read_helper_frame<R: Read>(r: &mut R) -> Option<Frame> {
    let len = read_header(r).ok()?;
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Frame(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_ids_are_read_from_the_frame_head() {
        for id in [0u64, 1, 255, 256, 70_000, i32::MAX as u64, 1 << 40, u64::MAX] {
            // As the helper's own encoder writes it: a fixnum while it fits.
            let id_term = match i32::try_from(id) {
                Ok(small) => eetf::Term::from(eetf::FixInteger::from(small)),
                Err(_) => eetf::Term::from(eetf::BigInteger::from(id)),
            };
            let reply = eetf::Tuple::from(vec![id_term, eetf::Term::from(eetf::Atom::from("ok"))]);
            let mut body = Vec::new();
            eetf::Term::from(reply).encode(&mut body).unwrap();
            assert_eq!(Frame(body).id(), Some(id), "{id}");
        }
        assert_eq!(Frame(vec![131, 106]).id(), None);
        assert_eq!(Frame(vec![131, 104, 2, 98, 255, 255, 255, 255]).id(), None);
    }
}
