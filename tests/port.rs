//! The `linx_port` binary as a black box: frames in, frames out.

use eetf::{Atom, Binary, FixInteger, Term, Tuple};
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

struct Port {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
}

impl Port {
    fn start() -> Port {
        let mut child = Command::new(env!("CARGO_BIN_EXE_linx_port"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start linx_port");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let mut port = Port { child, stdin, stdout };
        let ready = port.recv();
        assert_eq!(
            ready.to_string(),
            format!("{{0,{{'ready',{}}}}}", bin_str(env!("CARGO_PKG_VERSION")))
        );
        port
    }
    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write");
        stdin.flush().expect("flush");
    }
    fn send_frame(&mut self, payload: &[u8]) {
        let mut f = (payload.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(payload);
        self.send_raw(&f);
    }
    fn send(&mut self, term: &Term) {
        let mut v = Vec::new();
        term.encode(&mut v).unwrap();
        self.send_frame(&v);
    }
    fn recv(&mut self) -> Term {
        let mut h = [0u8; 4];
        self.stdout.read_exact(&mut h).expect("reply header");
        let mut body = vec![0; u32::from_be_bytes(h) as usize];
        self.stdout.read_exact(&mut body).expect("reply body");
        Term::decode(&body[..]).expect("reply is ETF")
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin_str(s: &str) -> String {
    Term::from(Binary::from(s.as_bytes().to_vec())).to_string()
}
fn atom(s: &str) -> Term {
    Term::from(Atom::from(s))
}
fn int(i: i32) -> Term {
    Term::from(FixInteger::from(i))
}
fn tuple(v: Vec<Term>) -> Term {
    Term::from(Tuple::from(v))
}
fn req(id: i32, op: Term) -> Term {
    tuple(vec![int(id), op])
}

#[test]
fn ready_then_ops_then_clean_exit_on_eof() {
    let mut p = Port::start();
    p.send(&req(1, atom("version")));
    assert_eq!(
        p.recv().to_string(),
        format!("{{1,{{'ok',{}}}}}", bin_str(env!("CARGO_PKG_VERSION")))
    );
    p.send(&req(2, tuple(vec![atom("ping"), atom("hello")])));
    assert_eq!(p.recv().to_string(), "{2,{'ok','hello'}}");
    p.send(&req(
        3,
        tuple(vec![
            atom("sysctl_read"),
            Term::from(Binary::from(b"kernel/ostype".to_vec())),
            atom("self"),
        ]),
    ));
    assert_eq!(p.recv().to_string(), format!("{{3,{{'ok',{}}}}}", bin_str("Linux\n")));

    // End of input: exit status 0, promptly.
    drop(p.stdin.take());
    let start = Instant::now();
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "port did not exit on EOF");
        std::thread::yield_now();
    }
}

#[test]
fn malformed_frames_get_error_replies_and_the_port_goes_on() {
    let mut p = Port::start();
    p.send_frame(b"");
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','badterm'}}}");
    p.send_frame(&[131, 104, 2, 97]); // truncated {_, _}
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','badterm'}}}");
    p.send_frame(&[0xde, 0xad, 0xbe, 0xef, 0, 1, 2]);
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','badterm'}}}");
    p.send(&tuple(vec![atom("a"), atom("version")]));
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','badframe'}}}");
    p.send(&req(9, tuple(vec![atom("sysctl_read")])));
    assert_eq!(p.recv().to_string(), "{9,{'error',{'badarg','arity'}}}");
    p.send(&req(
        10,
        tuple(vec![
            atom("sysctl_read"),
            Term::from(Binary::from(b"../../etc/passwd".to_vec())),
            atom("self"),
        ]),
    ));
    assert_eq!(p.recv().to_string(), "{10,{'error',{'badarg','path'}}}");

    // A length prefix over the limit: refused, skipped, the stream stays in step.
    let big = (16u32 << 20) + 1;
    let mut raw = big.to_be_bytes().to_vec();
    raw.resize(4 + big as usize, 0x41);
    p.send_raw(&raw);
    assert_eq!(p.recv().to_string(), "{0,{'error',{'decode','too_large'}}}");

    // An oversized request whose head holds its id is refused to its caller.
    for id in [12i32, 70_000] {
        let mut v = Vec::new();
        let huge = Term::from(Binary::from(vec![0x42; big as usize]));
        req(id, tuple(vec![atom("ping"), huge])).encode(&mut v).unwrap();
        p.send_frame(&v);
        assert_eq!(
            p.recv().to_string(),
            format!("{{{id},{{'error',{{'decode','too_large'}}}}}}")
        );
    }

    p.send(&req(11, atom("version")));
    assert_eq!(
        p.recv().to_string(),
        format!("{{11,{{'ok',{}}}}}", bin_str(env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn huge_prefix_then_eof_exits_without_allocating() {
    let mut p = Port::start();
    p.send_raw(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    drop(p.stdin.take());
    let status = p.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
