use std::process::ExitCode;

use clap::Parser;

use dockdoc::{app, cli::Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!(
                "dockdoc: {}",
                dockdoc::terminal::visible_lines(&format!("{err:#}"))
            );
            ExitCode::from(2)
        }
    }
}
