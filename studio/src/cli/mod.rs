//! The `qw` command line: argument parsing and dispatch to one module per command.

mod collection;
mod deploy_order;
mod emulator;
mod function;
mod migrate;
mod output;
mod routes;
mod schema;
mod validate;
mod variables;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args as ClapArgs, Parser, Subcommand};

/// QuixoticWhisper Studio.
#[derive(Parser)]
#[command(name = "qw", version, about = "QuixoticWhisper Studio: an offline Appwrite, environments, migrations and deploys")]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every project command understands.
#[derive(ClapArgs, Debug, Clone)]
pub struct Global {
    /// The project folder (default: the nearest folder at or above the current one holding environments/).
    #[arg(long, global = true, env = "QW_PROJECT_DIR", value_name = "DIR")]
    project_dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the embedded Appwrite emulator.
    Emulator(emulator::Args),
    /// Check the whole project, or one environment, for consistency.
    Validate(validate::Args),
    /// Show an environment's variables, resolved shared → environment → function.
    Variables(variables::Args),
    /// List the API routes and the functions serving them.
    Routes,
    /// The order to deploy an environment's functions in, dependencies first.
    DeployOrder(deploy_order::Args),
    /// Create functions.
    #[command(subcommand)]
    Function(function::Command),
    /// Create collections.
    #[command(subcommand)]
    Collection(collection::Command),
    /// Migrations: create, up, down, status, check.
    #[command(subcommand)]
    Migrate(migrate::Command),
    /// Schemas generated from the migrations.
    #[command(subcommand)]
    Schema(schema::Command),
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
        Command::Validate(args) => validate::run(&cli.global, args),
        Command::Variables(args) => variables::run(&cli.global, args),
        Command::Routes => routes::run(&cli.global),
        Command::DeployOrder(args) => deploy_order::run(&cli.global, args),
        Command::Function(cmd) => function::run(&cli.global, cmd),
        Command::Collection(cmd) => collection::run(&cli.global, cmd),
        Command::Migrate(cmd) => migrate::run(&cli.global, cmd),
        Command::Schema(cmd) => schema::run(&cli.global, cmd),
    }
}
