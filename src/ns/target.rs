//! Where a request runs, as callers name it.

use std::path::PathBuf;

/// Where `{netns, Name}` looks.
pub const NETNS_DIR: &str = "/run/netns";

/// Where a request runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The port's own namespaces.
    Current,
    /// These namespace files, entered in order.
    Ns(Vec<PathBuf>),
    /// The user, mnt, uts, ipc and net namespaces of a process.
    Pid(i32),
    /// `/run/netns/Name`.
    Netns(String),
    /// A namespace with no name that this process holds (see `held`).
    Held(u64),
    /// The inner target (never itself `HostKeys`), where a write outside
    /// `net/` may knowingly reach the port's own namespaces when the target
    /// enters only a network namespace (`{host_keys, Target}`).
    HostKeys(Box<Target>),
}

impl Target {
    /// The target the namespaces come from (without `HostKeys`).
    pub fn place(&self) -> &Target {
        match self {
            Target::HostKeys(inner) => inner,
            other => other,
        }
    }

    /// Whether writes outside `net/` were allowed to reach the port's own
    /// namespaces.
    pub fn host_keys(&self) -> bool {
        matches!(self, Target::HostKeys(_))
    }
}

/// A netns name as `ip netns` accepts it (defined with the namespace ops).
pub use crate::ops::netns::valid_netns_name;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netns_names() {
        assert!(valid_netns_name("blue"));
        assert!(valid_netns_name("a.b-c_1"));
        for bad in ["", ".", "..", "a/b", "a\0b", &"x".repeat(256)] {
            assert!(!valid_netns_name(bad), "{bad:?}");
        }
    }
}
