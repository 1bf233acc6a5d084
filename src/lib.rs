//! linx: sysctl and sockets inside Linux namespaces, served to the BEAM by a
//! separate process (`linx_port`) so that namespace work can never take the
//! VM down.
//!
//! # Layout
//! The folders are the layers; a request flows down through them and each
//! imports only the ones below it:
//! `port` / `cnode` → [`wire`] → [`dispatch`] → [`ns`] → [`ops`] → [`sys`].
//! Beneath them all, importing none of them: [`frame`], [`error`], [`stats`].
//!
//! - [`port`]: the port front end: stdin frames in; replies are written by the
//!   threads that produce them, whichever finds the output free (no writer thread).
//! - [`cnode`]: the C-node front end: the same dispatcher as a hidden Erlang node
//!   (erl_dist on tokio: epmd, accept, handshake, a task per connection).
//! - [`wire`]: on [`frame`]s, the ETF pre-check, typed request decoding (and
//!   encoding, for a namespace helper) and reply encoding. Only this layer knows
//!   the wire protocol (documented there).
//! - [`dispatch`]: a typed request to its outcome: policy, immediate answers, target
//!   resolution, hand-off to a worker or a namespace helper.
//! - [`ns`]: targets, namespace sets, the executor (namespace-pinned worker threads)
//!   and the helpers (single-threaded processes for user namespaces); results leave
//!   through the front end's [`ns::Sink`].
//! - [`ops`]: sysctl read/write/list, batch and apply, sockets, the fd channel; each
//!   runs inside its target and returns a typed [`ops::Outcome`].
//! - [`sys`]: the thin syscall layer and capabilities: the only place with `unsafe`.
//! - [`frame`]: `{packet,4}` framing (length prefix, size cap, a whole frame or
//!   more bytes needed): `wire` and the namespace helpers in [`ns`] both frame
//!   with it.
//! - [`cli`]: the command line, parsed into what to run.
//! - [`error`]: the typed error (`Stage` and reason) every layer returns.
//! - [`stats`]: counters for the `stats` op.

#![deny(unsafe_code)]

pub mod cli;
pub mod cnode;
pub mod dispatch;
pub mod error;
pub mod frame;
pub mod ns;
pub mod ops;
pub mod port;
pub mod stats;
#[allow(unsafe_code)]
pub mod sys;
pub mod wire;
