//! Port mode: frames in on stdin, replies out on stdout.
//!
//! The calling thread reads, decodes and dispatches. Waking a sleeping
//! thread costs 10–25 µs on the machines linx runs on, far more than the
//! work of a request, so the request path avoids it:
//! - stdin is non-blocking; while frames keep coming (each within the spin
//!   time, `--spin-us`, of the one before) the reader keeps reading for up
//!   to the spin time after each before it sleeps in `poll(2)`, so an idle
//!   port uses no CPU, a busy one takes the next frame at once, and one
//!   whose callers do much work between calls does not take their CPU;
//!   while it spins no worker does (one spinner per process: on two cores
//!   a second would starve the BEAM, which has to take every reply);
//! - replies are written by whichever thread produced them: each is added
//!   to a pending buffer, and the thread that finds the writer free writes
//!   what is pending (its own reply and any that came meanwhile), so no
//!   writer thread is woken; while the reader has more requests at hand it
//!   holds replies back and writes them in one go when it has served them.
//!   End of input ends the process at once with status 0.

use crate::dispatch::{Dispatcher, Parts, Policy, VERSION};
use crate::error::{OpError, Stage};
use crate::frame::{self, FrameError};
use crate::ns::executor::{Config, DEFAULT_SPIN};
use crate::ns::helper::{self, Frame, DEFAULT_LIVENESS};
use crate::ns::spin::SpinTurn;
use crate::ns::{Executor, Helpers, Resolver, Sink};
use crate::ops::fdchan::FdChan;
use crate::ops::Outcome;
use crate::stats::Stats;
use crate::wire::{self, reply};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How the port was started.
#[derive(Debug)]
pub struct Options {
    pub executor: Config,
    /// The fd channel, when the port was given `--fd-socket`.
    pub fdchan: Option<Arc<FdChan>>,
    /// What callers may do.
    pub policy: Policy,
    /// A namespace helper: already inside its target, every target means here.
    pub pinned: bool,
    /// How long the reader keeps reading stdin after a frame before it
    /// sleeps (`--spin-us`; zero: it sleeps at once).
    pub spin: Duration,
    /// How long a namespace helper with requests in flight may stay
    /// silent before it is pinged, and the ping unanswered before it is
    /// replaced (`--liveness-ms`).
    pub liveness: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            executor: Config::default(),
            fdchan: None,
            policy: Policy::default(),
            pinned: false,
            spin: DEFAULT_SPIN,
            liveness: DEFAULT_LIVENESS,
        }
    }
}

/// The port's sink: replies are encoded and written by the thread that
/// produced them.
pub struct PortSink {
    /// Encoded frames waiting for the writer.
    pending: Mutex<Vec<u8>>,
    /// The writer; whoever holds it writes what is pending.
    out: Mutex<Box<dyn Write + Send>>,
    stats: Arc<Stats>,
    /// The reader has more requests at hand: replies wait for it to write
    /// them all at once (one `write(2)` for a burst, not one each).
    held: AtomicBool,
    /// Replies may leave in parts ([`Sink::part`]): not in a namespace
    /// helper, whose parent relays one reply per request.
    parts: bool,
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PortSink {
    fn new(out: Box<dyn Write + Send>, stats: Arc<Stats>, parts: bool) -> Self {
        PortSink {
            pending: Mutex::new(Vec::with_capacity(64 * 1024)),
            out: Mutex::new(out),
            stats,
            held: AtomicBool::new(false),
            parts,
        }
    }

    /// Add one encoded frame and write what is pending, unless another
    /// thread is writing (it then writes this frame too) or the reader
    /// holds replies back (it writes them when it has read its burst).
    fn emit(&self, encode: impl FnOnce(&mut Vec<u8>)) {
        encode(&mut lock(&self.pending));
        if !self.held.load(Ordering::Acquire) {
            self.flush();
        }
    }

    /// Hold replies back while the reader has more requests at hand;
    /// releasing writes what waits.
    fn hold(&self, held: bool) {
        self.held.store(held, Ordering::Release);
        if !held {
            self.flush();
        }
    }

    /// Write what is pending, unless another thread is writing.
    fn flush(&self) {
        loop {
            let Ok(mut out) = self.out.try_lock() else {
                return;
            };
            let buf = std::mem::take(&mut *lock(&self.pending));
            if buf.is_empty() {
                drop(out);
                // A frame added after the take, while we held the writer,
                // was left to us: look again now that the writer is free.
                if lock(&self.pending).is_empty() {
                    return;
                }
                continue;
            }
            if out.write_all(&buf).and_then(|()| out.flush()).is_err() {
                // Nobody is listening any more: the port's owner is gone.
                std::process::exit(0);
            }
        }
    }

    /// Send a log line to the owner as `{0, {log, Level, Text}}`; the Erlang
    /// side hands it to the OTP logger with the port's OS pid.
    pub fn log(&self, level: &'static str, text: &str) {
        self.emit(|buf| reply::encode_term_frame(0, reply::log_term(level, text), buf));
    }
}

impl Sink for PortSink {
    fn result(&self, id: u64, outcome: Outcome) {
        if outcome.is_error() {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.emit(|buf| wire::encode_reply(id, &outcome, buf));
    }

    fn part(&self, id: u64, messages: &[Vec<u8>]) -> bool {
        if self.parts {
            self.emit(|buf| reply::encode_part(id, messages, buf));
        }
        self.parts
    }

    fn relay(&self, _id: u64, frame: Frame) {
        self.emit(|buf| reply::encode_relayed(&frame.0, buf));
    }

    fn notice(&self, text: &str) {
        self.log("warning", text);
    }
}

/// Serve the port protocol on `input` until it ends. Returns the exit status.
pub fn serve<W: Write + Send + 'static>(input: BorrowedFd<'_>, output: W, opts: Options) -> i32 {
    let stats = Arc::new(Stats::default());
    let sink = Arc::new(PortSink::new(Box::new(output), Arc::clone(&stats), !opts.pinned));
    let resolver = if opts.pinned {
        Resolver::pinned()
    } else {
        Resolver::new()
    };
    // A helper does not start helpers of its own.
    let helpers = (!opts.pinned).then(|| {
        Helpers::new(
            Arc::clone(&sink),
            opts.fdchan.clone(),
            Arc::clone(&stats),
            helper::Limits {
                idle: opts.executor.idle,
                max: opts.executor.max_workers,
                liveness: opts.liveness,
            },
        )
    });
    let dispatcher = Dispatcher::new(Parts {
        resolver,
        executor: Executor::new(opts.executor, Arc::clone(&sink), Arc::clone(&stats)),
        stats: Arc::clone(&stats),
        sink: Arc::clone(&sink),
        fdchan: opts.fdchan,
        policy: opts.policy,
        helpers,
    });
    sink.emit(|buf| reply::encode_term_frame(0, reply::ready_term(VERSION), buf));
    route_panics(Arc::clone(&sink));

    let mut reader = match FrameReader::new(input, opts.spin) {
        Ok(r) => r,
        Err(e) => {
            sink.log("error", &format!("cannot read requests: {e}"));
            return 1;
        }
    };
    loop {
        match reader.next_frame() {
            Ok(frame) => {
                match wire::decode_request(frame) {
                    Ok(req) => dispatcher.handle(req, |_| frame.to_vec()),
                    Err(rejected) => {
                        stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                        sink.result(rejected.id, rejected.error.into());
                    }
                }
                sink.hold(reader.has_frame());
            }
            Err(FrameError::TooLarge(_)) => {
                // Refused unread; its caller is found by the id at its head.
                stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                let id = Frame(reader.head.clone()).id().unwrap_or(0);
                sink.result(id, OpError::word(Stage::Decode, "too_large").into());
            }
            Err(FrameError::Eof) => return 0,
            Err(FrameError::Io(e)) => {
                sink.log("error", &format!("reading requests failed: {e}"));
                return 1;
            }
        }
    }
}

/// `{packet,4}` frames from a non-blocking descriptor, read in large
/// pieces, spinning for up to `spin` after data before sleeping in `poll`.
struct FrameReader<'a> {
    fd: BorrowedFd<'a>,
    buf: Vec<u8>,
    /// Unread data is `buf[start..end]`.
    start: usize,
    end: usize,
    /// Bytes of an oversized frame still to skip.
    skip: usize,
    /// The first bytes of the last oversized frame's body.
    head: Vec<u8>,
    spin: Duration,
    /// When the reader last ran out of data (it then spins or sleeps).
    waiting_since: Option<Instant>,
    /// Whether the last data came within the spin time of the reader
    /// running out: requests keep coming, so the next is worth spinning for.
    busy: bool,
    /// Held while spinning: the process's one turn to spin.
    turn: Option<SpinTurn>,
}

impl<'a> FrameReader<'a> {
    fn new(fd: BorrowedFd<'a>, spin: Duration) -> io::Result<Self> {
        let flags = OFlag::from_bits_retain(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
        fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        Ok(FrameReader {
            fd,
            buf: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            skip: 0,
            head: Vec::new(),
            spin,
            waiting_since: None,
            busy: false,
            turn: None,
        })
    }

    /// The next frame's body; an oversized one is skipped (never held in
    /// memory) and answered `TooLarge`, its first bytes in `head`.
    fn next_frame(&mut self) -> Result<&[u8], FrameError> {
        while self.skip > 0 {
            if self.start == self.end {
                self.fill()?;
            }
            let n = self.skip.min(self.end - self.start);
            self.start += n;
            self.skip -= n;
        }
        self.need(4)?;
        let len = match frame::parse_header(self.header()) {
            Ok(len) => len,
            Err(FrameError::TooLarge(len)) => {
                self.need(4 + frame::KEPT_HEAD)?;
                let body = self.start + 4;
                self.head = self.buf[body..body + frame::KEPT_HEAD].to_vec();
                self.start = body + frame::KEPT_HEAD;
                self.skip = len - frame::KEPT_HEAD;
                return Err(FrameError::TooLarge(len));
            }
            Err(e) => return Err(e),
        };
        self.need(4 + len)?;
        let body = self.start + 4;
        self.start = body + len;
        Ok(&self.buf[body..body + len])
    }

    /// Whether a whole frame is already in the buffer (more requests at
    /// hand: the next `next_frame` will not wait).
    fn has_frame(&self) -> bool {
        self.skip == 0 && matches!(frame::whole_frame(&self.buf[self.start..self.end]), Ok(Some(_)))
    }

    /// The 4-byte length at the read position (which must be buffered).
    fn header(&self) -> [u8; 4] {
        let h = &self.buf[self.start..self.start + 4];
        [h[0], h[1], h[2], h[3]]
    }

    /// Move what is unread to the front of the buffer.
    fn compact(&mut self) {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
    }

    /// Make sure `n` unread bytes are in the buffer.
    fn need(&mut self, n: usize) -> Result<(), FrameError> {
        if self.end - self.start >= n {
            return Ok(());
        }
        if self.buf.len() - self.start < n {
            // Make room at the end, growing for a large frame.
            self.compact();
            if self.buf.len() < n {
                self.buf.resize(n, 0);
            }
        }
        while self.end - self.start < n {
            self.fill()?;
        }
        Ok(())
    }

    /// Read what is there (at least one byte), spinning then sleeping.
    fn fill(&mut self) -> Result<(), FrameError> {
        if self.start == self.end || self.end == self.buf.len() {
            self.compact();
        }
        loop {
            match nix::unistd::read(self.fd.as_raw_fd(), &mut self.buf[self.end..]) {
                Ok(0) => return Err(FrameError::Eof),
                Ok(n) => {
                    self.end += n;
                    let now = Instant::now();
                    if let Some(since) = self.waiting_since.take() {
                        self.busy = now.duration_since(since) < self.spin;
                    }
                    self.turn = None;
                    return Ok(());
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN)
                    if self.busy && self.waiting_since.get_or_insert_with(Instant::now).elapsed() < self.spin =>
                {
                    self.turn.get_or_insert_with(SpinTurn::reader);
                    std::hint::spin_loop()
                }
                Err(Errno::EAGAIN) => {
                    self.waiting_since.get_or_insert_with(Instant::now);
                    self.turn = None;
                    let mut fds = [PollFd::new(self.fd, PollFlags::POLLIN)];
                    match poll(&mut fds, PollTimeout::NONE) {
                        Ok(_) | Err(Errno::EINTR) => {}
                        Err(e) => return Err(FrameError::Io(e.into())),
                    }
                }
                Err(e) => return Err(FrameError::Io(e.into())),
            }
        }
    }
}

/// Panics anywhere in the port become log lines (and still unwind: a
/// panic while serving a request is answered `{error, {panic, Msg}}` by
/// the worker that caught it).
fn route_panics(sink: Arc<PortSink>) {
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        sink.log("error", &format!("panic in thread {thread}: {info}"));
    }));
}

/// Serve on the process's stdin and stdout. Replies are written to a
/// duplicate of fd 1 as a plain file: `io::Stdout` is line-buffered, which
/// would split binary frames at every newline byte.
pub fn serve_stdio(opts: Options) -> i32 {
    let stdout = match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => std::fs::File::from(fd),
        Err(e) => {
            eprintln!("linx_port: cannot use stdout: {e}");
            return 1;
        }
    };
    widen_pipe(stdout.as_fd());
    widen_pipe(io::stdin().as_fd());
    serve(io::stdin().as_fd(), stdout, opts)
}

/// Make a pipe to or from the node hold a large frame at once: a reply
/// (a dump of a thousand links is about 1.5 MB) or a request (an
/// nf_tables batch of a thousand rules is about 450 KiB). With the
/// default 64 KiB, such a frame crosses in a dozen rounds of "pipe full,
/// wake the reader", each a wake-up on either side. Up to the system's
/// limit (`fs.pipe-max-size`, 1 MiB by default); nothing if the
/// descriptor is not a pipe or the kernel says no.
fn widen_pipe(fd: std::os::fd::BorrowedFd<'_>) {
    const WANT: i32 = 1 << 20;
    let _ = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETPIPE_SZ(WANT));
}
