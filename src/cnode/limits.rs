//! How many connections the C-node holds, and which give way.
//!
//! A connection is first a handshake: at most [`MAX_HANDSHAKES`] run at
//! once, [`MAX_HANDSHAKES_PER_PEER`] from one address, each for at most
//! the handshake timeout. A new connection is never refused for want of a
//! handshake slot: the oldest handshake (from the same address when that
//! address is at its share) is cut off instead, so a flood of idle
//! connections cannot keep a node from connecting.
//!
//! After its handshake a connection is live: at most [`MAX_CONNECTIONS`],
//! [`MAX_CONNECTIONS_PER_PEER`] from one address. When full, the live
//! connection with no request in flight that made its last request longest
//! ago is closed for the new one; only when every one has a request in
//! flight is the new one refused.

use super::log::{Log, Warn};
use super::out::Out;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::task::AbortHandle;

/// Most handshakes in progress at once.
pub const MAX_HANDSHAKES: usize = 64;
/// Most handshakes in progress from one address.
pub const MAX_HANDSHAKES_PER_PEER: usize = 16;
/// Most live connections.
pub const MAX_CONNECTIONS: usize = 256;
/// Most live connections from one address.
pub const MAX_CONNECTIONS_PER_PEER: usize = 128;

/// What a live connection shows of itself: when it last made a request
/// (ms since the C-node started) and how many are in flight.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    pub last_request_ms: Arc<AtomicU64>,
    pub inflight: Arc<AtomicUsize>,
}

struct Handshake {
    id: u64,
    ip: IpAddr,
    abort: Option<AbortHandle>,
}

struct Live {
    id: u64,
    ip: IpAddr,
    out: Arc<Out>,
    activity: Activity,
}

#[derive(Default)]
struct State {
    /// Oldest first.
    handshakes: Vec<Handshake>,
    live: Vec<Live>,
}

/// The connection table of one C-node.
pub struct Limits {
    state: Mutex<State>,
    next_id: AtomicU64,
    started: Instant,
    log: Arc<Log>,
}

impl Limits {
    /// An empty table; what gives way is logged to `log`.
    pub fn new(log: Arc<Log>) -> Self {
        Limits {
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(1),
            started: Instant::now(),
            log,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is one call: a poisoned table is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Milliseconds since the C-node started (for [`Activity`]).
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// A new connection from `ip` starts its handshake: its id. The oldest
    /// handshakes are cut off to stay within the limits.
    pub fn handshake_started(&self, ip: IpAddr) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut st = self.lock();
        let from_peer = st.handshakes.iter().filter(|h| h.ip == ip).count();
        let victim = if from_peer >= MAX_HANDSHAKES_PER_PEER {
            st.handshakes.iter().position(|h| h.ip == ip)
        } else if st.handshakes.len() >= MAX_HANDSHAKES {
            Some(0)
        } else {
            None
        };
        if let Some(i) = victim {
            let old = st.handshakes.remove(i);
            let ip = old.ip;
            self.log.warn(Warn::HandshakeCutOff, || {
                format!("handshake from {ip} cut off: too many in progress")
            });
            if let Some(abort) = old.abort {
                abort.abort();
            }
        }
        st.handshakes.push(Handshake { id, ip, abort: None });
        id
    }

    /// How to cut off handshake `id` (its task, once spawned).
    pub fn set_abort(&self, id: u64, abort: AbortHandle) {
        if let Some(h) = self.lock().handshakes.iter_mut().find(|h| h.id == id) {
            h.abort = Some(abort);
        }
    }

    /// Handshake `id` is over, passed or not.
    pub fn handshake_ended(&self, id: u64) {
        self.lock().handshakes.retain(|h| h.id != id);
    }

    /// Connection `id` from `ip` passed its handshake: admit it, closing
    /// the idlest live connection if need be; `None` when all are busy.
    pub fn admit(&self, id: u64, ip: IpAddr, out: Arc<Out>) -> Option<Activity> {
        let mut st = self.lock();
        let from_peer = st.live.iter().filter(|c| c.ip == ip).count();
        let full = if from_peer >= MAX_CONNECTIONS_PER_PEER {
            Some(Some(ip))
        } else if st.live.len() >= MAX_CONNECTIONS {
            Some(None)
        } else {
            None
        };
        if let Some(only) = full {
            let idlest = st
                .live
                .iter()
                .enumerate()
                .filter(|(_, c)| only.is_none_or(|ip| c.ip == ip))
                .filter(|(_, c)| c.activity.inflight.load(Ordering::Acquire) == 0)
                .min_by_key(|(_, c)| c.activity.last_request_ms.load(Ordering::Relaxed))
                .map(|(i, _)| i)?;
            let old = st.live.remove(idlest);
            self.log.warn(Warn::IdleClosed, || {
                format!("idle connection from {} closed for a new one", old.ip)
            });
            old.out.close();
        }
        let activity = Activity {
            last_request_ms: Arc::new(AtomicU64::new(self.now_ms())),
            inflight: Arc::new(AtomicUsize::new(0)),
        };
        st.live.push(Live {
            id,
            ip,
            out,
            activity: activity.clone(),
        });
        Some(activity)
    }

    /// Live connection `id` ended.
    pub fn closed(&self, id: u64) {
        self.lock().live.retain(|c| c.id != id);
    }
}
