//! The `linx_port` binary as a black box, for integration tests: start it,
//! send frames, read replies; and terms to build requests with.
#![allow(dead_code)]

use eetf::{Atom, Binary, FixInteger, List, Term, Tuple};
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub struct Port {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    stdout: ChildStdout,
}

impl Port {
    pub fn start() -> Port {
        Self::start_with(&[])
    }

    /// Start with these arguments and wait for the ready frame.
    pub fn start_with(args: &[&str]) -> Port {
        let mut child = Command::new(env!("CARGO_BIN_EXE_linx_port"))
            .args(args)
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
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write");
        stdin.flush().expect("flush");
    }
    pub fn send_frame(&mut self, payload: &[u8]) {
        let mut f = (payload.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(payload);
        self.send_raw(&f);
    }
    pub fn send(&mut self, term: &Term) {
        let mut v = Vec::new();
        term.encode(&mut v).unwrap();
        self.send_frame(&v);
    }
    pub fn recv(&mut self) -> Term {
        let mut h = [0u8; 4];
        self.stdout.read_exact(&mut h).expect("reply header");
        let mut body = vec![0; u32::from_be_bytes(h) as usize];
        self.stdout.read_exact(&mut body).expect("reply body");
        Term::decode(&body[..]).expect("reply is ETF")
    }

    /// Send `{Id, Op}` and return the printed reply.
    pub fn call(&mut self, id: i32, op: Term) -> String {
        self.send(&req(id, op));
        self.recv().to_string()
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn bin_str(s: &str) -> String {
    Term::from(Binary::from(s.as_bytes().to_vec())).to_string()
}
pub fn bin(s: &str) -> Term {
    Term::from(Binary::from(s.as_bytes().to_vec()))
}
pub fn atom(s: &str) -> Term {
    Term::from(Atom::from(s))
}
pub fn int(i: i32) -> Term {
    Term::from(FixInteger::from(i))
}
pub fn tuple(v: Vec<Term>) -> Term {
    Term::from(Tuple::from(v))
}
pub fn list(v: Vec<Term>) -> Term {
    Term::from(List::from(v))
}
pub fn req(id: i32, op: Term) -> Term {
    tuple(vec![int(id), op])
}
