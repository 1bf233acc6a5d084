//! Network namespaces with no name, held open by the port for their
//! callers (`{held, Id}` targets).
//!
//! An id is handed out once and never again by this process; ids start at
//! a random point, so that a handle kept across a restart of the port
//! names nothing rather than another caller's namespace. The namespace
//! lives while its descriptor is here (or a worker is inside it): release
//! drops the descriptor, and the port's exit drops them all.

use super::NsId;
use std::collections::HashMap;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Most namespaces held at once.
pub const MAX_HELD: usize = 4096;

/// The held namespaces of one process, shared by its threads.
#[derive(Debug)]
pub struct Held {
    map: Mutex<HashMap<u64, (Arc<OwnedFd>, NsId)>>,
    next: AtomicU64,
    max: usize,
}

impl Held {
    pub fn new() -> Self {
        Self::with_max(MAX_HELD)
    }

    /// At most `max` held at once.
    fn with_max(max: usize) -> Self {
        let mut seed = [0u8; 8];
        let start = match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut seed)) {
            Ok(()) => u64::from_ne_bytes(seed),
            // No randomness: ids still never repeat within this process.
            Err(_) => u64::from(std::process::id()) << 32,
        };
        Held {
            map: Mutex::new(HashMap::new()),
            // Small positive integers on the wire: 1 .. 2^62.
            next: AtomicU64::new((start >> 2).max(1)),
            max,
        }
    }

    /// Keep `fd` (of namespace `id`); its handle, or `None` when as many
    /// as allowed ([`MAX_HELD`]) are held already.
    pub fn insert(&self, fd: OwnedFd, ns: NsId) -> Option<u64> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.max {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) & ((1 << 62) - 1);
        map.insert(id, (Arc::new(fd), ns));
        Some(id)
    }

    /// The descriptor and identity of a held namespace.
    pub fn get(&self, id: u64) -> Option<(Arc<OwnedFd>, NsId)> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id).cloned()
    }

    /// Let go of a held namespace; its identity, if it was held.
    pub fn release(&self, id: u64) -> Option<NsId> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&id).map(|(_, ns)| ns)
    }

    /// How many are held.
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for Held {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn fd() -> OwnedFd {
        match File::open("/dev/null") {
            Ok(f) => f.into(),
            Err(e) => panic!("open /dev/null: {e}"),
        }
    }

    #[test]
    fn full_refuses_until_one_is_released() {
        let held = Held::with_max(3);
        let ids: Vec<Option<u64>> = (0..3).map(|i| held.insert(fd(), (0, 1, i))).collect();
        assert!(ids.iter().all(Option::is_some));
        assert_eq!(held.insert(fd(), (0, 1, 9)), None);
        assert_eq!(held.len(), 3);
        let first = ids[0].unwrap_or_default();
        assert_eq!(held.release(first), Some((0, 1, 0)));
        let again = held.insert(fd(), (0, 1, 10));
        assert!(again.is_some());
        // A handle is never handed out twice.
        assert!(!ids.contains(&again));
        assert!(held.get(first).is_none());
    }
}
