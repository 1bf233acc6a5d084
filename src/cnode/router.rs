//! Replies to their callers: each request this C-node serves gets an id of
//! its own and a [`Route`] (connection, caller, reply tag). The router is
//! the dispatcher's [`Sink`]: whichever thread finishes a request (the
//! connection's task, a worker, a helper's reader) delivers its reply
//! straight to the connection's socket. When a connection ends its routes
//! are dropped: nothing is sent for them.

use super::dist::{frame, tagged, Dest};
use super::out::Out;
use crate::error::{OpError, Stage};
use crate::ns::helper::Frame;
use crate::ns::Sink;
use crate::ops::Outcome;
use crate::stats::Stats;
use crate::wire;
use eetf::{Pid, Term, Tuple};
use erl_dist::message::Message;
use erl_dist::node::{Creation, NodeName};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Where the reply of a request goes.
pub struct Route {
    pub conn: u64,
    pub out: Arc<Out>,
    pub to: Dest,
    /// The first element of the reply tuple.
    pub tag: Term,
    /// The connection's count of requests in flight.
    pub inflight: Arc<AtomicUsize>,
}

/// Requests in progress, by this process's request id.
pub struct Router {
    node: NodeName,
    creation: Creation,
    stats: Arc<Stats>,
    routes: Mutex<HashMap<u64, Route>>,
    next_id: AtomicU64,
}

impl Router {
    pub fn new(node: NodeName, creation: Creation, stats: Arc<Stats>) -> Self {
        Router {
            node,
            creation,
            stats,
            routes: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    fn routes(&self) -> MutexGuard<'_, HashMap<u64, Route>> {
        // Every update is one call: a poisoned map is still consistent.
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register where the reply of a new request goes; returns its id.
    pub fn open(&self, route: Route) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        route.inflight.fetch_add(1, Ordering::AcqRel);
        self.routes().insert(id, route);
        id
    }

    /// Forget every request of a connection that ended.
    pub fn close_conn(&self, conn: u64) {
        self.routes().retain(|_, r| r.conn != conn);
    }

    /// The pid replies are sent from (this node has no real processes).
    fn own_pid(&self) -> Pid {
        Pid::new(self.node.to_string(), 0, 0, self.creation.get())
    }

    /// The message that delivers `term` to `to`.
    pub fn envelope(&self, to: Dest, term: Term) -> Message {
        match to {
            Dest::Pid(pid) => Message::send(pid, term),
            Dest::Alias(alias) => Message::alias_send(self.own_pid(), alias, term),
        }
    }

    /// Deliver the result term of request `id` to whoever waits for it, if
    /// anyone still does.
    fn deliver(&self, id: u64, result: Term) {
        let Some(route) = self.routes().remove(&id) else {
            // Its connection is gone: the caller's node went down.
            return;
        };
        route.inflight.fetch_sub(1, Ordering::AcqRel);
        match frame(self.envelope(route.to, tagged(route.tag, result))) {
            Some(f) => route.out.send(&f),
            None => eprintln!("linx_port: reply {id} could not be encoded"),
        }
    }
}

impl Sink for Router {
    fn result(&self, id: u64, outcome: Outcome) {
        if outcome.is_error() {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        if id == 0 {
            return eprintln!("linx_port: notice: {}", wire::outcome_term(&outcome));
        }
        self.deliver(id, wire::outcome_term(&outcome));
    }

    fn relay(&self, id: u64, frame: Frame) {
        let decoded = wire::check_etf(&frame.0)
            .ok()
            .and_then(|()| Term::decode(&frame.0[..]).ok());
        if id == 0 {
            return match decoded {
                Some(t) => eprintln!("linx_port: notice: {t}"),
                None => eprintln!("linx_port: undecodable notice of {} bytes", frame.0.len()),
            };
        }
        // A namespace helper's `{Id, Result}`.
        let result = match decoded {
            Some(Term::Tuple(Tuple { mut elements })) if elements.len() == 2 => elements.remove(1),
            _ => wire::error_term(&OpError::word(Stage::Decode, "reply")),
        };
        self.deliver(id, result);
    }

    fn notice(&self, text: &str) {
        eprintln!("linx_port: {text}");
    }
}
