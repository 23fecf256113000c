//! The `qw` command line: argument parsing and dispatch to one module per command.

mod emulator;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// QuixoticWhisper Studio.
#[derive(Parser)]
#[command(name = "qw", version, about = "QuixoticWhisper Studio: an offline Appwrite, environments, migrations and deploys")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the embedded Appwrite emulator.
    Emulator(emulator::Args),
}

/// Exit codes: 0 success, 1 a check or operation failed, 2 bad usage or unreadable configuration.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Emulator(args) => emulator::run(args),
    }
}
