//! `qw`: QuixoticWhisper Studio on the command line.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
