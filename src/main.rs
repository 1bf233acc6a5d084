//! `linx_port`: the program an Erlang node starts with `open_port`.
//! See the crate documentation (`src/lib.rs`) for the map of the code.
//!
//! Usage: `linx_port [--fd-socket NAME] [--no-worker-cache] [--idle-ms MS]
//! [--queue-len N] [--max-workers N] [--allow-ops OP,...]
//! [--allow-targets KIND,...] [--allow-write-prefix PATH]... [--no-writes]
//! [--keep-privileges]`;
//! `linx_port --version`; C-node mode (see `linx::cnode`):
//! `linx_port --cnode --name NAME@HOST --cookie-file FILE [--listen ADDR:PORT] [OPTIONS]`.
//!
//! Before anything else it sets no_new_privs and drops every capability it
//! does not need (see `linx::privs`), unless `--keep-privileges` is given.

use linx::fdchan::FdChan;
use linx::server::Options;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let mut opts = Options::default();
    if !std::env::args().any(|a| a == "--keep-privileges") {
        if let Err(e) = linx::privs::drop_privileges() {
            eprintln!("linx_port: cannot drop privileges: {e}");
            return ExitCode::from(4);
        }
    }
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("--ns-helper") {
        // Still one thread: the only time a user namespace can be entered.
        match linx::helper::enter_from_args(&argv[1..]) {
            Ok(chan) => {
                opts.fdchan = Some(Arc::new(chan));
                opts.pinned = true;
                std::process::exit(linx::server::serve_stdio(opts));
            }
            Err(e) => std::process::exit(e as i32),
        }
    }
    let mut args = argv.into_iter();
    // C-node mode: `--cnode --name N@H --cookie-file F [--listen ADDR:PORT]`.
    let (mut cnode, mut cnode_args) = (false, std::collections::HashMap::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cnode" => cnode = true,
            "--name" | "--cookie-file" | "--listen" => {
                let Some(value) = args.next() else {
                    eprintln!("linx_port: {arg} needs a value");
                    return ExitCode::from(2);
                };
                cnode_args.insert(arg, value);
            }
            "--version" => {
                println!("linx_port {}", linx::dispatch::VERSION);
                return ExitCode::SUCCESS;
            }
            "--no-worker-cache" => opts.executor.cache = false,
            "--keep-privileges" => {}
            "--no-writes" => opts.policy.deny_writes(),
            "--allow-ops" | "--allow-targets" | "--allow-write-prefix" => {
                let Some(value) = args.next() else {
                    eprintln!("linx_port: {arg} needs a value");
                    return ExitCode::from(2);
                };
                let set = match arg.as_str() {
                    "--allow-ops" => opts.policy.allow_ops(&value),
                    "--allow-targets" => opts.policy.allow_targets(&value),
                    _ => opts.policy.allow_write_prefix(&value),
                };
                if let Err(e) = set {
                    eprintln!("linx_port: {arg}: {e}");
                    return ExitCode::from(2);
                }
            }
            "--idle-ms" | "--queue-len" | "--max-workers" => {
                let Some(n) = args.next().and_then(|v| v.parse::<u64>().ok()).filter(|n| *n > 0) else {
                    eprintln!("linx_port: {arg} needs a positive number");
                    return ExitCode::from(2);
                };
                match arg.as_str() {
                    "--idle-ms" => opts.executor.idle = std::time::Duration::from_millis(n),
                    "--queue-len" => opts.executor.queue_len = n as usize,
                    _ => opts.executor.max_workers = n as usize,
                }
            }
            "--fd-socket" => {
                let Some(name) = args.next() else {
                    eprintln!("linx_port: --fd-socket needs a name");
                    return ExitCode::from(2);
                };
                match FdChan::connect(&name) {
                    Ok(chan) => opts.fdchan = Some(Arc::new(chan)),
                    Err(e) => {
                        eprintln!("linx_port: cannot connect the fd channel: {e}");
                        return ExitCode::from(3);
                    }
                }
            }
            other => {
                eprintln!("linx_port: unknown argument {other:?}");
                return ExitCode::from(2);
            }
        }
    }
    if !cnode && !cnode_args.is_empty() {
        eprintln!("linx_port: --name, --cookie-file and --listen need --cnode");
        return ExitCode::from(2);
    }
    if cnode {
        match linx::cnode::config_from_args(cnode_args, opts) {
            Ok(cfg) => std::process::exit(linx::cnode::serve(cfg)),
            Err(e) => {
                eprintln!("linx_port: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let status = linx::server::serve_stdio(opts);
    // Leave at once: workers may still be inside other namespaces.
    std::process::exit(status)
}
