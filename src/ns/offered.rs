//! Files the workers opened, offered to the front end.

use super::NsKey;
use crate::ops::sysctl;
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
    }
}
