//! `linx_port`: the program an Erlang node starts with `open_port`.
//! See the crate documentation (`src/lib.rs`) for the map of the code and
//! `linx::cli` for the command line.
//!
//! Before serving it sets no_new_privs and drops every capability it does
//! not need (see `linx::sys::caps`), unless `--keep-privileges` is given.

#![deny(unsafe_code)]

use linx::cli::{self, Args, Command};
use linx::ops::fdchan::FdChan;
use linx::port::Options;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("linx_port: {e}");
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
            Ok(chan) => linx::port::serve_stdio(Options {
                fdchan: Some(Arc::new(chan)),
                pinned: true,
                ..Options::default()
            }),
            Err(e) => e as i32,
        },
        Command::Port(args) => match port_options(args) {
            Ok(opts) => linx::port::serve_stdio(opts),
            Err(status) => status,
        },
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
        Some(name) => match FdChan::connect(&name) {
            Ok(chan) => Some(Arc::new(chan)),
            Err(e) => {
                eprintln!("linx_port: cannot connect the fd channel: {e}");
                return Err(3);
            }
        },
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
