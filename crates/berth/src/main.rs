//! The `berth` binary: `berth serve` runs the control plane; every other
//! subcommand is the CLI client.

mod admin;
mod bench;
mod listener;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "berth",
    version,
    about = "Berth: a self-hosted container platform speaking five APIs"
)]
struct Cli {
    /// Print the server's JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane: HTTP API, reconciler and engine driver.
    Serve(Box<serve::ServeArgs>),
    /// Measure Berth against the bare engine and print one table.
    Bench(bench::BenchArgs),
    /// Manage the server's accounts directly in its data dir.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Print a completion script for a shell, e.g.
    /// `berth completions bash > /etc/bash_completion.d/berth`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    #[command(flatten)]
    Client(berth_cli::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => report(serve::run(*args).await),
            Command::Bench(args) => report(bench::run(args).await),
            Command::Admin(command) => report(admin::run(command).await),
            Command::Completions { shell } => print_completions(shell),
            Command::Client(command) => berth_cli::execute(command, cli.json).await,
        }
    })
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The completion script, written whole: a reader that stops early (`| head`)
/// ends the output, not the program with a panic.
fn print_completions(shell: clap_complete::Shell) -> ExitCode {
    use clap::CommandFactory;
    use std::io::Write;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "berth", &mut script);
    match std::io::stdout().write_all(&script) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the completion script: {e}");
            ExitCode::FAILURE
        }
    }
}
