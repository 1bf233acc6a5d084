//! C-node mode: the port-mode service as the registered process `linx` of
//! a hidden Erlang node, reached over Erlang distribution instead of a pipe.
//!
//! ```text
//! linx_port --cnode --name linx@HOST --cookie-file FILE [--listen ADDR:PORT]
//!
//! gen_server:call({linx, 'linx@HOST'}, Op)     -> Result   (any Op of src/codec.rs)
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
//! - Every tick is answered with a tick. `FRAGMENTS` and the atom cache are
//!   not advertised; a control message erl_dist does not know ends the
//!   connection (and is logged).
//!
//! Requests go to the same [`Dispatcher`] as in port mode (same decoding,
//! policy, executor, namespace helpers), with a request id of this
//! process's own; a router thread maps each reply's id back to its
//! connection, caller and tag. When a connection ends (the caller's node
//! went down or was cut off), its pending replies are dropped: nothing is
//! sent for them, and their ids are forgotten.
//!
//! # Runtime and threads
//! smol runs the accept loop, the epmd registration and each connection's
//! handshake: erl_dist's handshake and epmd client are written against the
//! `futures` I/O traits, which smol's `TcpStream` implements as it is;
//! tokio would need compat wrappers around a shared stream. These tasks run
//! on the main thread (a local executor inside `block_on`).
//!
//! Once a handshake is done the connection leaves the runtime and gets a
//! thread of its own, blocked in `read(2)`: a request wakes exactly the
//! thread that serves it, which costs two syscalls per call (through the
//! reactor it took about ten, and a hand-off between threads). That thread
//! decodes and dispatches, and answers itself what needs no worker
//! (`version`, `stats`, `ping`, `os_pid`). Namespace work (`setns`) runs on
//! the executor's and helpers' own threads as in port mode; their replies
//! come through the outbox to the router thread, which writes them straight
//! to the socket (a non-blocking `send`) when nothing is queued before
//! them. Only what the socket does not take at once goes to a writer
//! thread, started for the connection the first time that happens.

use crate::codec::{self, Reply};
use crate::dispatch::{Dispatcher, VERSION};
use crate::error::{atom, OpError, Stage};
use crate::executor::Executor;
use crate::fdchan::{FdChan, PerRequest};
use crate::helper::Helpers;
use crate::ns::Resolver;
use crate::server::Options;
use crate::stats::Stats;
use eetf::{BigInteger, Binary, FixInteger, ImproperList, Pid, Reference, Term, Tuple};
use erl_dist::epmd::{EpmdClient, NodeEntry, DEFAULT_EPMD_PORT};
use erl_dist::handshake::{HandshakeError, HandshakeStatus, ServerSideHandshake};
use erl_dist::message::{Message, RecvError};
use erl_dist::node::{Creation, LocalNode, NodeName};
use erl_dist::term::PidOrAtom;
use erl_dist::DistributionFlags;
use nix::errno::Errno;
use nix::sys::socket::{send, MsgFlags};
use smol::io::AsyncReadExt;
use smol::net::{TcpListener, TcpStream};
use smol::LocalExecutor;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The registered name requests are sent to.
pub const SERVICE_NAME: &str = "linx";
/// Largest distribution message accepted: a request frame's limit plus
/// room for the control message.
pub const MAX_DIST_FRAME: usize = codec::MAX_FRAME + 64 * 1024;
/// Most connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// Most bytes waiting to be written to one connection; a peer that lets
/// more pile up is not reading, and is disconnected.
const MAX_PENDING: usize = 64 << 20;
/// How long a connection may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The type byte of a distribution message without a distribution header.
const PASS_THROUGH: u8 = 112;

/// How the C-node was started.
#[derive(Debug)]
pub struct Config {
    /// `name@host`.
    pub node: String,
    /// The distribution cookie.
    pub cookie: String,
    /// Where to listen; `None`: loopback (see [`default_listen`]), a port
    /// chosen by the kernel.
    pub listen: Option<SocketAddr>,
    /// Executor limits and policy, as in port mode.
    pub port: Options,
}

/// Why the C-node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("bad node name {0:?}: {1}")]
    Name(String, String),
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, io::Error),
    #[error("cannot register with epmd: {0}")]
    Epmd(String),
    #[error("cannot start a thread: {0}")]
    Thread(io::Error),
}

/// The C-node configuration from `--name`, `--cookie-file` and `--listen`
/// (keys with their dashes) and the options shared with port mode.
pub fn config_from_args(mut args: HashMap<String, String>, port: Options) -> Result<Config, String> {
    let node = args.remove("--name").ok_or("--cnode needs --name NAME@HOST")?;
    let file = args.remove("--cookie-file").ok_or("--cnode needs --cookie-file FILE")?;
    let cookie = read_cookie(&file)?;
    let listen = match args.remove("--listen") {
        Some(a) => Some(
            a.parse()
                .map_err(|_| format!("--listen wants ADDRESS:PORT, not {a:?}"))?,
        ),
        None => None,
    };
    if port.fdchan.is_some() {
        return Err("--fd-socket is for port mode; C-node callers bring their own channel".into());
    }
    Ok(Config {
        node,
        cookie,
        listen,
        port,
    })
}

/// Read a cookie file: the first line, trimmed, not empty. The file must
/// not be readable or writable by group or others (as for
/// `~/.erlang.cookie`).
pub fn read_cookie(path: &str) -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("{path}: {e}"))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!("{path}: must not be accessible by group or others (chmod 600)"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let cookie = text.lines().next().unwrap_or("").trim().to_string();
    if cookie.is_empty() || cookie.len() > 255 {
        return Err(format!("{path}: no cookie on its first line (1 to 255 characters)"));
    }
    Ok(cookie)
}

/// The default listening address: the loopback address `host` resolves to
/// (Debian maps the host name to 127.0.1.1), else 127.0.0.1. Peers
/// connect to the address they resolve the node's host to, so a host that
/// resolves elsewhere needs `--listen`.
pub fn default_listen(host: &str) -> SocketAddr {
    let resolved: Vec<SocketAddr> = (host, 0).to_socket_addrs().map(|a| a.collect()).unwrap_or_default();
    let loopback = resolved.iter().find(|a| a.is_ipv4() && a.ip().is_loopback());
    if loopback.is_none() && !resolved.is_empty() {
        eprintln!(
            "linx_port: {host} resolves to {}, not loopback; listening on 127.0.0.1 only (use --listen to serve other addresses)",
            resolved[0].ip()
        );
    }
    SocketAddr::new(loopback.map(|a| a.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)), 0)
}

/// Run the C-node until the process is killed. Returns an exit status.
pub fn serve(cfg: Config) -> i32 {
    match start(cfg) {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("linx_port: {e}");
            3
        }
    }
}

enum Never {}

fn start(cfg: Config) -> Result<Never, StartError> {
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

    let stats = Arc::new(Stats::default());
    let (tx, rx) = mpsc::channel::<(u64, Reply)>();
    let opts = cfg.port;
    let helpers = Helpers::new(tx.clone(), None, Arc::clone(&stats), opts.executor.idle);
    let executor = Executor::new(opts.executor, tx.clone(), Arc::clone(&stats));
    let per_request = PerRequest::default();
    let dispatcher = Dispatcher::new(
        Resolver::new(),
        executor,
        Arc::clone(&stats),
        tx.clone(),
        None,
        opts.policy,
        Some(helpers),
    )
    .with_per_request_fdchans(per_request.clone());

    EXECUTOR.with(|ex| {
        smol::block_on(ex.run(async move {
            let listener = TcpListener::bind(listen)
                .await
                .map_err(|e| StartError::Listen(listen, e))?;
            let port = listener.local_addr().map_err(|e| StartError::Listen(listen, e))?.port();
            let (keepalive, creation) = register(node.name(), port).await.map_err(StartError::Epmd)?;
            let shared = Arc::new(Shared {
                node: node.clone(),
                cookie: cfg.cookie,
                creation,
                dispatcher,
                per_request,
                out: tx,
                stats,
                routes: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                next_conn: AtomicU64::new(1),
                conns: AtomicUsize::new(0),
            });
            {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name("linx-router".into())
                    .spawn(move || router(&shared, rx))
                    .map_err(StartError::Thread)?;
            }
            spawn_local(keep_registered(keepalive, node.name().to_string(), port));
            eprintln!("linx_port: C-node {node} (hidden) listening on {}:{port}", listen.ip());
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        if shared.conns.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                            eprintln!("linx_port: connection from {peer} refused: {MAX_CONNECTIONS} connections open");
                            continue;
                        }
                        let shared = Arc::clone(&shared);
                        spawn_local(async move { connection(&shared, stream, peer).await });
                    }
                    Err(e) => {
                        // EMFILE and friends: wait a little rather than spin.
                        eprintln!("linx_port: accept failed: {e}");
                        smol::Timer::after(Duration::from_millis(100)).await;
                    }
                }
            }
        }))
    })
}

thread_local! {
    /// Every task of the C-node, run by `block_on` on the main thread.
    static EXECUTOR: LocalExecutor<'static> = const { LocalExecutor::new() };
}

fn spawn_local(fut: impl std::future::Future<Output = ()> + 'static) {
    EXECUTOR.with(|ex| ex.spawn(fut).detach());
}

/// Register `name` on `port` with the local epmd; keep the returned
/// connection open to stay registered.
async fn register(name: &str, port: u16) -> Result<(TcpStream, Creation), String> {
    let conn = TcpStream::connect((Ipv4Addr::LOCALHOST, DEFAULT_EPMD_PORT))
        .await
        .map_err(|e| format!("no epmd on 127.0.0.1:{DEFAULT_EPMD_PORT} ({e}); start it with `epmd -daemon`"))?;
    EpmdClient::new(conn)
        .register(NodeEntry::new_hidden(name, port))
        .await
        .map_err(|e| format!("{e} (is the name {name:?} already registered?)"))
}

/// Watch the epmd connection; when epmd goes away (restarted), register
/// again until it works.
async fn keep_registered(mut conn: TcpStream, name: String, port: u16) {
    loop {
        let mut byte = [0u8; 1];
        // epmd never sends anything on this connection: this returns when
        // it closes.
        let _ = conn.read(&mut byte).await;
        eprintln!("linx_port: epmd connection lost; registering again");
        loop {
            smol::Timer::after(Duration::from_secs(1)).await;
            match register(&name, port).await {
                Ok((c, _)) => {
                    conn = c;
                    break;
                }
                Err(e) => eprintln!("linx_port: {e}"),
            }
        }
    }
}

/// State shared by the accept loop, the connections and the router.
struct Shared {
    node: NodeName,
    cookie: String,
    creation: Creation,
    dispatcher: Dispatcher,
    per_request: PerRequest,
    out: mpsc::Sender<(u64, Reply)>,
    stats: Arc<Stats>,
    /// Requests in progress, by this process's request id.
    routes: Mutex<HashMap<u64, Route>>,
    next_id: AtomicU64,
    next_conn: AtomicU64,
    conns: AtomicUsize,
}

/// Where the reply of a request goes.
struct Route {
    conn: u64,
    out: Arc<Out>,
    to: Dest,
    /// The first element of the reply tuple.
    tag: Term,
}

enum Dest {
    Pid(Pid),
    Alias(Reference),
}

impl Shared {
    fn routes(&self) -> MutexGuard<'_, HashMap<u64, Route>> {
        // Every update is one call: a poisoned map is still consistent.
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pid replies are sent from (this node has no real processes).
    fn own_pid(&self) -> Pid {
        Pid::new(self.node.to_string(), 0, 0, self.creation.get())
    }

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

/// One connection: the handshake here, then a thread of its own.
async fn connection(shared: &Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    // Without TCP_NODELAY each reply waits for the peer's delayed ack
    // (~40 ms): the handshake and the replies are written in pieces.
    if let Err(e) = stream.set_nodelay(true) {
        eprintln!("linx_port: {peer}: cannot set TCP_NODELAY: {e}");
    }
    let handshake = async {
        let mut hs = ServerSideHandshake::new(stream, shared.local_node(), &shared.cookie);
        match hs.execute_recv_name().await? {
            Some(name) => hs.execute_rest(HandshakeStatus::Ok).await.map(|(s, p)| (s, p, name)),
            // A dynamic name (NAME_ME) is not handed out here.
            None => {
                hs.execute_rest(HandshakeStatus::NotAllowed).await?;
                Err(HandshakeError::NotAllowed)
            }
        }
    };
    let timeout = async {
        smol::Timer::after(HANDSHAKE_TIMEOUT).await;
        Err(HandshakeError::Io(io::Error::from(io::ErrorKind::TimedOut)))
    };
    let (stream, peer_node, name) = match smol::future::or(handshake, timeout).await {
        Ok(done) => done,
        Err(HandshakeError::CookieMismatch) => {
            eprintln!("linx_port: connection from {peer} refused: wrong cookie");
            return;
        }
        Err(e) => {
            eprintln!("linx_port: handshake with {peer} failed: {e}");
            return;
        }
    };
    let aliases = peer_node.flags.contains(DistributionFlags::ALIAS);
    // The async runtime's part ends here: the connection gets a thread of
    // its own that blocks in read(2), so a request wakes exactly the thread
    // that serves it (through the reactor each call cost about ten
    // syscalls and a hand-off).
    let stream = match Arc::<smol::Async<std::net::TcpStream>>::from(stream).into_inner_stream() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("linx_port: connection with {name} ({peer}): {e}");
            return;
        }
    };
    let shared = Arc::clone(shared);
    let conn = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    shared.conns.fetch_add(1, Ordering::Relaxed);
    let spawned = std::thread::Builder::new()
        .name("linx-conn".into())
        .spawn(move || serve_connection(&shared, conn, stream, aliases, name, peer));
    if let Err(e) = spawned {
        eprintln!("linx_port: no thread for {peer}: {e}");
    }
}

/// Turn the async stream back into a blocking `std` one.
trait IntoStdStream {
    fn into_inner_stream(self) -> io::Result<std::net::TcpStream>;
}

impl IntoStdStream for Arc<smol::Async<std::net::TcpStream>> {
    fn into_inner_stream(self) -> io::Result<std::net::TcpStream> {
        let only = Arc::try_unwrap(self).map_err(|_| io::Error::other("stream still shared"))?;
        let stream = only.into_inner()?;
        stream.set_nonblocking(false)?;
        Ok(stream)
    }
}

/// A connection's thread: read and serve until the peer goes away, then
/// forget what it was still waiting for.
fn serve_connection(
    shared: &Arc<Shared>,
    conn: u64,
    stream: std::net::TcpStream,
    aliases: bool,
    name: NodeName,
    peer: SocketAddr,
) {
    let reader = stream.try_clone();
    let out = Arc::new(Out {
        stream,
        state: Mutex::new(OutState::default()),
        more: Condvar::new(),
        writer: Mutex::new(None),
    });
    let mut c = Conn {
        shared,
        conn,
        out,
        aliases,
    };
    let why = match reader {
        Ok(r) => c.read_loop(r),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = why {
        eprintln!("linx_port: connection with {name} ({peer}) ended: {e}");
    }
    // Drop what is still pending for this connection; nothing more is
    // written to it.
    shared.routes().retain(|_, r| r.conn != conn);
    c.out.close();
    shared.conns.fetch_sub(1, Ordering::Relaxed);
}

/// The sending side of one connection, shared by its thread, its writer
/// thread (started when first needed) and the router thread.
struct Out {
    stream: std::net::TcpStream,
    state: Mutex<OutState>,
    /// Signalled when `pending` gets bytes or the connection closes.
    more: Condvar,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[derive(Default)]
struct OutState {
    /// Bytes the socket did not take at once, in order.
    pending: Vec<u8>,
    /// The writer thread holds bytes taken from `pending`.
    writing: bool,
    closed: bool,
}

impl Out {
    fn lock(&self) -> MutexGuard<'_, OutState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Send one frame: straight to the socket when nothing waits before
    /// it, else after what waits. A peer that lets [`MAX_PENDING`] bytes
    /// pile up is not reading and is disconnected.
    fn send(self: &Arc<Self>, frame: &[u8]) {
        let mut st = self.lock();
        if st.closed {
            return;
        }
        let mut rest = frame;
        if !st.writing && st.pending.is_empty() {
            let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
            match send(self.stream.as_raw_fd(), frame, flags) {
                Ok(n) if n == frame.len() => return,
                Ok(n) => rest = &frame[n..],
                Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(_) => {
                    // Broken: the reader sees it too and ends the connection.
                    drop(st);
                    return self.close();
                }
            }
        }
        if st.pending.len() + rest.len() > MAX_PENDING {
            drop(st);
            eprintln!("linx_port: a peer does not read its replies ({MAX_PENDING} bytes queued); disconnecting it");
            return self.close();
        }
        st.pending.extend_from_slice(rest);
        drop(st);
        self.more.notify_one();
        self.ensure_writer();
    }

    /// Start the writer thread the first time the socket is full.
    fn ensure_writer(self: &Arc<Self>) {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if writer.is_none() {
            let out = Arc::clone(self);
            match std::thread::Builder::new()
                .name("linx-conn-writer".into())
                .spawn(move || out.write_loop())
            {
                Ok(handle) => *writer = Some(handle),
                Err(e) => {
                    drop(writer);
                    eprintln!("linx_port: no writer thread: {e}");
                    self.close();
                }
            }
        }
    }

    /// Stop writing and shut the socket down (which also ends the reader).
    fn close(&self) {
        self.lock().closed = true;
        self.more.notify_all();
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Write what [`Out::send`] could not, in order, blocking as needed.
    fn write_loop(&self) {
        let mut stream = &self.stream;
        loop {
            let buf = {
                let mut st = self.lock();
                loop {
                    if st.closed {
                        return;
                    }
                    if !st.pending.is_empty() {
                        break;
                    }
                    st.writing = false;
                    st = self.more.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                st.writing = true;
                std::mem::take(&mut st.pending)
            };
            if std::io::Write::write_all(&mut stream, &buf).is_err() {
                return self.close();
            }
        }
    }
}

/// Why a connection ended (other than the peer closing it).
#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("message of {0} bytes exceeds the limit")]
    TooLarge(usize),
    #[error("message with type byte {0} (only 112 is accepted)")]
    BadType(u8),
    #[error("unsupported control message {0}")]
    Unsupported(i32),
}

struct Conn<'a> {
    shared: &'a Arc<Shared>,
    conn: u64,
    out: Arc<Out>,
    aliases: bool,
}

impl Conn<'_> {
    fn read_loop(&mut self, stream: std::net::TcpStream) -> Result<(), ConnError> {
        use std::io::Read;
        // A call arrives as three messages (MONITOR_P, REG_SEND,
        // DEMONITOR_P): read them with one syscall, not six.
        let mut stream = std::io::BufReader::with_capacity(64 * 1024, stream);
        let mut buf = Vec::new();
        loop {
            let mut len = [0u8; 4];
            match stream.read_exact(&mut len) {
                Ok(()) => {}
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
            stream.read_exact(&mut buf)?;
            if buf[0] != PASS_THROUGH {
                return Err(ConnError::BadType(buf[0]));
            }
            let body = &buf[1..];
            if let Err(e) = codec::check_dist(body) {
                self.shared.stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                eprintln!("linx_port: distribution message dropped: {e}");
                continue;
            }
            match Message::read_from(&mut &body[..]) {
                Ok(msg) => self.message(msg),
                Err(RecvError::UnsupportedOp { op }) => return Err(ConnError::Unsupported(op)),
                Err(e) => {
                    self.shared.stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                    eprintln!("linx_port: distribution message dropped: {e}");
                }
            }
        }
    }

    fn push(&self, frame: Vec<u8>) {
        self.out.send(&frame);
    }

    fn message(&mut self, msg: Message) {
        match msg {
            Message::RegSend(m) if m.to_name.name == SERVICE_NAME => self.request(m.message),
            Message::RegSend(m) if m.to_name.name == "net_kernel" => self.net_kernel(m.message),
            Message::MonitorP(m) => {
                let known =
                    matches!(&m.to_proc, PidOrAtom::Atom(a) if a.name == SERVICE_NAME || a.name == "net_kernel");
                if !known {
                    let exit = Message::monitor_p_exit(m.to_proc, m.from_pid, m.reference, atom("noproc"));
                    if let Some(f) = frame(exit) {
                        self.push(f);
                    }
                }
            }
            Message::Link(m) => {
                // There is no process to link to.
                if let Some(f) = frame(Message::exit(m.to_pid, m.from_pid, atom("noproc"))) {
                    self.push(f);
                }
            }
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
            other => eprintln!("linx_port: control message ignored: {}", control_name(&other)),
        }
    }

    /// `net_kernel` only answers `{is_auth, Node}` (what `net_adm:ping/1` sends).
    fn net_kernel(&self, message: Term) {
        if let Some((to, tag, Term::Tuple(Tuple { elements }))) = gen_call(message, self.aliases) {
            if matches!(elements.first(), Some(Term::Atom(a)) if a.name == "is_auth") {
                let reply = Term::from(Tuple::from(vec![tag, atom("yes")]));
                if let Some(f) = frame(self.shared.envelope(to, reply)) {
                    self.push(f);
                }
            }
        }
    }

    /// A message to `linx`: a `gen_server` call or `{Pid, Ref, Op}`.
    fn request(&mut self, message: Term) {
        let (to, tag, op) = match gen_call(message, self.aliases) {
            Some(call) => call,
            None => return,
        };
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let route = Route {
            conn: self.conn,
            out: Arc::clone(&self.out),
            to,
            tag,
        };
        self.shared.routes().insert(id, route);
        match cnode_op(op) {
            CnodeOp::Now(reply) => {
                // Nothing to wait for (and the policy always allows these):
                // answer from this thread, without the trip through the router.
                self.shared.stats.requests.fetch_add(1, Ordering::Relaxed);
                let reply = match reply {
                    Reply::Counters(_) => Reply::Counters(self.shared.stats.snapshot()),
                    other => other,
                };
                self.shared.route(id, reply);
            }
            CnodeOp::FdTo { name, tag, op } => {
                // On this connection's thread, which is in the C-node's own
                // network namespace (abstract names are per netns).
                match FdChan::connect_tagged(&name, tag) {
                    Ok(chan) => {
                        self.shared.per_request.insert(id, Arc::new(chan));
                        self.shared.dispatch(id, op);
                        // Not taken when the op makes no socket.
                        let _ = self.shared.per_request.take(id);
                    }
                    Err(e) => self.shared.reply(id, OpError::errno(Stage::SendFd, e).into()),
                }
            }
            CnodeOp::Bad(e) => self.shared.reply(id, e.into()),
            CnodeOp::Other(op) => self.shared.dispatch(id, op),
        }
    }
}

/// `{'$gen_call', {Pid, Tag}, Op}` or `{Pid, Ref, Op}`: where the reply
/// goes, the reply's tag and the op. Anything else is ignored (and logged).
fn gen_call(message: Term, aliases: bool) -> Option<(Dest, Term, Term)> {
    let shape = |m: &Term| format!("{m}").chars().take(80).collect::<String>();
    let Term::Tuple(Tuple { elements }) = message else {
        eprintln!("linx_port: message ignored: {}", shape(&message));
        return None;
    };
    let Ok([first, second, op]) = <[Term; 3]>::try_from(elements) else {
        return None;
    };
    match (first, second) {
        (Term::Atom(a), Term::Tuple(Tuple { elements: from })) if a.name == "$gen_call" => {
            let Ok([Term::Pid(pid), tag]) = <[Term; 2]>::try_from(from) else {
                return None;
            };
            let to = match &tag {
                Term::ImproperList(ImproperList { elements, last }) if aliases => {
                    match (elements.as_slice(), last.as_ref()) {
                        ([Term::Atom(a)], Term::Reference(r)) if a.name == "alias" => Dest::Alias((**r).clone()),
                        _ => Dest::Pid(pid),
                    }
                }
                _ => Dest::Pid(pid),
            };
            Some((to, tag, op))
        }
        (Term::Pid(pid), tag) => Some((Dest::Pid(pid), tag, op)),
        (first, _) => {
            eprintln!("linx_port: message ignored: {{{}, ...}}", shape(&first));
            None
        }
    }
}

/// The ops the C-node serves itself.
enum CnodeOp {
    /// `os_pid`, `version`, `stats` (filled in later), `{ping, Term}`.
    Now(Reply),
    FdTo {
        name: String,
        tag: u64,
        op: Term,
    },
    Bad(OpError),
    Other(Term),
}

fn cnode_op(op: Term) -> CnodeOp {
    match op {
        Term::Atom(a) if a.name == "os_pid" => {
            CnodeOp::Now(Reply::Term(Term::from(FixInteger::from(std::process::id() as i32))))
        }
        Term::Atom(a) if a.name == "version" => CnodeOp::Now(Reply::Value(VERSION.as_bytes().to_vec())),
        Term::Atom(a) if a.name == "stats" => CnodeOp::Now(Reply::Counters(Vec::new())),
        Term::Tuple(Tuple { mut elements })
            if elements.len() == 2 && matches!(&elements[0], Term::Atom(a) if a.name == "ping") =>
        {
            CnodeOp::Now(Reply::Term(elements.remove(1)))
        }
        Term::Tuple(Tuple { elements }) if matches!(elements.first(), Some(Term::Atom(a)) if a.name == "fd_to") => {
            let Ok([_, name, tag, op]) = <[Term; 4]>::try_from(elements) else {
                return CnodeOp::Bad(OpError::badarg("arity"));
            };
            let name = match name {
                Term::Binary(Binary { bytes }) if valid_fd_name(&bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                _ => return CnodeOp::Bad(OpError::badarg("fd_socket")),
            };
            let tag = match tag {
                Term::FixInteger(FixInteger { value }) if value >= 0 => value as u64,
                Term::BigInteger(BigInteger { value }) => match u64::try_from(&value) {
                    Ok(t) => t,
                    Err(_) => return CnodeOp::Bad(OpError::badarg("tag")),
                },
                _ => return CnodeOp::Bad(OpError::badarg("tag")),
            };
            CnodeOp::FdTo { name, tag, op }
        }
        other => CnodeOp::Other(other),
    }
}

/// `linx-` followed by letters, digits and `-`: the form the Erlang side
/// makes, and nothing that could name another program's socket.
fn valid_fd_name(name: &[u8]) -> bool {
    name.len() <= 100
        && name.starts_with(b"linx-")
        && name.len() > 5
        && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

impl Shared {
    /// Answer request `id` (through the router, like every reply).
    fn reply(&self, id: u64, reply: Reply) {
        let _ = self.out.send((id, reply));
    }

    /// Serve an op as port mode would a frame `{Id, Op}`: same checks,
    /// policy, and namespace helpers for targets with a user namespace.
    fn dispatch(&self, id: u64, op: Term) {
        let frame = Term::from(Tuple::from(vec![int(id), op]));
        let mut bytes = Vec::with_capacity(128);
        let checked = frame.encode(&mut bytes).is_ok() && codec::check_etf(&bytes).is_ok();
        if checked {
            self.dispatcher.handle_frame(&bytes);
        } else {
            // Without this, a refused term would be answered under id 0.
            self.stats.bad_frames.fetch_add(1, Ordering::Relaxed);
            self.reply(id, OpError::word(Stage::Decode, "badterm").into());
        }
    }

    /// The message that delivers `term` to `to`.
    fn envelope(&self, to: Dest, term: Term) -> Message {
        match to {
            Dest::Pid(pid) => Message::send(pid, term),
            Dest::Alias(alias) => Message::alias_send(self.own_pid(), alias, term),
        }
    }

    /// Deliver one reply to whoever waits for it, if anyone still does.
    fn route(&self, id: u64, reply: Reply) {
        if id == 0 {
            return log_notice(&reply);
        }
        if reply.is_error() {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        let Some(route) = self.routes().remove(&id) else {
            // Its connection is gone: the caller's node went down.
            return;
        };
        let result = match reply {
            // A namespace helper's `{Id, Result}`.
            Reply::Frame(body) => match Term::decode(&body[..]) {
                Ok(Term::Tuple(Tuple { mut elements })) if elements.len() == 2 => elements.remove(1),
                _ => OpError::word(Stage::Decode, "reply").to_term(),
            },
            other => other.to_term(),
        };
        let message = Term::from(Tuple::from(vec![route.tag, result]));
        match frame(self.envelope(route.to, message)) {
            Some(f) => route.out.send(&f),
            None => eprintln!("linx_port: reply {id} could not be encoded"),
        }
    }
}

/// The router: every reply the dispatcher, executor and helpers produce
/// goes through here to its connection's writer.
fn router(shared: &Shared, rx: Receiver<(u64, Reply)>) {
    while let Ok((id, reply)) = rx.recv() {
        shared.route(id, reply);
    }
}

/// Replies with id 0 (log lines, notices) go to stderr.
fn log_notice(reply: &Reply) {
    match reply {
        Reply::Log(level, text) => eprintln!("linx_port: {level}: {text}"),
        Reply::Frame(body) => match Term::decode(&body[..]) {
            Ok(t) => eprintln!("linx_port: notice: {t}"),
            Err(_) => eprintln!("linx_port: undecodable notice of {} bytes", body.len()),
        },
        other => eprintln!("linx_port: notice: {}", other.to_term()),
    }
}

/// A complete distribution frame: length, type byte, control and message.
fn frame(msg: Message) -> Option<Vec<u8>> {
    let mut buf = vec![0, 0, 0, 0, PASS_THROUGH];
    msg.write_into(&mut buf).ok()?;
    let len = u32::try_from(buf.len() - 4).ok()?;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    Some(buf)
}

fn int(v: u64) -> Term {
    match i32::try_from(v) {
        Ok(small) => Term::from(FixInteger::from(small)),
        Err(_) => Term::from(BigInteger::from(v)),
    }
}

fn control_name(m: &Message) -> &'static str {
    match m {
        Message::GroupLeader(_) => "GROUP_LEADER",
        Message::SpawnRequest(_) | Message::SpawnRequestTt(_) => "SPAWN_REQUEST",
        Message::NodeLink(_) => "NODE_LINK",
        Message::Unlink(_) => "UNLINK",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eetf::Atom;

    fn pid() -> Pid {
        Pid::new("caller@host", 42, 0, 1)
    }

    fn reference() -> Reference {
        Reference {
            node: Atom::from("caller@host"),
            id: vec![1, 2, 3],
            creation: 1,
        }
    }

    #[test]
    fn gen_call_with_alias_tag_replies_to_the_alias() {
        let tag = Term::from(ImproperList {
            elements: vec![atom("alias")],
            last: Box::new(Term::from(reference())),
        });
        let from = Term::from(Tuple::from(vec![Term::from(pid()), tag.clone()]));
        let msg = Term::from(Tuple::from(vec![atom("$gen_call"), from, atom("version")]));
        let (to, got_tag, op) = gen_call(msg.clone(), true).expect("a call");
        assert!(matches!(to, Dest::Alias(r) if r == reference()));
        assert_eq!(got_tag, tag);
        assert_eq!(op, atom("version"));
        // Without alias support the reply goes to the pid.
        let (to, _, _) = gen_call(msg, false).expect("a call");
        assert!(matches!(to, Dest::Pid(p) if p == pid()));
    }

    #[test]
    fn plain_request_replies_to_the_pid() {
        let msg = Term::from(Tuple::from(vec![
            Term::from(pid()),
            Term::from(reference()),
            atom("stats"),
        ]));
        let (to, tag, op) = gen_call(msg, true).expect("a request");
        assert!(matches!(to, Dest::Pid(p) if p == pid()));
        assert_eq!(tag, Term::from(reference()));
        assert_eq!(op, atom("stats"));
    }

    #[test]
    fn other_messages_are_ignored() {
        assert!(gen_call(atom("hello"), true).is_none());
        assert!(gen_call(Term::from(Tuple::from(vec![atom("a"), atom("b"), atom("c")])), true).is_none());
        let cast = Term::from(Tuple::from(vec![atom("$gen_cast"), atom("x")]));
        assert!(gen_call(cast, true).is_none());
    }

    #[test]
    fn fd_names_are_restricted() {
        assert!(valid_fd_name(b"linx-0A1b2C"));
        assert!(!valid_fd_name(b"linx-"));
        assert!(!valid_fd_name(b"other-1234"));
        assert!(!valid_fd_name(b"linx-../x"));
        assert!(!valid_fd_name(b"linx-a\0b"));
        assert!(!valid_fd_name(&[b'a'; 200]));
    }

    #[test]
    fn fd_to_is_decoded() {
        let op = Term::from(Tuple::from(vec![
            atom("fd_to"),
            Term::from(Binary::from(b"linx-abc".to_vec())),
            Term::from(FixInteger::from(7)),
            atom("version"),
        ]));
        assert!(matches!(cnode_op(op), CnodeOp::FdTo { tag: 7, .. }));
        let bad = Term::from(Tuple::from(vec![
            atom("fd_to"),
            Term::from(Binary::from(b"/tmp/x".to_vec())),
            Term::from(FixInteger::from(7)),
            atom("version"),
        ]));
        assert!(matches!(cnode_op(bad), CnodeOp::Bad(_)));
        assert!(matches!(cnode_op(atom("os_pid")), CnodeOp::Now(Reply::Term(_))));
        assert!(matches!(cnode_op(atom("version")), CnodeOp::Now(Reply::Value(_))));
        let ping = Term::from(Tuple::from(vec![atom("ping"), atom("x")]));
        assert!(matches!(cnode_op(ping), CnodeOp::Now(Reply::Term(t)) if t == atom("x")));
        let read = Term::from(Tuple::from(vec![atom("sysctl_read"), atom("x"), atom("self")]));
        assert!(matches!(cnode_op(read), CnodeOp::Other(_)));
    }

    #[test]
    fn frames_carry_their_length() {
        let f = frame(Message::send(pid(), atom("ok"))).expect("encodes");
        assert_eq!(u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize, f.len() - 4);
        assert_eq!(f[4], PASS_THROUGH);
        assert!(codec::check_dist(&f[5..]).is_ok());
        let back = Message::read_from(&mut &f[5..]).expect("decodes");
        assert_eq!(back, Message::send(pid(), atom("ok")));
    }

    #[test]
    fn dist_check_refuses_garbage() {
        assert!(codec::check_dist(&[131, 104, 1, 97]).is_err());
        assert!(codec::check_dist(&[131, 106, 131, 106, 131, 106]).is_err());
        assert!(codec::check_dist(&[131, 106]).is_ok());
        // A pid whose node is not an atom.
        assert!(codec::check_dist(&[131, 88, 97, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
