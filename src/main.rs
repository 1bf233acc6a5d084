//! `linx_port`: the program an Erlang node starts with `open_port`.
//! See the crate documentation (`src/lib.rs`) for the map of the code.
//!
//! Usage: `linx_port [--fd-socket NAME] [--no-worker-cache] [--idle-ms MS]`;
//! `linx_port --version`.

use linx::fdchan::FdChan;
use linx::server::Options;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let mut opts = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--version" => {
                println!("linx_port {}", linx::dispatch::VERSION);
                return ExitCode::SUCCESS;
            }
            "--no-worker-cache" => opts.executor.cache = false,
            "--idle-ms" => match args.next().and_then(|v| v.parse::<u64>().ok()) {
                Some(ms) => opts.executor.idle = std::time::Duration::from_millis(ms),
                None => {
                    eprintln!("linx_port: --idle-ms needs a number of milliseconds");
                    return ExitCode::from(2);
                }
            },
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
    let status = linx::server::serve_stdio(opts);
    // Leave at once: workers may still be inside other namespaces.
    std::process::exit(status)
}
