//! `berth`'s client commands: everything that talks to a Berth server over its
//! Deis-compatible `/v1` API. The binary flattens [`Command`] next to its own `serve` and
//! `bench`, and hands the chosen command to [`execute`]. Each command group's arguments and
//! handler live in `commands/`; this file holds only the top-level definition and the
//! dispatch to those handlers.

mod args;
mod client;
mod commands;
mod config;
mod output;

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

pub use crate::args::ProcessTarget;
pub use crate::commands::access::{AdminPermsCommand, KeysCommand, PermsCommand};
pub use crate::commands::apps::AppsCommand;
use crate::commands::auth::session;
pub use crate::commands::builds::BuildsCommand;
pub use crate::commands::certs::CertsCommand;
pub use crate::commands::config::ConfigCommand;
pub use crate::commands::domains::DomainsCommand;
pub use crate::commands::ps::{PsArgs, PsCommand};
pub use crate::commands::releases::ReleasesCommand;
use crate::commands::{
    access, apps, auth, builds, certs, domains, events, logs, nodes, ps, releases, run,
};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an account on a Berth server and log in to it
    Register {
        /// The server, e.g. http://localhost:8000
        url: String,
        #[arg(long)]
        username: String,
        #[arg(long, env = "BERTH_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Log in to a Berth server and remember the token
    Login {
        /// The server, e.g. http://localhost:8000
        url: String,
        #[arg(long)]
        username: String,
        #[arg(long, env = "BERTH_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Forget the saved login
    Logout,
    /// Show who you are logged in as, and where
    Whoami,
    /// Change your password
    Passwd {
        #[arg(long)]
        old: String,
        #[arg(long)]
        new: String,
    },
    /// Create, list, inspect and destroy apps
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Deploy images
    #[command(subcommand)]
    Builds(BuildsCommand),
    /// Manage an app's environment variables
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Set how many processes of each type run, e.g. `berth scale myapp web=2 worker=1`
    Scale {
        app: String,
        #[arg(required = true, value_name = "TYPE=N", value_parser = args::parse_scale)]
        counts: Vec<(String, u32)>,
    },
    /// List an app's processes, or restart them
    Ps(PsArgs),
    /// List, inspect and roll back releases
    #[command(subcommand)]
    Releases(ReleasesCommand),
    /// Show an app's logs
    Logs {
        app: String,
        /// How many recent lines to show
        #[arg(short = 'n', long = "lines", value_name = "LINES")]
        lines: Option<u32>,
        /// Keep printing new lines as they arrive, until Ctrl-C
        #[arg(short, long)]
        follow: bool,
    },
    /// Follow what happens to your apps (created, destroyed, releases, scale, instance states)
    Events {
        /// Only this app's events
        #[arg(long)]
        app: Option<String>,
        /// Print events as they happen, until Ctrl-C
        #[arg(short, long)]
        follow: bool,
    },
    /// Run a one-off command in an app and exit with its status, e.g. `berth run myapp -- ls -l`
    Run {
        app: String,
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Manage an app's domains
    #[command(subcommand)]
    Domains(DomainsCommand),
    /// Manage who may use an app, and who is an administrator
    #[command(subcommand)]
    Perms(PermsCommand),
    /// Manage your SSH public keys
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the TLS certificates the router serves
    #[command(subcommand)]
    Certs(CertsCommand),
    /// List the engine's machines: state, availability, role, address, tasks, labels (administrators)
    Nodes,
}

/// Runs one client command. Errors are printed to stderr as `error: <status>: <message>`
/// and give a failing exit code; `run` exits with the remote command's status.
pub async fn execute(command: Command, json: bool) -> ExitCode {
    match dispatch(command, json).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, json: bool) -> Result<ExitCode> {
    match command {
        Command::Register {
            url,
            username,
            password,
            email,
        } => auth::register(&url, &username, &password, email.as_deref(), json).await?,
        Command::Login {
            url,
            username,
            password,
        } => auth::login(&url, &username, &password, json).await?,
        Command::Logout => auth::logout()?,
        Command::Whoami => auth::whoami(json)?,
        Command::Passwd { old, new } => auth::passwd(&old, &new, json).await?,
        Command::Apps(command) => apps::apps(&session()?, command, json).await?,
        Command::Builds(command) => builds::builds(&session()?, command, json).await?,
        Command::Config(command) => {
            commands::config::config_vars(&session()?, command, json).await?
        }
        Command::Scale { app, counts } => ps::scale(&session()?, &app, counts, json).await?,
        Command::Ps(args) => {
            let command = args.into_command()?;
            ps::ps(&session()?, command, json).await?
        }
        Command::Releases(command) => releases::releases(&session()?, command, json).await?,
        Command::Logs { app, lines, follow } => {
            logs::logs(&session()?, &app, lines, follow, json).await?
        }
        Command::Events { app, follow } => {
            events::events(&session()?, app.as_deref(), follow, json).await?
        }
        Command::Run { app, command } => return run::run(&session()?, &app, &command, json).await,
        Command::Domains(command) => domains::domains(&session()?, command, json).await?,
        Command::Perms(command) => access::perms(&session()?, command, json).await?,
        Command::Keys(command) => access::keys(&session()?, command, json).await?,
        Command::Certs(command) => certs::certs(&session()?, command, json).await?,
        Command::Nodes => nodes::nodes(&session()?, json).await?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// Mirrors how the `berth` binary embeds these commands.
    #[derive(Debug, Parser)]
    struct TestCli {
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        command: TestTop,
    }

    #[derive(Debug, Subcommand)]
    enum TestTop {
        Serve,
        #[command(flatten)]
        Cli(Command),
    }

    fn parse(args: &[&str]) -> Command {
        let cli = TestCli::try_parse_from(std::iter::once("berth").chain(args.iter().copied()))
            .unwrap_or_else(|err| panic!("{args:?}: {err}"));
        match cli.command {
            TestTop::Cli(command) => command,
            TestTop::Serve => panic!("parsed as serve"),
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        TestCli::command().debug_assert();
    }

    #[test]
    fn parses_nested_commands() {
        assert!(matches!(
            parse(&["apps", "create"]),
            Command::Apps(AppsCommand::Create { id: None })
        ));
        assert!(matches!(
            parse(&["apps", "create", "myapp"]),
            Command::Apps(AppsCommand::Create { id: Some(id) }) if id == "myapp"
        ));
        let Command::Scale { app, counts } = parse(&["scale", "myapp", "web=2", "worker=1"]) else {
            panic!("not scale");
        };
        assert_eq!(app, "myapp");
        assert_eq!(counts, [("web".into(), 2), ("worker".into(), 1)]);
    }

    #[test]
    fn ps_lists_by_default_and_restarts_on_request() {
        assert!(matches!(
            parse(&["ps", "myapp"]),
            Command::Ps(PsArgs { action: None, app: Some(app) }) if app == "myapp"
        ));
        let Command::Ps(PsArgs {
            action: Some(PsCommand::Restart { app, target }),
            ..
        }) = parse(&["ps", "restart", "myapp", "web.2"])
        else {
            panic!("not ps restart");
        };
        assert_eq!(app, "myapp");
        assert_eq!(
            target,
            Some(ProcessTarget {
                kind: "web".into(),
                num: Some(2)
            })
        );
        assert!(TestCli::try_parse_from(["berth", "ps"]).is_err());
    }

    #[test]
    fn run_keeps_the_command_and_its_flags() {
        let Command::Run { command, .. } = parse(&["run", "myapp", "--", "ls", "-l", "/"]) else {
            panic!("not run");
        };
        assert_eq!(command, ["ls", "-l", "/"]);
        let Command::Run { command, .. } = parse(&["run", "myapp", "echo", "-n", "hi"]) else {
            panic!("not run");
        };
        assert_eq!(command, ["echo", "-n", "hi"]);
    }

    #[test]
    fn perms_admin_is_nested() {
        assert!(matches!(
            parse(&["perms", "admin", "add", "bob"]),
            Command::Perms(PermsCommand::Admin(AdminPermsCommand::Add { username })) if username == "bob"
        ));
        assert!(matches!(
            parse(&["perms", "add", "myapp", "bob"]),
            Command::Perms(PermsCommand::Add { .. })
        ));
    }

    #[test]
    fn builds_take_repeatable_procfile_entries() {
        let Command::Builds(BuildsCommand::Create { procfile, .. }) = parse(&[
            "builds",
            "create",
            "myapp",
            "busybox",
            "--procfile",
            "web=sleep 3600",
            "--procfile",
            "worker=sh -c x=1",
        ]) else {
            panic!("not builds create");
        };
        assert_eq!(
            procfile,
            [
                ("web".into(), "sleep 3600".into()),
                ("worker".into(), "sh -c x=1".into())
            ]
        );
    }
}
