//! The requests a dispatcher serves, as typed values (the wire layer
//! decodes them; policy and dispatch read them).

use crate::ns::Target;
pub use crate::ops::netns::NetnsOp;
pub use crate::ops::BatchOp;
use eetf::Term;

/// One operation, decoded and type-checked (paths are checked by `sysctl`).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    SysctlRead {
        path: Vec<u8>,
        target: Target,
    },
    SysctlWrite {
        path: Vec<u8>,
        value: Vec<u8>,
        target: Target,
        /// The value exactly as given, in one `write(2)` (see
        /// [`sysctl::write_raw`]); otherwise an empty value is a newline
        /// and a partial write an error.
        ///
        /// [`sysctl::write_raw`]: crate::ops::sysctl::write_raw
        raw: bool,
    },
    SysctlList {
        path: Vec<u8>,
        target: Target,
        /// Entries as the node shows them (see [`sysctl::key_form`]):
        /// keys for paths, values trimmed.
        ///
        /// [`sysctl::key_form`]: crate::ops::sysctl::key_form
        keys: bool,
    },
    NetlinkOpen {
        protocol: i32,
        groups: u32,
        target: Target,
    },
    SocketOpen {
        domain: i32,
        ty: i32,
        protocol: i32,
        target: Target,
    },
    /// Send netlink messages from the socket the worker keeps in the
    /// target's network namespace and collect every reply.
    NetlinkCall {
        protocol: i32,
        msg: Vec<u8>,
        target: Target,
        /// Network namespaces whose descriptor goes into `msg` before it
        /// is sent: at each byte offset, a `u32` in host byte order (for
        /// attributes such as `IFLA_NET_NS_FD`).
        ns_fds: Vec<(usize, Target)>,
        /// 0: every reply in the one result. Otherwise the replies may
        /// also leave in parts of about this many bytes while the kernel
        /// still dumps, where the front end can send parts (port mode).
        part_bytes: usize,
        /// Sent on the kept socket with strict checking
        /// (`NETLINK_GET_STRICT_CHK`, see [`crate::ops::socket::netlink_strict`]).
        strict: bool,
    },
    Batch {
        target: Target,
        ops: Vec<BatchOp>,
    },
    /// Send netlink messages one at a time over the socket the worker
    /// keeps in the target's network namespace, each with what goes into
    /// it just before it is sent; with `stop`, none after the first that
    /// fails.
    NetlinkBatch {
        protocol: i32,
        target: Target,
        msgs: Vec<NlMsg>,
        stop: bool,
    },
    /// Write in order, restoring what was written on the first failure.
    Apply {
        target: Target,
        settings: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// Make, remove, list and hold network namespaces (no target: they
    /// run in the port's own namespaces).
    Netns(NetnsOp),
    /// Bind descriptor `fd` of the node (the process at the other end of
    /// the fd channel) as a netlink socket with `nl_pid = 0` and `groups`.
    NetlinkBindFd {
        fd: i32,
        groups: u32,
    },
    Version,
    Stats,
    Ping(Term),
}

/// One message of a netlink batch.
#[derive(Debug, Clone, PartialEq)]
pub struct NlMsg {
    pub msg: Vec<u8>,
    /// At each byte offset, a `u32` in host byte order written just
    /// before the message is sent.
    pub patches: Vec<(usize, Patch)>,
}

/// What a netlink batch writes into a message just before sending it.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch {
    /// The descriptor of a target's network namespace.
    NsFd(Target),
    /// The index of the link of this name, as it is then: it may have
    /// been made by an earlier message of the same batch.
    Ifindex(Vec<u8>),
}

/// Most ops in one batch.
pub const MAX_BATCH: usize = 10_000;

/// Most namespace descriptors one netlink call puts in its messages.
pub const MAX_NS_FDS: usize = 16;

impl Op {
    /// The target the op runs in, if it has one.
    pub fn target(&self) -> Option<&Target> {
        match self {
            Op::SysctlRead { target, .. }
            | Op::SysctlWrite { target, .. }
            | Op::SysctlList { target, .. }
            | Op::NetlinkOpen { target, .. }
            | Op::SocketOpen { target, .. }
            | Op::NetlinkCall { target, .. }
            | Op::NetlinkBatch { target, .. }
            | Op::Batch { target, .. }
            | Op::Apply { target, .. } => Some(target),
            _ => None,
        }
    }

    /// Whether the op needs only its target's network namespace (sockets
    /// belong to the network namespace they are made in, and need no other).
    pub fn net_only(&self) -> bool {
        matches!(
            self,
            Op::NetlinkOpen { .. } | Op::SocketOpen { .. } | Op::NetlinkCall { .. } | Op::NetlinkBatch { .. }
        )
    }

    /// The op's name, for statistics.
    pub fn name(&self) -> &'static str {
        match self {
            Op::SysctlRead { .. } => "sysctl_read",
            Op::SysctlWrite { .. } => "sysctl_write",
            Op::SysctlList { .. } => "sysctl_list",
            Op::NetlinkOpen { .. } => "netlink_open",
            Op::SocketOpen { .. } => "socket_open",
            Op::NetlinkCall { .. } => "netlink_call",
            Op::NetlinkBatch { .. } => "netlink_batch",
            Op::Batch { .. } => "batch",
            Op::Apply { .. } => "sysctl_apply",
            Op::Netns(n) => n.name(),
            Op::NetlinkBindFd { .. } => "netlink_bind_fd",
            Op::Version => "version",
            Op::Stats => "stats",
            Op::Ping(_) => "ping",
        }
    }
}

/// A request: the caller's id and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: u64,
    pub op: Op,
}
