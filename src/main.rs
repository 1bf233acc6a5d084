//! `linx_port`: the program an Erlang node starts with `open_port`.
//! See the crate documentation (`src/lib.rs`) for the map of the code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if let Some(arg) = args.next() {
        match arg.as_str() {
            "--version" => {
                println!("linx_port {}", linx::dispatch::VERSION);
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("linx_port: unknown argument {other:?}");
                return ExitCode::from(2);
            }
        }
    }
    let status = linx::server::serve_stdio(linx::executor::Config::default());
    // Leave at once: workers may still be inside other namespaces.
    std::process::exit(status)
}
