//! Counters the `stats` op reports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Process-wide counters, updated with relaxed atomics.
#[derive(Debug)]
pub struct Stats {
    pub started: Instant,
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub bad_frames: AtomicU64,
    pub workers_alive: AtomicU64,
    pub workers_started: AtomicU64,
    pub helpers_alive: AtomicU64,
    pub helpers_started: AtomicU64,
    /// Helpers killed for not answering.
    pub helpers_hung: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: Instant::now(),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            bad_frames: AtomicU64::new(0),
            workers_alive: AtomicU64::new(0),
            workers_started: AtomicU64::new(0),
            helpers_alive: AtomicU64::new(0),
            helpers_started: AtomicU64::new(0),
            helpers_hung: AtomicU64::new(0),
        }
    }
}

impl Stats {
    /// A snapshot as `(name, value)` pairs.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            ("requests", get(&self.requests)),
            ("errors", get(&self.errors)),
            ("bad_frames", get(&self.bad_frames)),
            ("workers", get(&self.workers_alive)),
            ("workers_started", get(&self.workers_started)),
            ("helpers", get(&self.helpers_alive)),
            ("helpers_started", get(&self.helpers_started)),
            ("helpers_hung", get(&self.helpers_hung)),
            ("uptime_ms", self.started.elapsed().as_millis() as u64),
        ]
    }
}
