use std::process::ExitCode;

use clap::Parser;

use dockdoc::{app, cli::Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // A closed pipe (`dockdoc | head -1`) is not a failure.
            let broken_pipe = |e: &(dyn std::error::Error + 'static)| {
                e.downcast_ref::<std::io::Error>()
                    .map(std::io::Error::kind)
                    .or_else(|| {
                        e.downcast_ref::<serde_json::Error>()
                            .and_then(serde_json::Error::io_error_kind)
                    })
                    == Some(std::io::ErrorKind::BrokenPipe)
            };
            if err.chain().any(broken_pipe) {
                return ExitCode::SUCCESS;
            }
            eprintln!("dockdoc: {err:#}");
            ExitCode::from(2)
        }
    }
}
