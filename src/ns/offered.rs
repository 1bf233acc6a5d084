//! Files the workers opened, offered to the front end.

use super::NsKey;
use crate::ops::{socket, sysctl};
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};

/// Sysctl files the workers opened inside their namespaces, offered to
/// the front end: a descriptor opened inside a namespace reads that
/// namespace's value from any thread, so a read whose file a worker
/// already opened needs no hand-off. An entry lives only while its worker
/// does (the worker keeps the namespace alive, so its key cannot name
/// another namespace meanwhile).
#[derive(Default)]
pub struct ReadCache {
    sets: Mutex<HashMap<NsKey, Offered>>,
    /// An rtnetlink socket of each set's worker, with its generation.
    netlink: Mutex<HashMap<NsKey, (u64, Arc<socket::Shared>)>>,
}

/// The files offered for one set: the worker's generation, and files by path.
type Offered = (u64, HashMap<Vec<u8>, Arc<OwnedFd>>);

/// Most files offered per namespace set.
const OFFERED_PER_SET: usize = 256;

impl ReadCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<NsKey, Offered>> {
        self.sets.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn offer(&self, key: &NsKey, generation: u64, files: Vec<(Vec<u8>, Arc<OwnedFd>)>) {
        let mut sets = self.lock();
        let entry = sets.entry(key.clone()).or_insert_with(|| (generation, HashMap::new()));
        if entry.0 != generation {
            *entry = (generation, HashMap::new());
        }
        if entry.1.len() + files.len() > OFFERED_PER_SET {
            entry.1.clear();
        }
        entry.1.extend(files);
    }

    pub fn read(&self, key: &NsKey, path: &[u8]) -> Option<Vec<u8>> {
        let fd = Arc::clone(self.lock().get(key)?.1.get(path)?);
        match sysctl::reread(fd.as_fd()) {
            Ok(value) => Some(value),
            Err(_) => {
                // Gone (an interface deleted, say): the worker finds out why.
                if let Some(set) = self.lock().get_mut(key) {
                    set.1.remove(path);
                }
                None
            }
        }
    }

    pub fn forget(&self, key: &NsKey, generation: u64) {
        let mut sets = self.lock();
        if sets.get(key).is_some_and(|(g, _)| *g == generation) {
            sets.remove(key);
        }
        drop(sets);
        let mut netlink = self.netlink.lock().unwrap_or_else(|p| p.into_inner());
        if netlink.get(key).is_some_and(|(g, _)| *g == generation) {
            netlink.remove(key);
        }
    }

    /// Offer the rtnetlink socket a worker made in its namespace.
    pub fn offer_netlink(&self, key: &NsKey, generation: u64, fd: OwnedFd) {
        let mut netlink = self.netlink.lock().unwrap_or_else(|p| p.into_inner());
        netlink.insert(key.clone(), (generation, Arc::new(socket::Shared::new(fd))));
    }

    /// The rtnetlink socket offered for `key`, if any.
    pub fn netlink(&self, key: &NsKey) -> Option<Arc<socket::Shared>> {
        let netlink = self.netlink.lock().unwrap_or_else(|p| p.into_inner());
        netlink.get(key).map(|(_, shared)| Arc::clone(shared))
    }

    /// Stop offering a socket that failed.
    pub fn drop_netlink(&self, key: &NsKey) {
        let mut netlink = self.netlink.lock().unwrap_or_else(|p| p.into_inner());
        netlink.remove(key);
    }
}
