//! C-node mode: the port-mode service as the registered process `linx` of
//! a hidden Erlang node, reached over Erlang distribution instead of a pipe.
//!
//! ```text
//! linx_port --cnode --name linx@HOST --cookie-file FILE [--listen ADDR:PORT]
//!
//! gen_server:call({linx, 'linx@HOST'}, Op)     -> Result   (any Op of src/wire)
//! {linx, 'linx@HOST'} ! {Pid, Ref, Op}         -> Pid gets {Ref, Result}
//!
//! C-node-only ops:
//!   os_pid                       -> {ok, OsPid}
//!   {fd_to, Name, Tag, Op}       -> the result of Op (netlink_open or socket_open); the
//!                                   descriptor goes to the AF_UNIX SOCK_SEQPACKET listener
//!                                   at the abstract address "\0Name" (Name = "linx-" and
//!                                   letters, digits or '-'), one message whose payload is
//!                                   <<Tag:64/big>> and whose control data is SCM_RIGHTS
//! ```
//!
//! The node registers with the local epmd as a hidden node and listens on
//! loopback unless told otherwise (`--listen`). Every connection goes
//! through the cookie handshake (erl_dist, protocol version 6); a wrong
//! cookie ends it. After that:
//! - `REG_SEND` to `linx` is a request: `{'$gen_call', {Pid, Tag}, Op}` (a
//!   `gen_server:call`; OTP 25's `[alias|Ref]` tags are answered with
//!   `ALIAS_SEND` when the peer supports aliases, so a reply that comes after
//!   the caller gave up is dropped by its node) or `{Pid, Ref, Op}`.
//! - `MONITOR_P` of `linx` is accepted (the monitor fires, as `noconnection`,
//!   when this process or the connection dies); of any other name or pid
//!   it is answered at once with `MONITOR_P_EXIT` `noproc`, so calls to a
//!   name that does not exist here fail at once. `DEMONITOR_P` is ignored.
//!   `net_kernel` answers `{is_auth, Node}` with `yes`, so `net_adm:ping/1`
//!   works.
//! - Every tick is answered with a tick; a connection silent for
//!   `--net-ticktime` seconds (default 60, as Erlang's) is closed.
//!   `FRAGMENTS` and the atom cache are not advertised; a control message
//!   erl_dist does not know ends the connection (and is logged).
//! - An op that a request's ETF limits refuse (a fun, nesting deeper than
//!   64) is answered `{error, {decode, badterm}}`, as in port mode.
//! - Handshakes and live connections are held to the limits of
//!   [`limits`]: a flood of idle connections makes the oldest give way
//!   rather than keep a new caller out.
//!
//! Requests go to the same [`Dispatcher`] as in port mode (same decoding,
//! policy, executor, namespace helpers), with a request id of this
//! process's own; the [`Router`] maps each reply's id back to its
//! connection, caller and tag. When a connection ends (the caller's node
//! went down or was cut off), its pending replies are dropped: nothing is
//! sent for them, and their ids are forgotten.
//!
//! # Runtime and tasks
//! One tokio runtime on the main thread (current-thread flavour) runs the
//! accept loop, the epmd registration, the log's reports and, per
//! connection, one task that reads and serves it and one that writes what
//! its socket did not take at once. erl_dist's handshake and epmd client are written against the
//! `futures` I/O traits and run on tokio streams through `tokio-util`'s
//! compat layer. Nothing blocking runs on the runtime: namespace work
//! (`setns`) runs on the executor's and helpers' own threads, and their
//! replies go straight to the connection's socket through the [`Router`].
//!
//! # Layout
//! - [`config`]: node name, cookie file, listening address.
//! - [`epmd`]: registration with epmd, renewed when epmd restarts.
//! - [`accept`]: accepting connections, and the handshake under a deadline.
//! - [`limits`]: the connection table: how many handshakes and live
//!   connections, and which give way when it is full.
//! - [`conn`]: one connection: reading and serving its messages.
//! - [`out`]: a connection's sending side, written from any thread.
//! - [`dist`]: distribution messages: the ETF check, frames, calls, C-node ops.
//! - [`router`]: request ids to callers; the dispatcher's sink.
//! - [`log`]: warnings a peer can repeat (refused connections, dropped
//!   messages), at most one line a second per kind, with a count of the rest.
//! - [`ratelimit`]: the rule behind [`log`], with the clock as an argument.

pub mod accept;
pub mod config;
pub mod conn;
pub mod dist;
pub mod epmd;
pub mod limits;
pub mod log;
pub mod out;
pub mod ratelimit;
pub mod router;

pub use config::{config_from_args, default_listen, read_cookie, Config, StartError};

use crate::dispatch::{Dispatcher, Parts};
use crate::ns::{helper, Executor, Helpers, Resolver};
use crate::ops::fdchan::PerRequest;
use crate::stats::Stats;
use erl_dist::node::{Creation, LocalNode, NodeName};
use erl_dist::DistributionFlags;
use limits::Limits;
use log::Log;
use router::Router;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The registered name requests are sent to.
pub const SERVICE_NAME: &str = "linx";

/// State shared by the accept loop and the connections.
pub struct Shared {
    node: NodeName,
    cookie: String,
    creation: Creation,
    dispatcher: Dispatcher<Router>,
    router: Arc<Router>,
    per_request: PerRequest,
    stats: Arc<Stats>,
    limits: Limits,
    log: Arc<Log>,
    /// How long a live connection may stay silent.
    net_ticktime: Duration,
}

impl Shared {
    fn local_node(&self) -> LocalNode {
        let mut local = LocalNode::new(self.node.clone(), self.creation);
        // Hidden (no PUBLISHED); no FRAGMENTS, no atom cache.
        local.flags = DistributionFlags::mandatory()
            | DistributionFlags::DIST_MONITOR
            | DistributionFlags::DIST_MONITOR_NAME
            | DistributionFlags::ALIAS;
        local
    }
}

/// Run the C-node until the process is killed. Returns an exit status.
pub fn serve(cfg: Config) -> i32 {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let result = match runtime {
        Ok(rt) => rt.block_on(start(cfg)),
        Err(e) => Err(StartError::Runtime(e)),
    };
    match result {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("linx_port: {e}");
            3
        }
    }
}

async fn start(cfg: Config) -> Result<Infallible, StartError> {
    let node: NodeName = cfg
        .node
        .parse()
        .map_err(|e: erl_dist::node::NodeNameError| StartError::Name(cfg.node.clone(), e.to_string()))?;
    if node.name().is_empty()
        || !node
            .name()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(StartError::Name(
            cfg.node.clone(),
            "letters, digits, '_' and '-' only".into(),
        ));
    }
    let listen = cfg.listen.unwrap_or_else(|| default_listen(node.host()));
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| StartError::Listen(listen, e))?;
    let port = listener.local_addr().map_err(|e| StartError::Listen(listen, e))?.port();
    let (keepalive, creation) = epmd::register_at_start(node.name(), port)
        .await
        .map_err(StartError::Epmd)?;

    let stats = Arc::new(Stats::default());
    let router = Arc::new(Router::new(node.clone(), creation, Arc::clone(&stats)));
    let opts = cfg.port;
    let limits = helper::Limits {
        idle: opts.executor.idle,
        max: opts.executor.max_workers,
        liveness: opts.liveness,
    };
    let per_request = PerRequest::default();
    let log = Arc::new(Log::default());
    let dispatcher = Dispatcher::new(Parts {
        resolver: Resolver::new(),
        executor: Executor::new(opts.executor, Arc::clone(&router), Arc::clone(&stats)),
        stats: Arc::clone(&stats),
        sink: Arc::clone(&router),
        fdchan: None,
        policy: opts.policy,
        helpers: Some(Helpers::new(Arc::clone(&router), None, Arc::clone(&stats), limits)),
    })
    .with_per_request_fdchans(per_request.clone());
    let shared = Arc::new(Shared {
        node: node.clone(),
        cookie: cfg.cookie,
        creation,
        dispatcher,
        router,
        per_request,
        stats,
        limits: Limits::new(Arc::clone(&log)),
        log: Arc::clone(&log),
        net_ticktime: cfg.net_ticktime,
    });
    tokio::spawn(epmd::keep_registered(keepalive, node.name().to_string(), port));
    tokio::spawn(log.report_loop());
    eprintln!("linx_port: C-node {node} (hidden) listening on {}:{port}", listen.ip());
    Ok(accept::accept_loop(shared, listener).await)
}
