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
    use std::io::Read;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // Non-blocking, and looked at once open: a FIFO (or any file but a
    // regular one) is refused instead of blocking the start.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| format!("{path}: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("{path}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{path}: not a regular file"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!("{path}: must not be accessible by group or others (chmod 600)"));
    }
    let mut text = String::new();
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(|e| format!("{path}: {e}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("linx-cookie-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn cookie_files() {
        let dir = scratch("files");
        let good = dir.join("good");
        std::fs::write(&good, "secret\nignored\n").unwrap();
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_cookie(good.to_str().unwrap()), Ok("secret".to_string()));
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_cookie(good.to_str().unwrap()).unwrap_err().contains("chmod 600"));
        // A FIFO with no writer would block a plain open: refused at once.
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(read_cookie(fifo.to_str().unwrap())
            .unwrap_err()
            .contains("not a regular file"));
        assert!(read_cookie(dir.to_str().unwrap())
            .unwrap_err()
            .contains("not a regular file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
