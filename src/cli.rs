//! The command line of `linx_port`, parsed with `lexopt` into what to run.
//!
//! ```text
//! linx_port [--fd-socket NAME] [--no-worker-cache] [--idle-ms MS]
//!           [--queue-len N] [--max-workers N] [--allow-ops OP,...]
//!           [--allow-targets KIND,...] [--allow-write-prefix PATH]...
//!           [--no-writes] [--keep-privileges] [--spin-us US]
//!           [--liveness-ms MS]
//! linx_port --cnode --name NAME@HOST --cookie-file FILE [--listen ADDR:PORT]
//!           [--net-ticktime SECONDS] [OPTIONS]
//! linx_port --version
//! linx_port --ns-helper FD:TYPE... chan:FD [parent:PID]  (started by linx_port itself)
//! ```
//!
//! Parsing does nothing else: connecting the fd channel, reading the
//! cookie and dropping privileges are `main`'s business.
//!
//! With `--fd-socket` (port mode started by a node) the first frame on
//! stdin is the fd channel's start token (see `linx::ops::fdchan`), and a
//! refused command line is reported as `{0, {bad_option, Text}}` on stdout
//! as well as on stderr, before the exit with status 2.

use crate::dispatch::Policy;
use crate::ns::executor::{Config, DEFAULT_SPIN};
use crate::ns::helper::DEFAULT_LIVENESS;
use std::net::SocketAddr;
use std::time::Duration;

/// Erlang's default `net_ticktime`, in seconds.
pub const DEFAULT_NET_TICKTIME: u64 = 60;

/// What the program was asked to do.
#[derive(Debug)]
pub enum Command {
    /// Print the version and exit.
    Version,
    /// Serve the port protocol on stdin and stdout.
    Port(Args),
    /// Serve as a C-node.
    Cnode(Args, CnodeArgs),
    /// Be a namespace helper: enter the namespaces given (`FD:TYPE` and
    /// `chan:FD`), then serve as a port pinned to them.
    Helper(Vec<String>),
}

/// Options port mode and C-node mode share.
#[derive(Debug)]
pub struct Args {
    /// The abstract socket name of the fd channel (port mode).
    pub fd_socket: Option<String>,
    pub executor: Config,
    pub policy: Policy,
    /// Keep every capability the program was started with.
    pub keep_privileges: bool,
    /// How long the reader and a worker keep looking for work before they
    /// sleep (`--spin-us`).
    pub spin: Duration,
    /// How long a busy namespace helper may stay silent, then leave a ping
    /// unanswered, before it is replaced (`--liveness-ms`).
    pub liveness: Duration,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            fd_socket: None,
            executor: Config::default(),
            policy: Policy::default(),
            keep_privileges: false,
            spin: DEFAULT_SPIN,
            liveness: DEFAULT_LIVENESS,
        }
    }
}

/// What C-node mode needs besides.
#[derive(Debug)]
pub struct CnodeArgs {
    /// `name@host`.
    pub name: String,
    pub cookie_file: String,
    pub listen: Option<SocketAddr>,
    /// Seconds a connection may stay silent (Erlang's `net_ticktime`).
    pub net_ticktime: u64,
}

/// A command line that cannot be served; the message says why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> Self {
        UsageError(e.to_string())
    }
}

/// Parse the arguments (without the program name).
pub fn parse<I>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator<Item = String>,
{
    use lexopt::prelude::*;
    let args: Vec<String> = args.into_iter().collect();
    if args.first().map(String::as_str) == Some("--ns-helper") {
        return Ok(Command::Helper(args[1..].to_vec()));
    }
    let mut parser = lexopt::Parser::from_args(args);
    let mut out = Args::default();
    let (mut cnode, mut name, mut cookie_file, mut listen) = (false, None, None, None);
    let mut net_ticktime = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("version") => return Ok(Command::Version),
            Long("cnode") => cnode = true,
            Long("name") => name = Some(string(&mut parser)?),
            Long("cookie-file") => cookie_file = Some(string(&mut parser)?),
            Long("listen") => {
                let value = string(&mut parser)?;
                let addr = value
                    .parse()
                    .map_err(|_| UsageError(format!("--listen wants ADDRESS:PORT, not {value:?}")))?;
                listen = Some(addr);
            }
            Long("net-ticktime") => net_ticktime = Some(positive(&mut parser, "--net-ticktime")?),
            Long("fd-socket") => out.fd_socket = Some(string(&mut parser)?),
            Long("no-worker-cache") => out.executor.cache = false,
            Long("spin-us") => {
                let value = string(&mut parser)?;
                let us = value
                    .parse::<u64>()
                    .ok()
                    .filter(|us| *us <= 1_000_000)
                    .ok_or_else(|| UsageError(format!("--spin-us needs 0 to 1000000, not {value:?}")))?;
                out.spin = Duration::from_micros(us);
                out.executor.spin = out.spin;
            }
            Long("keep-privileges") => out.keep_privileges = true,
            Long("no-writes") => out.policy.deny_writes(),
            Long("allow-ops") => allow(out.policy.allow_ops(&string(&mut parser)?), "--allow-ops")?,
            Long("allow-targets") => allow(out.policy.allow_targets(&string(&mut parser)?), "--allow-targets")?,
            Long("allow-write-prefix") => allow(
                out.policy.allow_write_prefix(&string(&mut parser)?),
                "--allow-write-prefix",
            )?,
            Long("idle-ms") => out.executor.idle = Duration::from_millis(positive(&mut parser, "--idle-ms")?),
            Long("queue-len") => out.executor.queue_len = positive(&mut parser, "--queue-len")? as usize,
            Long("liveness-ms") => out.liveness = Duration::from_millis(positive(&mut parser, "--liveness-ms")?),
            Long("max-workers") => out.executor.max_workers = positive(&mut parser, "--max-workers")? as usize,
            other => return Err(other.unexpected().into()),
        }
    }
    if !cnode {
        if name.is_some() || cookie_file.is_some() || listen.is_some() || net_ticktime.is_some() {
            return Err(UsageError(
                "--name, --cookie-file, --listen and --net-ticktime need --cnode".into(),
            ));
        }
        return Ok(Command::Port(out));
    }
    if out.fd_socket.is_some() {
        return Err(UsageError(
            "--fd-socket is for port mode; C-node callers bring their own channel".into(),
        ));
    }
    let name = name.ok_or_else(|| UsageError("--cnode needs --name NAME@HOST".into()))?;
    let cookie_file = cookie_file.ok_or_else(|| UsageError("--cnode needs --cookie-file FILE".into()))?;
    Ok(Command::Cnode(
        out,
        CnodeArgs {
            name,
            cookie_file,
            listen,
            net_ticktime: net_ticktime.unwrap_or(DEFAULT_NET_TICKTIME),
        },
    ))
}

fn string(parser: &mut lexopt::Parser) -> Result<String, UsageError> {
    use lexopt::ValueExt;
    Ok(parser.value()?.string()?)
}

fn positive(parser: &mut lexopt::Parser, what: &str) -> Result<u64, UsageError> {
    let value = string(parser)?;
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| UsageError(format!("{what} needs a positive number, not {value:?}")))
}

fn allow(set: Result<(), String>, what: &str) -> Result<(), UsageError> {
    set.map_err(|e| UsageError(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, UsageError> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn port_options() {
        let Ok(Command::Port(a)) = parse_str("--fd-socket linx-x --idle-ms 50 --max-workers 3 --no-worker-cache")
        else {
            panic!("port mode")
        };
        assert_eq!(a.fd_socket.as_deref(), Some("linx-x"));
        assert_eq!(a.executor.idle, Duration::from_millis(50));
        assert_eq!(a.executor.max_workers, 3);
        assert!(!a.executor.cache);
        assert_eq!(a.spin, DEFAULT_SPIN);
        assert_eq!(a.liveness, DEFAULT_LIVENESS);
        let Ok(Command::Port(a)) = parse_str("--spin-us 0 --liveness-ms 250") else {
            panic!("port mode")
        };
        assert!(a.spin.is_zero() && a.executor.spin.is_zero());
        assert_eq!(a.liveness, Duration::from_millis(250));
        assert!(matches!(parse_str(""), Ok(Command::Port(_))));
        assert!(matches!(parse_str("--version --bogus"), Ok(Command::Version)));
    }

    #[test]
    fn cnode_options() {
        let Ok(Command::Cnode(_, c)) = parse_str("--cnode --name l@h --cookie-file /c --listen 127.0.0.1:0") else {
            panic!("cnode mode")
        };
        assert_eq!((c.name.as_str(), c.cookie_file.as_str()), ("l@h", "/c"));
        assert!(c.listen.is_some());
        assert!(parse_str("--cnode --cookie-file /c").is_err());
        assert!(parse_str("--name l@h").is_err());
        assert!(parse_str("--cnode --name l@h --cookie-file /c --fd-socket x").is_err());
    }

    #[test]
    fn bad_lines() {
        for bad in [
            "--bogus",
            "stray",
            "--idle-ms 0",
            "--idle-ms x",
            "--queue-len",
            "--allow-ops nothing",
            "--allow-write-prefix ../x",
            "--listen nowhere",
            "--spin-us -1",
            "--spin-us 2000000",
            "--liveness-ms 0",
        ] {
            assert!(parse_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn helper_arguments_pass_through() {
        let Ok(Command::Helper(rest)) = parse_str("--ns-helper 3:1073741824 chan:4") else {
            panic!("helper mode")
        };
        assert_eq!(rest, vec!["3:1073741824", "chan:4"]);
    }
}
