//! The C-node's warnings that a peer can repeat at will (refused
//! connections, dropped messages): at most one line a second per kind
//! ([`RateLimit`]), the first at once, then a count of the rest, e.g.
//!
//! ```text
//! linx_port: connection from 127.0.0.1:41312 refused: wrong cookie
//! linx_port: connections refused: wrong cookie: 57 more like this in the last 1.0 s
//! ```

use super::ratelimit::{RateLimit, Report, Verdict};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Lines of one kind: at most one per this period.
pub const PERIOD: Duration = Duration::from_secs(1);

/// A kind of warning: each is limited on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warn {
    AcceptFailed,
    HandshakeFailed,
    WrongCookie,
    HandshakeCutOff,
    IdleClosed,
    /// Refused after the handshake: every connection is busy.
    Full,
    ConnectionEnded,
    NotReading,
    MessageDropped,
    MessageIgnored,
}

impl Warn {
    /// What the events of a report were, in the plural.
    fn plural(self) -> &'static str {
        match self {
            Warn::AcceptFailed => "accepts failed",
            Warn::HandshakeFailed => "handshakes failed",
            Warn::WrongCookie => "connections refused: wrong cookie",
            Warn::HandshakeCutOff => "handshakes cut off: too many in progress",
            Warn::IdleClosed => "idle connections closed for new ones",
            Warn::Full => "connections refused: every connection has requests in flight",
            Warn::ConnectionEnded => "connections ended",
            Warn::NotReading => "peers disconnected for not reading their replies",
            Warn::MessageDropped => "distribution messages dropped",
            Warn::MessageIgnored => "messages ignored",
        }
    }
}

/// The C-node's rate-limited log, shared by every task and thread.
pub struct Log {
    limit: Mutex<RateLimit<Warn>>,
    /// Signalled when a window opens (the reporting task may be idle).
    opened: Notify,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            limit: Mutex::new(RateLimit::new(PERIOD)),
            opened: Notify::new(),
        }
    }
}

impl Log {
    fn lock(&self) -> MutexGuard<'_, RateLimit<Warn>> {
        // Every update is one call: a poisoned limiter is still consistent.
        self.limit.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A warning of `kind`: `line()` (without the `linx_port: ` prefix)
    /// is printed when it is the first of its kind for a while, else it
    /// is counted in the next report.
    pub fn warn(&self, kind: Warn, line: impl FnOnce() -> String) {
        let verdict = self.lock().event(kind, Instant::now());
        match verdict {
            Verdict::Log => {
                eprintln!("linx_port: {}", line());
                self.opened.notify_one();
            }
            Verdict::Count => {}
            Verdict::Report(r) => report(kind, r),
        }
    }

    /// Print the report of each window as it ends, for as long as the
    /// C-node runs; idle while no window is open.
    pub async fn report_loop(self: Arc<Self>) -> Infallible {
        loop {
            let next = self.lock().next_end();
            match next {
                None => self.opened.notified().await,
                Some(end) => tokio::time::sleep_until(end.into()).await,
            }
            let ended = self.lock().expire(Instant::now());
            for (kind, r) in ended {
                report(kind, r);
            }
        }
    }
}

fn report(kind: Warn, r: Report) {
    eprintln!(
        "linx_port: {}: {} more like this in the last {:.1} s",
        kind.plural(),
        r.counted,
        r.over.as_secs_f64()
    );
}
