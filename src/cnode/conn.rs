//! One connection after its handshake: a task that reads distribution
//! messages and serves them; replies leave through the connection's [`Out`].
//!
//! Requests are decoded and dispatched on the connection's task; what
//! needs no worker (`version`, `stats`, `ping`, `os_pid`) is answered
//! there. Namespace work runs on the executor's and helpers' own threads,
//! which write their replies to the socket themselves (a non-blocking
//! `send`) when nothing is queued before them; only what the socket does
//! not take at once waits for the connection's writer task.

use super::dist::{check_dist, cnode_op, control_name, frame, gen_call, noproc, tagged, CnodeOp, PASS_THROUGH};
use super::limits::Activity;
use super::log::Warn;
use super::out::Out;
use super::router::Route;
use super::{Shared, SERVICE_NAME};
use crate::dispatch::Request;
use crate::error::{OpError, Stage};
use crate::ns::Sink;
use crate::ops::fdchan::FdChan;
use crate::ops::Outcome;
use crate::wire;
use crate::wire::etf_check::check_term;
use eetf::{FixInteger, Term, Tuple};
use erl_dist::message::{Message, RecvError};
use erl_dist::term::PidOrAtom;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Largest distribution message accepted: a request frame's limit plus
/// room for the control message.
pub const MAX_DIST_FRAME: usize = wire::MAX_FRAME + 64 * 1024;

/// Why a connection ended (other than the peer closing it).
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("message of {0} bytes exceeds the limit")]
    TooLarge(usize),
    #[error("message with type byte {0} (only 112 is accepted)")]
    BadType(u8),
    #[error("unsupported control message {0}")]
    Unsupported(i32),
    #[error("refused: every connection has requests in flight")]
    Full,
    #[error("nothing received for {0} s (no tick)")]
    Silent(u64),
}

/// Serve a connection until the peer goes away, then forget what it was
/// still waiting for.
pub async fn serve(
    shared: Arc<Shared>,
    conn: u64,
    ip: IpAddr,
    stream: TcpStream,
    aliases: bool,
) -> Result<(), ConnError> {
    let (out, reader, writing) = Out::start(stream, Arc::clone(&shared.log))?;
    let Some(activity) = shared.limits.admit(conn, ip, Arc::clone(&out)) else {
        out.close();
        let _ = writing.await;
        return Err(ConnError::Full);
    };
    let mut c = Conn {
        shared: &shared,
        conn,
        out: Arc::clone(&out),
        aliases,
        activity,
    };
    let why = c.read_loop(reader).await;
    shared.limits.closed(conn);
    shared.router.close_conn(conn);
    out.close();
    let _ = writing.await;
    why
}

struct Conn<'a> {
    shared: &'a Arc<Shared>,
    conn: u64,
    out: Arc<Out>,
    aliases: bool,
    activity: Activity,
}

impl Conn<'_> {
    async fn read_loop(&mut self, reader: OwnedReadHalf) -> Result<(), ConnError> {
        // A call arrives as three messages (MONITOR_P, REG_SEND,
        // DEMONITOR_P): read them with one syscall, not six.
        let mut stream = BufReader::with_capacity(64 * 1024, reader);
        let mut buf = Vec::new();
        // A peer ticks at least every quarter of its net_ticktime; one
        // silent for a whole net_ticktime is gone, as Erlang decides.
        let silence = self.shared.net_ticktime;
        let silent = || ConnError::Silent(silence.as_secs());
        loop {
            let mut len = [0u8; 4];
            match timeout(silence, stream.read_exact(&mut len))
                .await
                .map_err(|_| silent())?
            {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e.into()),
            }
            let len = u32::from_be_bytes(len) as usize;
            if len == 0 {
                // A tick: answer it, or peers with a short net_ticktime
                // give up on this connection.
                self.out.send(&[0, 0, 0, 0]);
                continue;
            }
            if len > MAX_DIST_FRAME {
                return Err(ConnError::TooLarge(len));
            }
            buf.clear();
            buf.resize(len, 0);
            timeout(silence, stream.read_exact(&mut buf))
                .await
                .map_err(|_| silent())??;
            if buf[0] != PASS_THROUGH {
                return Err(ConnError::BadType(buf[0]));
            }
            let body = &buf[1..];
            if let Err(e) = check_dist(body) {
                self.shared.stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                self.dropped(&e);
                continue;
            }
            match Message::read_from(&mut &body[..]) {
                Ok(msg) => self.message(msg),
                Err(RecvError::UnsupportedOp { op }) => return Err(ConnError::Unsupported(op)),
                Err(e) => {
                    self.shared.stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                    self.dropped(&e);
                }
            }
        }
    }

    fn dropped(&self, why: &dyn std::fmt::Display) {
        let line = || format!("distribution message dropped: {why}");
        self.shared.log.warn(Warn::MessageDropped, line);
    }

    fn push(&self, msg: Message) {
        if let Some(f) = frame(msg) {
            self.out.send(&f);
        }
    }

    fn message(&mut self, msg: Message) {
        match msg {
            Message::RegSend(m) if m.to_name.name == SERVICE_NAME => self.request(m.message),
            Message::RegSend(m) if m.to_name.name == "net_kernel" => self.net_kernel(m.message),
            Message::MonitorP(m) => {
                let known =
                    matches!(&m.to_proc, PidOrAtom::Atom(a) if a.name == SERVICE_NAME || a.name == "net_kernel");
                if !known {
                    self.push(Message::monitor_p_exit(m.to_proc, m.from_pid, m.reference, noproc()));
                }
            }
            // There is no process to link to.
            Message::Link(m) => self.push(Message::exit(m.to_pid, m.from_pid, noproc())),
            Message::DemonitorP(_)
            | Message::RegSend(_)
            | Message::Send(_)
            | Message::SendSender(_)
            | Message::AliasSend(_)
            | Message::Exit(_)
            | Message::Exit2(_)
            | Message::PayloadExit(_)
            | Message::PayloadExit2(_)
            | Message::UnlinkId(_)
            | Message::Tick => {}
            other => {
                let line = || format!("control message ignored: {}", control_name(&other));
                self.shared.log.warn(Warn::MessageIgnored, line);
            }
        }
    }

    /// `net_kernel` only answers `{is_auth, Node}` (what `net_adm:ping/1` sends).
    fn net_kernel(&self, message: Term) {
        if let Some((to, tag, Term::Tuple(Tuple { elements }))) = gen_call(message, self.aliases, &self.shared.log) {
            if matches!(elements.first(), Some(Term::Atom(a)) if a.name == "is_auth") {
                let reply = tagged(tag, wire::reply::atom("yes"));
                self.push(self.shared.router.envelope(to, reply));
            }
        }
    }

    /// A message to `linx`: a `gen_server` call or `{Pid, Ref, Op}`.
    fn request(&mut self, message: Term) {
        let Some((to, tag, op)) = gen_call(message, self.aliases, &self.shared.log) else {
            return;
        };
        let router = &self.shared.router;
        let activity = &self.activity;
        activity
            .last_request_ms
            .store(self.shared.limits.now_ms(), Ordering::Relaxed);
        let id = router.open(Route {
            conn: self.conn,
            out: Arc::clone(&self.out),
            to,
            tag,
            inflight: Arc::clone(&activity.inflight),
        });
        match cnode_op(op) {
            CnodeOp::OsPid => {
                self.shared.stats.requests.fetch_add(1, Ordering::Relaxed);
                let pid = Term::from(FixInteger::from(std::process::id() as i32));
                router.result(id, Outcome::Echo(pid));
            }
            CnodeOp::FdTo { name, tag, op } => {
                // On this connection's task, which is in the C-node's own
                // network namespace (abstract names are per netns).
                match FdChan::connect_tagged(&name, tag) {
                    Ok(chan) => {
                        self.shared.per_request.insert(id, Arc::new(chan));
                        self.dispatch(id, op);
                        // Not taken when the op makes no socket.
                        let _ = self.shared.per_request.take(id);
                    }
                    Err(e) => router.result(id, OpError::errno(Stage::SendFd, e).into()),
                }
            }
            CnodeOp::Bad(e) => router.result(id, e.into()),
            CnodeOp::Other(op) => self.dispatch(id, op),
        }
    }

    /// Serve an op as port mode serves a frame `{Id, Op}`: same decoding,
    /// checks, policy, and namespace helpers (which are sent the request
    /// encoded, the only time it is).
    fn dispatch(&self, id: u64, op: Term) {
        if check_term(&op).is_err() {
            // What port mode answers for a frame its ETF check refuses.
            self.shared.stats.bad_frames.fetch_add(1, Ordering::Relaxed);
            return self
                .shared
                .router
                .result(id, OpError::word(Stage::Decode, "badterm").into());
        }
        match wire::decode_op(op) {
            Ok(op) => self.shared.dispatcher.handle(Request { id, op }, wire::encode_request),
            Err(e) => {
                self.shared.stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                self.shared.router.result(id, e.into());
            }
        }
    }
}
