//! How a C-node is configured: node name, cookie file, listening address.

use crate::cli::CnodeArgs;
use crate::port::Options;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

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
    #[error("cannot start the runtime: {0}")]
    Runtime(io::Error),
}

/// The C-node configuration from its command line and the options shared
/// with port mode; reads the cookie file.
pub fn config_from_args(args: CnodeArgs, port: Options) -> Result<Config, String> {
    Ok(Config {
        node: args.name,
        cookie: read_cookie(&args.cookie_file)?,
        listen: args.listen,
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
