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
//! leaves when it has been idle for the executor's idle time.

use crate::codec::{self, FrameError, Reply};
use crate::error::{OpError, Stage};
use crate::executor::Outbox;
use crate::fdchan::FdChan;
use crate::ns::{NsKey, NsSet};
use crate::stats::Stats;
use eetf::Term;
use nix::errno::Errno;
use nix::sched::CloneFlags;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The first descriptor number namespace files are given in the helper.
const FIRST_NS_FD: i32 = 3;

struct Helper {
    stdin: Mutex<Option<ChildStdin>>,
    pending: Mutex<HashSet<u64>>,
    last_used: Mutex<Instant>,
}

/// The helpers of one port, by namespace set.
#[derive(Clone)]
pub struct Helpers {
    map: Arc<Mutex<HashMap<NsKey, Arc<Helper>>>>,
    out: Outbox,
    fdchan: Option<Arc<FdChan>>,
    stats: Arc<Stats>,
    idle: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Helpers {
    pub fn new(out: Outbox, fdchan: Option<Arc<FdChan>>, stats: Arc<Stats>, idle: Duration) -> Self {
        let helpers = Helpers {
            map: Arc::new(Mutex::new(HashMap::new())),
            out,
            fdchan,
            stats,
            idle,
        };
        let reaper = helpers.clone();
        let _ = std::thread::Builder::new()
            .name("linx-helper-reaper".into())
            .spawn(move || reaper.reap());
        helpers
    }

    /// Forward one request frame to the helper for `set` (started if need be).
    pub fn submit(&self, set: NsSet, id: u64, frame: &[u8]) {
        let key = set.key();
        let helper = {
            let mut map = lock(&self.map);
            match map.get(&key) {
                Some(h) => Arc::clone(h),
                None => match self.spawn(&key, set) {
                    Ok(h) => {
                        map.insert(key.clone(), Arc::clone(&h));
                        h
                    }
                    Err(e) => {
                        drop(map);
                        return self.reply(id, e.into());
                    }
                },
            }
        };
        *lock(&helper.last_used) = Instant::now();
        lock(&helper.pending).insert(id);
        let mut out = Vec::with_capacity(frame.len() + 4);
        codec::encode_frame(frame, &mut out);
        let sent = match lock(&helper.stdin).as_mut() {
            Some(stdin) => stdin.write_all(&out).and_then(|()| stdin.flush()).is_ok(),
            None => false,
        };
        if !sent && lock(&helper.pending).remove(&id) {
            // The helper is gone; its reader answers what it had.
            self.reply(id, OpError::errno(Stage::Thread, Errno::EPIPE).into());
        }
    }

    fn reply(&self, id: u64, reply: Reply) {
        let _ = self.out.send((id, reply));
    }

    /// Start a helper for `set`, with its reader and fd relay threads.
    fn spawn(&self, key: &NsKey, set: NsSet) -> Result<Arc<Helper>, OpError> {
        let thread_err =
            |e: std::io::Error| OpError::errno(Stage::Thread, Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)));
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
        fds.push(theirs.as_raw_fd());
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // SAFETY: the closure runs in the child between fork and exec and
        // only calls dup2 and fcntl, which are async-signal-safe. Sources
        // are first moved above every target number so that no dup2
        // overwrites a source still to be copied.
        unsafe {
            cmd.pre_exec(move || {
                let high = 1000;
                for (i, fd) in fds.iter().enumerate() {
                    if libc::dup2(*fd, high + i as i32) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                for i in 0..fds.len() {
                    let target = FIRST_NS_FD + i as i32;
                    if libc::dup2(high + i as i32, target) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(high + i as i32);
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(thread_err)?;
        drop(theirs);
        drop(set);
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let helper = Arc::new(Helper {
            stdin: Mutex::new(stdin),
            pending: Mutex::new(HashSet::new()),
            last_used: Mutex::new(Instant::now()),
        });
        self.stats.helpers_alive.fetch_add(1, Ordering::Relaxed);
        self.stats.helpers_started.fetch_add(1, Ordering::Relaxed);
        let relay = (self.clone(), ours);
        std::thread::Builder::new()
            .name("linx-helper-fds".into())
            .spawn(move || relay.0.relay_fds(relay.1))
            .map_err(thread_err)?;
        let reader = (self.clone(), key.clone(), Arc::clone(&helper));
        std::thread::Builder::new()
            .name("linx-helper-out".into())
            .spawn(move || {
                let (helpers, key, helper) = reader;
                if let Some(stdout) = stdout {
                    helpers.read_replies(stdout, &helper);
                }
                helpers.helper_ended(&key, &helper, child);
            })
            .map_err(thread_err)?;
        Ok(helper)
    }

    /// Forward the helper's replies, as they are, to the port's owner.
    fn read_replies(&self, mut stdout: std::process::ChildStdout, helper: &Helper) {
        let mut buf = Vec::new();
        loop {
            match codec::read_frame(&mut stdout, &mut buf) {
                Ok(()) => {}
                Err(FrameError::TooLarge(_)) => continue,
                Err(_) => return,
            }
            let Some(id) = reply_id(&buf) else { continue };
            if id == 0 {
                // The helper's ready frame is for us; its log lines are not.
                if !is_ready(&buf) {
                    let _ = self.out.send((0, Reply::Frame(buf.clone())));
                }
                continue;
            }
            if lock(&helper.pending).remove(&id) {
                let _ = self.out.send((id, Reply::Frame(buf.clone())));
            }
        }
    }

    /// The helper's stdout closed: answer what it left, and forget it.
    fn helper_ended(&self, key: &NsKey, helper: &Arc<Helper>, mut child: Child) {
        {
            let mut map = lock(&self.map);
            if map.get(key).is_some_and(|h| Arc::ptr_eq(h, helper)) {
                map.remove(key);
            }
        }
        lock(&helper.stdin).take();
        let status = child.wait().ok().and_then(|s| s.code());
        let error = match status {
            Some(code) if code > 0 && code < 256 => OpError::errno(Stage::Setns, Errno::from_raw(code)),
            _ => OpError::errno(Stage::Thread, Errno::ECHILD),
        };
        let pending: Vec<u64> = lock(&helper.pending).drain().collect();
        for id in pending {
            self.reply(id, error.clone().into());
        }
        self.stats.helpers_alive.fetch_sub(1, Ordering::Relaxed);
    }

    /// Pass on every descriptor the helper sends, with its request id.
    fn relay_fds(&self, sock: OwnedFd) {
        loop {
            let Ok(Some((id, fd))) = recv_fd(&sock) else { return };
            match &self.fdchan {
                // The reply that follows says whether the BEAM got it.
                Some(chan) => {
                    let _ = chan.send(id, std::os::fd::AsFd::as_fd(&fd));
                }
                None => drop(fd),
            }
        }
    }

    /// Close the stdin of helpers idle for longer than the idle time; each
    /// then ends on its own.
    fn reap(&self) {
        let tick = self.idle.min(Duration::from_secs(1)).max(Duration::from_millis(10));
        loop {
            std::thread::sleep(tick);
            let map = lock(&self.map);
            for helper in map.values() {
                let idle = lock(&helper.last_used).elapsed() >= self.idle;
                if idle && lock(&helper.pending).is_empty() {
                    lock(&helper.stdin).take();
                }
            }
        }
    }
}

/// The id of a `{Id, Result}` frame.
fn reply_id(frame: &[u8]) -> Option<u64> {
    codec::check_etf(frame).ok()?;
    match Term::decode(frame).ok()? {
        Term::Tuple(t) if t.elements.len() == 2 => match &t.elements[0] {
            Term::FixInteger(i) => u64::try_from(i.value).ok(),
            Term::BigInteger(b) => u64::try_from(&b.value).ok(),
            _ => None,
        },
        _ => None,
    }
}

fn is_ready(frame: &[u8]) -> bool {
    match Term::decode(frame) {
        Ok(Term::Tuple(t)) => {
            matches!(t.elements.get(1), Some(Term::Tuple(r)) if matches!(r.elements.first(), Some(Term::Atom(a)) if a.name == "ready"))
        }
        _ => false,
    }
}

/// One `(id, fd)` message from a helper's fd channel; `None` at its end.
fn recv_fd(sock: &OwnedFd) -> Result<Option<(u64, OwnedFd)>, Errno> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::FromRawFd;
    let mut payload = [0u8; 8];
    let mut iov = [std::io::IoSliceMut::new(&mut payload)];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)?;
    if msg.bytes == 0 {
        return Ok(None);
    }
    let mut fd = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for raw in fds {
                // SAFETY: SCM_RIGHTS gave us these descriptors; we own them now.
                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                if fd.is_none() {
                    fd = Some(owned);
                }
            }
        }
    }
    let id = u64::from_be_bytes(payload);
    Ok(fd.map(|fd| (id, fd)))
}

/// The helper side: enter the namespaces given as `FD:TYPE` arguments, in
/// order, while this process still has one thread. Returns the fd channel.
/// On failure the caller exits with the errno as its status.
pub fn enter_from_args(args: &[String]) -> Result<FdChan, Errno> {
    let mut chan = None;
    let mut entered_mount = false;
    for arg in args {
        let (a, b) = arg.split_once(':').ok_or(Errno::EINVAL)?;
        if a == "chan" {
            let fd: i32 = b.parse().map_err(|_| Errno::EINVAL)?;
            // SAFETY: the port placed one end of a socketpair at this number for us.
            chan = Some(FdChan::from_fd(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }));
            continue;
        }
        let fd: i32 = a.parse().map_err(|_| Errno::EINVAL)?;
        let kind: i32 = b.parse().map_err(|_| Errno::EINVAL)?;
        // SAFETY: the port placed an open namespace file at this number for us.
        let owned: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) };
        let flags = CloneFlags::from_bits_truncate(kind);
        if flags == CloneFlags::CLONE_NEWNS && !entered_mount {
            nix::sched::unshare(CloneFlags::CLONE_FS)?;
            entered_mount = true;
        }
        nix::sched::setns(&owned, flags)?;
    }
    chan.ok_or(Errno::EINVAL)
}
