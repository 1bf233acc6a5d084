//! `linx_port`: the program an Erlang node starts with `open_port`.
//! See the crate documentation (`src/lib.rs`) for the map of the code and
//! `linx::cli` for the command line.
//!
//! Before serving it sets no_new_privs and drops every capability it does
//! not need (see `linx::sys::caps`), unless `--keep-privileges` is given.

#![deny(unsafe_code)]

use linx::cli::{self, Args, Command};
use linx::ops::fdchan::{self, FdChan};
use linx::port::Options;
use linx::wire::reply;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Started by a node (which always names the fd channel): a refused
    // command line is also told to it, as `{0, {bad_option, Text}}`.
    let by_node = args.iter().any(|a| a == "--fd-socket");
    let command = match cli::parse(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("linx_port: {e}");
            if by_node {
                let mut frame = Vec::new();
                reply::encode_term_frame(0, reply::bad_option_term(&e.to_string()), &mut frame);
                let _ = io::stdout().write_all(&frame).and_then(|()| io::stdout().flush());
                await_start_token();
            }
            return ExitCode::from(2);
        }
    };
    let keep = matches!(&command, Command::Port(a) | Command::Cnode(a, _) if a.keep_privileges);
    if !keep {
        if let Err(e) = linx::sys::caps::drop_privileges() {
            eprintln!("linx_port: cannot drop privileges: {e}");
            return ExitCode::from(4);
        }
    }
    let status = match command {
        Command::Version => {
            println!("linx_port {}", linx::dispatch::VERSION);
            return ExitCode::SUCCESS;
        }
        // Still one thread: the only time a user namespace can be entered.
        Command::Helper(rest) => match linx::ns::helper::enter_from_args(&rest) {
            Ok(entered) => {
                // Inside now (entering a user namespace clears the setting).
                if let Some(parent) = entered.parent {
                    end_with(parent);
                }
                linx::port::serve_stdio(Options {
                    fdchan: Some(Arc::new(entered.chan)),
                    pinned: true,
                    ..Options::default()
                })
            }
            Err(e) => e as i32,
        },
        Command::Port(args) => {
            // A port program serves its parent alone: the node's port, or a
            // wrapper that forked it (`sudo`). When the node's watchdog kills
            // that wrapper, a hung or stopped program under it would
            // otherwise live on, never reading the end of its input. Set
            // after privileges are dropped (a change of credentials clears
            // it).
            end_with(linx::sys::parent());
            match port_options(args) {
                Ok(opts) => linx::port::serve_stdio(opts),
                Err(status) => status,
            }
        }
        Command::Cnode(args, c) => {
            let cfg = port_options(args).and_then(|port| {
                linx::cnode::config_from_args(c, port).map_err(|e| {
                    eprintln!("linx_port: {e}");
                    2
                })
            });
            match cfg {
                Ok(cfg) => linx::cnode::serve(cfg),
                Err(status) => status,
            }
        }
    };
    // Leave at once: workers may still be inside other namespaces.
    std::process::exit(status)
}

/// The options of a port (or C-node) from its arguments; connects the fd
/// channel when one is named.
fn port_options(args: Args) -> Result<Options, i32> {
    let fdchan = match args.fd_socket {
        Some(name) => {
            let token = fdchan::read_token(io::stdin().as_fd()).map_err(|e| {
                eprintln!("linx_port: cannot read the fd channel's start token on stdin: {e}");
                3
            })?;
            match FdChan::connect_with_token(&name, &token) {
                Ok(chan) => Some(Arc::new(chan)),
                Err(e) => {
                    eprintln!("linx_port: cannot connect the fd channel: {e}");
                    return Err(3);
                }
            }
        }
        None => None,
    };
    Ok(Options {
        executor: args.executor,
        fdchan,
        policy: args.policy,
        pinned: false,
        spin: args.spin,
        liveness: args.liveness,
    })
}

/// Be killed when `parent` ends; if it already has, that is the end of the
/// input: exit now.
fn end_with(parent: i32) {
    if matches!(linx::sys::die_with_parent(parent), Ok(false)) {
        std::process::exit(0);
    }
}

/// The node writes the fd channel's start token right after it opens the
/// port. A program that exited before that write would close the pipe
/// under it: the node's port then ends with `epipe`, before it has read the
/// `bad_option` frame or learnt the exit status. So a refusing program
/// reads the token first, if it comes within 1 s (a node writes its frame
/// at once and in one piece: a pipe write that small is atomic).
fn await_start_token() {
    let stdin = io::stdin();
    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    if matches!(poll(&mut fds, PollTimeout::from(1000u16)), Ok(n) if n > 0) {
        // End of input or a malformed frame: nothing more to wait for.
        let _ = fdchan::read_token(stdin.as_fd());
    }
}
