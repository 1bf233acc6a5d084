//! Port mode: frames in on stdin, replies out on stdout.
//!
//! The calling thread reads and dispatches; a writer thread encodes replies
//! and writes them, flushing once per burst rather than once per reply. End
//! of input ends the process at once with status 0.

use crate::codec::{self, FrameError, Reply};
use crate::dispatch::{Dispatcher, VERSION};
use crate::error::{OpError, Stage};
use crate::executor::{Config, Executor, Outbox};
use crate::fdchan::FdChan;
use crate::helper::Helpers;
use crate::ns::Resolver;
use crate::policy::Policy;
use crate::stats::Stats;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver};
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

/// Serve the port protocol until `input` ends. Returns the exit status.
pub fn serve<R: Read, W: Write + Send + 'static>(mut input: R, output: W, opts: Options) -> i32 {
    let stats = Arc::new(Stats::default());
    let (tx, rx) = mpsc::channel::<(u64, Reply)>();
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
    let resolver = if opts.pinned {
        Resolver::pinned()
    } else {
        Resolver::new()
    };
    // A helper does not start helpers of its own.
    let helpers =
        (!opts.pinned).then(|| Helpers::new(tx.clone(), opts.fdchan.clone(), Arc::clone(&stats), opts.executor.idle));
    let executor = Executor::new(opts.executor, tx.clone(), Arc::clone(&stats));
    let dispatcher = Dispatcher::new(
        resolver,
        executor,
        Arc::clone(&stats),
        tx.clone(),
        opts.fdchan,
        opts.policy,
        helpers,
    );
    let _ = tx.send((0, Reply::Ready(VERSION)));
    route_panics(tx.clone());

    let mut buf = Vec::with_capacity(4096);
    loop {
        match codec::read_frame(&mut input, &mut buf) {
            Ok(()) => dispatcher.handle_frame(&buf),
            Err(FrameError::TooLarge(_)) => {
                stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                let _ = tx.send((0, OpError::word(Stage::Decode, "too_large").into()));
            }
            Err(FrameError::Eof) => return 0,
            Err(FrameError::Io(e)) => {
                log(&tx, "error", format!("reading requests failed: {e}"));
                return 1;
            }
        }
    }
}

/// Send a log line to the owner as `{0, {log, Level, Text}}`; the Erlang
/// side hands it to the OTP logger with the port's OS pid.
pub fn log(out: &Outbox, level: &'static str, text: String) {
    let _ = out.send((0, Reply::Log(level, text)));
}

/// Panics anywhere in the port become log lines (and still unwind: a
/// panic while serving a request is answered `{error, {panic, Msg}}` by
/// the worker that caught it).
fn route_panics(out: Outbox) {
    let out = std::sync::Mutex::new(out);
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        let text = format!("panic in thread {thread}: {info}");
        match out.lock() {
            Ok(out) => log(&out, "error", text),
            Err(_) => eprintln!("linx_port: {text}"),
        }
    }));
}

fn write_loop<W: Write>(rx: Receiver<(u64, Reply)>, mut output: W, stats: &Stats) {
    let mut buf = Vec::with_capacity(64 * 1024);
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some((id, reply)) = next {
            if reply.is_error() {
                stats.errors.fetch_add(1, Ordering::Relaxed);
            }
            codec::encode_reply(id, &reply, &mut buf);
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
