//! linx: sysctl and sockets inside Linux namespaces, served to the BEAM by a
//! separate process (`linx_port`) so that namespace work can never take the
//! VM down.
//!
//! # Layout
//! - [`codec`]: `{packet,4}` framing, the ETF structural check, ETF ⇄ typed
//!   requests and replies. No I/O of its own; the wire protocol is documented there.
//! - [`dispatch`]: a decoded request to a reply; namespace work goes to the executor.
//! - [`ns`]: targets to ordered sets of open, checked namespace files.
//! - [`executor`]: worker threads pinned to one namespace set each, bounded queues.
//! - [`sysctl`]: read, write and list under a `/proc/sys` descriptor with `openat2`.
//! - [`socket`]: netlink and other sockets created in a target's network namespace.
//! - [`fdchan`]: the `SCM_RIGHTS` sender that hands descriptors to the BEAM.
//! - [`helper`]: single-threaded helper processes for targets with a user namespace.
//! - [`server`]: the port-mode loop: reader, dispatcher, writer thread.
//! - [`cnode`]: C-node mode: the same dispatcher as a hidden Erlang node (erl_dist,
//!   epmd, cookie), replies routed back to each caller.
//! - [`error`]: the `{error, {Stage, Reason}}` type and errno atoms.
//! - [`policy`]: which ops, targets and write paths a port may serve, fixed at start.
//! - [`privs`]: no_new_privs and dropping the capabilities linx does not need.
//! - [`stats`]: counters for the `stats` op.
//! - [`sys`]: the thin, `unsafe` syscall layer (`openat2`, pidfds, nsfs checks).

pub mod cnode;
pub mod codec;
pub mod dispatch;
pub mod error;
pub mod executor;
pub mod fdchan;
pub mod helper;
pub mod ns;
pub mod policy;
pub mod privs;
pub mod server;
pub mod socket;
pub mod stats;
pub mod sys;
pub mod sysctl;
