//! The C-node under hostile connections, through real TCP and the
//! distribution handshake (erl_dist as the client, epmd started if need
//! be): floods of idle connections must not lock a caller out, a silent
//! connection is dropped after `--net-ticktime`, and an op that cannot be
//! decoded is answered rather than dropped.

use eetf::{Atom, ExternalFun, FixInteger, Pid, Reference, Term, Tuple};
use erl_dist::handshake::ClientSideHandshake;
use erl_dist::message::Message;
use erl_dist::node::{Creation, LocalNode};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncReadCompatExt;

const COOKIE: &str = "linx-test-cookie";

/// A C-node on loopback, killed on drop.
struct Cnode {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Cnode {
    fn start(name: &str, extra: &[&str]) -> Cnode {
        let _ = Command::new("epmd")
            .arg("-daemon")
            .status()
            .expect("epmd (Erlang) is installed");
        let dir = std::env::temp_dir().join(format!("linx-cnode-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cookie = dir.join("cookie");
        std::fs::write(&cookie, COOKIE).unwrap();
        std::fs::set_permissions(&cookie, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let node = format!("{name}{}@localhost", std::process::id());
        let mut child = Command::new(env!("CARGO_BIN_EXE_linx_port"))
            .args(["--cnode", "--name", &node, "--cookie-file", cookie.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the C-node");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut said = Vec::new();
        let port = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("the C-node ended without saying where it listens: {said:?}");
            };
            if let Some(addr) = line.split("listening on ").nth(1) {
                break addr.rsplit(':').next().unwrap().parse().unwrap();
            }
            said.push(line);
        };
        // Keep reading its log so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Cnode { child, port, dir }
    }
}

impl Drop for Cnode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn me() -> Pid {
    Pid::new("tester@localhost", 1, 0, 1)
}

/// Connect and pass the handshake.
async fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    // The handshake is written in pieces: without this each waits ~40 ms.
    stream.set_nodelay(true).unwrap();
    let local = LocalNode::new("tester@localhost".parse().unwrap(), Creation::random());
    let mut hs = ClientSideHandshake::new(stream.compat(), local, COOKIE);
    hs.execute_send_name(erl_dist::LOWEST_DISTRIBUTION_PROTOCOL_VERSION)
        .await
        .expect("send name");
    let (stream, _) = hs.execute_rest(true).await.expect("handshake");
    stream.into_inner()
}

/// Send `{Pid, Ref, Op}` to `linx` and wait for `{Ref, Result}`.
async fn request(stream: &mut TcpStream, n: u32, op: Term) -> Term {
    let reference = Reference::from(("tester@localhost", n));
    let msg = Term::from(Tuple::from(vec![Term::from(me()), Term::from(reference.clone()), op]));
    let mut frame = vec![0, 0, 0, 0, 112];
    Message::reg_send(me(), Atom::from("linx"), msg)
        .write_into(&mut frame)
        .unwrap();
    let len = (frame.len() - 4) as u32;
    frame[..4].copy_from_slice(&len.to_be_bytes());
    stream.write_all(&frame).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), reply(stream, reference))
        .await
        .expect("a reply within 30 s")
}

async fn reply(stream: &mut TcpStream, reference: Reference) -> Term {
    loop {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).await.expect("a reply");
        let mut body = vec![0; u32::from_be_bytes(len) as usize];
        if body.is_empty() {
            continue;
        }
        stream.read_exact(&mut body).await.unwrap();
        if let Ok(Message::Send(m)) = Message::read_from(&mut &body[1..]) {
            let Term::Tuple(Tuple { mut elements }) = m.message else {
                panic!("reply is not a tuple")
            };
            assert_eq!(elements[0], Term::from(reference));
            return elements.remove(1);
        }
    }
}

fn version_ok(reply: &Term) -> bool {
    reply.to_string().starts_with("{'ok',")
}

#[test]
fn a_flood_of_idle_connections_does_not_lock_a_caller_out() {
    // Room for the flood in this process and in the C-node it starts.
    let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 8192, 8192);
    let cnode = Cnode::start("flood", &[]);
    let idle: Vec<std::net::TcpStream> = (0..1100)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", cnode.port)).expect("connect"))
        .collect();
    runtime().block_on(async {
        let mut s = connect(cnode.port).await;
        assert!(version_ok(&request(&mut s, 1, Term::from(Atom::from("version"))).await));
        // 256 authenticated connections that never ask anything: a new
        // caller still gets in (the idlest one gives way).
        let mut quiet = Vec::new();
        for _ in 0..256 {
            quiet.push(connect(cnode.port).await);
        }
        let mut late = connect(cnode.port).await;
        assert!(version_ok(
            &request(&mut late, 2, Term::from(Atom::from("version"))).await
        ));
    });
    drop(idle);
}

#[test]
fn a_silent_connection_is_dropped_a_ticking_one_is_kept() {
    let cnode = Cnode::start("ticks", &["--net-ticktime", "2"]);
    runtime().block_on(async {
        let mut silent = connect(cnode.port).await;
        let mut ticking = connect(cnode.port).await;
        // The ticking peer ticks every half second for three seconds.
        for _ in 0..6 {
            ticking.write_all(&[0, 0, 0, 0]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(version_ok(
            &request(&mut ticking, 1, Term::from(Atom::from("version"))).await
        ));
        // The silent one was closed by the C-node: end of stream (within a bound).
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(20), silent.read(&mut byte)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    });
}

#[test]
fn an_undecodable_op_is_answered() {
    let cnode = Cnode::start("badterm", &[]);
    runtime().block_on(async {
        let mut s = connect(cnode.port).await;
        let fun = Term::from(ExternalFun {
            module: Atom::from("erlang"),
            function: Atom::from("self"),
            arity: 0,
        });
        let ping = Term::from(Tuple::from(vec![Term::from(Atom::from("ping")), fun]));
        assert_eq!(
            request(&mut s, 1, ping).await.to_string(),
            "{'error',{'decode','badterm'}}"
        );
        let mut deep = Term::from(FixInteger::from(1));
        for _ in 0..100 {
            deep = Term::from(Tuple::from(vec![deep]));
        }
        let ping = Term::from(Tuple::from(vec![Term::from(Atom::from("ping")), deep]));
        assert_eq!(
            request(&mut s, 2, ping).await.to_string(),
            "{'error',{'decode','badterm'}}"
        );
        // The connection goes on.
        assert!(version_ok(&request(&mut s, 3, Term::from(Atom::from("version"))).await));
    });
}
