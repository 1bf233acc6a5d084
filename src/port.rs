//! Port mode: frames in on stdin, replies out on stdout.
//!
//! The calling thread reads, decodes and dispatches; a writer thread
//! encodes replies and writes them, flushing once per burst rather than
//! once per reply. End of input ends the process at once with status 0.

use crate::dispatch::{Dispatcher, Parts, Policy, VERSION};
use crate::error::{OpError, Stage};
use crate::ns::executor::Config;
use crate::ns::helper::Frame;
use crate::ns::{Executor, Helpers, Resolver, Sink};
use crate::ops::fdchan::FdChan;
use crate::ops::Outcome;
use crate::stats::Stats;
use crate::wire::{self, reply, FrameError};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

/// How the port was started.
#[derive(Debug, Default)]
pub struct Options {
    pub executor: Config,
    /// The fd channel, when the port was given `--fd-socket`.
    pub fdchan: Option<Arc<FdChan>>,
    /// What callers may do.
    pub policy: Policy,
    /// A namespace helper: already inside its target, every target means here.
    pub pinned: bool,
}

/// What the writer thread writes.
enum Out {
    Result(u64, Outcome),
    Relayed(Frame),
    Ready,
    Log(&'static str, String),
}

/// The port's sink: replies go to the writer thread.
pub struct PortSink {
    tx: Sender<Out>,
}

impl Sink for PortSink {
    fn result(&self, id: u64, outcome: Outcome) {
        // The writer only goes away when the port is exiting.
        let _ = self.tx.send(Out::Result(id, outcome));
    }

    fn relay(&self, _id: u64, frame: Frame) {
        let _ = self.tx.send(Out::Relayed(frame));
    }
}

impl PortSink {
    /// Send a log line to the owner as `{0, {log, Level, Text}}`; the Erlang
    /// side hands it to the OTP logger with the port's OS pid.
    pub fn log(&self, level: &'static str, text: String) {
        let _ = self.tx.send(Out::Log(level, text));
    }
}

/// Serve the port protocol until `input` ends. Returns the exit status.
pub fn serve<R: Read, W: Write + Send + 'static>(mut input: R, output: W, opts: Options) -> i32 {
    let stats = Arc::new(Stats::default());
    let (tx, rx) = mpsc::channel::<Out>();
    let writer = {
        let stats = Arc::clone(&stats);
        std::thread::Builder::new()
            .name("linx-writer".into())
            .spawn(move || write_loop(rx, output, &stats))
    };
    if let Err(e) = writer {
        eprintln!("linx_port: cannot start the writer thread: {e}");
        return 1;
    }
    let sink = Arc::new(PortSink { tx: tx.clone() });
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
            opts.executor.idle,
            opts.executor.max_workers,
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
    let _ = tx.send(Out::Ready);
    route_panics(tx);

    let mut buf = Vec::with_capacity(4096);
    loop {
        match wire::read_frame(&mut input, &mut buf) {
            Ok(()) => match wire::decode_request(&buf) {
                Ok(req) => dispatcher.handle(req, |_| buf.clone()),
                Err(rejected) => {
                    stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                    sink.result(rejected.id, rejected.error.into());
                }
            },
            Err(FrameError::TooLarge(_)) => {
                // Refused unread; its caller is found by the id at its head.
                stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                let id = Frame(std::mem::take(&mut buf)).id().unwrap_or(0);
                sink.result(id, OpError::word(Stage::Decode, "too_large").into());
            }
            Err(FrameError::Eof) => return 0,
            Err(FrameError::Io(e)) => {
                sink.log("error", format!("reading requests failed: {e}"));
                return 1;
            }
        }
    }
}

/// Panics anywhere in the port become log lines (and still unwind: a
/// panic while serving a request is answered `{error, {panic, Msg}}` by
/// the worker that caught it).
fn route_panics(tx: Sender<Out>) {
    let tx = std::sync::Mutex::new(tx);
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        let text = format!("panic in thread {thread}: {info}");
        match tx.lock() {
            Ok(tx) => {
                let _ = tx.send(Out::Log("error", text));
            }
            Err(_) => eprintln!("linx_port: {text}"),
        }
    }));
}

fn write_loop<W: Write>(rx: Receiver<Out>, mut output: W, stats: &Stats) {
    let mut buf = Vec::with_capacity(64 * 1024);
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(out) = next {
            match out {
                Out::Result(id, outcome) => {
                    if outcome.is_error() {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    wire::encode_reply(id, &outcome, &mut buf);
                }
                Out::Relayed(frame) => reply::encode_relayed(&frame.0, &mut buf),
                Out::Ready => reply::encode_term_frame(0, reply::ready_term(VERSION), &mut buf),
                Out::Log(level, text) => reply::encode_term_frame(0, reply::log_term(level, &text), &mut buf),
            }
            if buf.len() >= 256 * 1024 {
                break;
            }
            next = rx.try_recv().ok();
        }
        if output.write_all(&buf).and_then(|()| output.flush()).is_err() {
            // Nobody is listening any more: the port's owner is gone.
            std::process::exit(0);
        }
        buf.clear();
    }
}

/// Serve on the process's stdin and stdout. Replies are written to a
/// duplicate of fd 1 as a plain file: `io::Stdout` is line-buffered, which
/// would split binary frames at every newline byte.
pub fn serve_stdio(opts: Options) -> i32 {
    let stdin = io::stdin().lock();
    let stdout = match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => std::fs::File::from(fd),
        Err(e) => {
            eprintln!("linx_port: cannot use stdout: {e}");
            return 1;
        }
    };
    serve(stdin, stdout, opts)
}
