//! `berth`'s client commands: everything that talks to a Berth server over its
//! Deis-compatible `/v1` API. The binary flattens [`Command`] next to its own `serve` and
//! `bench`, and hands the chosen command to [`execute`].

mod client;
mod config;
mod output;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use futures::StreamExt;
use serde_json::{Map, Value, json};

use crate::client::{Client, Reply};
use crate::config::SavedLogin;
use crate::output::{abbreviate, cell, fields, print, report, table, with_spinner};

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
        #[arg(required = true, value_name = "TYPE=N", value_parser = parse_scale)]
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
}

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Create an app; the server picks a name if you give none
    Create { id: Option<String> },
    /// List the apps you own or were granted
    List,
    /// Show an app with its processes and domains
    Info { app: String },
    /// Destroy an app and everything in it
    Destroy { app: String },
}

#[derive(Debug, Subcommand)]
pub enum BuildsCommand {
    /// Deploy an image as a new release
    Create {
        app: String,
        image: String,
        /// A process type and its command, e.g. --procfile 'web=sleep 3600'; repeatable
        #[arg(long = "procfile", value_name = "TYPE=COMMAND", value_parser = parse_key_value)]
        procfile: Vec<(String, String)>,
    },
    /// List an app's builds
    List { app: String },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show an app's environment variables
    List { app: String },
    /// Set environment variables; this creates a release
    Set {
        app: String,
        #[arg(required = true, value_name = "KEY=VALUE", value_parser = parse_key_value)]
        values: Vec<(String, String)>,
    },
    /// Remove environment variables; this creates a release
    Unset {
        app: String,
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },
}

/// `berth ps APP` lists; `berth ps restart APP [TYPE[.NUM]]` restarts.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct PsArgs {
    #[command(subcommand)]
    action: Option<PsCommand>,
    #[arg(required = true)]
    app: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PsCommand {
    /// List an app's processes
    List { app: String },
    /// Restart all of an app's processes, those of one type (web), or one process (web.2)
    Restart {
        app: String,
        #[arg(value_name = "TYPE[.NUM]", value_parser = parse_process_target)]
        target: Option<ProcessTarget>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReleasesCommand {
    /// List an app's releases, newest first
    List { app: String },
    /// Show one release
    Info {
        app: String,
        #[arg(value_name = "vN", value_parser = parse_version)]
        version: u64,
    },
    /// Create a new release from an earlier one (by default, the one before the current)
    Rollback {
        app: String,
        #[arg(value_name = "vN", value_parser = parse_version)]
        version: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DomainsCommand {
    /// List an app's domains
    List { app: String },
    /// Route a domain to an app
    Add { app: String, domain: String },
    /// Stop routing a domain to an app
    Remove { app: String, domain: String },
}

#[derive(Debug, Subcommand)]
pub enum PermsCommand {
    /// List the users granted access to an app
    List { app: String },
    /// Grant a user access to an app
    Add { app: String, username: String },
    /// Revoke a user's access to an app
    Remove { app: String, username: String },
    /// Manage administrators
    #[command(subcommand)]
    Admin(AdminPermsCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminPermsCommand {
    /// List users and whether each is an administrator
    List,
    /// Make a user an administrator
    Add { username: String },
    /// Take away a user's administrator rights
    Remove { username: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List your SSH public keys
    List,
    /// Add an SSH public key, given as a file (e.g. ~/.ssh/id_ed25519.pub) or as the key itself
    Add {
        id: String,
        #[arg(value_name = "PATH_OR_KEY")]
        key: String,
    },
    /// Remove an SSH public key
    Remove { id: String },
}

/// Which processes `ps restart` targets: a type, or one numbered process of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessTarget {
    kind: String,
    num: Option<u32>,
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
        } => register(&url, &username, &password, email.as_deref(), json).await?,
        Command::Login {
            url,
            username,
            password,
        } => {
            let client = Client::new(&url, None)?;
            let reply = log_in(&client, &username, &password).await?;
            report(json, &reply, |_| {
                format!("logged in to {} as {username}", client.base_url())
            })?;
        }
        Command::Logout => logout()?,
        Command::Whoami => whoami(json)?,
        Command::Passwd { old, new } => {
            let body = json!({"password": old, "new_password": new});
            let reply = session()?.post(&["auth", "passwd"], &body).await?;
            report(json, &reply.body, |_| "password changed".to_owned())?;
        }
        Command::Apps(command) => apps(&session()?, command, json).await?,
        Command::Builds(command) => builds(&session()?, command, json).await?,
        Command::Config(command) => config_vars(&session()?, command, json).await?,
        Command::Scale { app, counts } => scale(&session()?, &app, counts, json).await?,
        Command::Ps(PsArgs { action, app }) => {
            let action = match (action, app) {
                (Some(action), _) => action,
                (None, Some(app)) => PsCommand::List { app },
                (None, None) => bail!("which app? usage: berth ps APP"),
            };
            ps(&session()?, action, json).await?
        }
        Command::Releases(command) => releases(&session()?, command, json).await?,
        Command::Logs { app, lines, follow } => {
            logs(&session()?, &app, lines, follow, json).await?
        }
        Command::Run { app, command } => return run(&session()?, &app, &command, json).await,
        Command::Domains(command) => domains(&session()?, command, json).await?,
        Command::Perms(command) => perms(&session()?, command, json).await?,
        Command::Keys(command) => keys(&session()?, command, json).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A client for the saved login.
fn session() -> Result<Client> {
    let path = config::config_path()?;
    let login = config::load(&path)?
        .context("not logged in: run `berth login URL --username NAME` first")?;
    Client::new(&login.url, Some(login.token))
}

async fn register(
    url: &str,
    username: &str,
    password: &str,
    email: Option<&str>,
    json: bool,
) -> Result<()> {
    let client = Client::new(url, None)?;
    let mut form = vec![("username", username), ("password", password)];
    form.extend(email.map(|email| ("email", email)));
    let user = client.post_form(&["auth", "register"], &form).await?;
    log_in(&client, username, password).await?;
    report(json, &user, |_| {
        format!(
            "registered and logged in to {} as {username}",
            client.base_url()
        )
    })?;
    Ok(())
}

/// Logs in and saves the token. Returns the server's reply.
async fn log_in(client: &Client, username: &str, password: &str) -> Result<Value> {
    let form = [("username", username), ("password", password)];
    let reply = client.post_form(&["auth", "login"], &form).await?;
    let token = reply
        .get("token")
        .and_then(Value::as_str)
        .context("the server's login reply has no token")?;
    let login = SavedLogin {
        url: client.base_url(),
        username: username.to_owned(),
        token: token.to_owned(),
    };
    config::save(&config::config_path()?, &login)?;
    Ok(reply)
}

fn logout() -> Result<()> {
    let message = if config::remove(&config::config_path()?)? {
        "logged out"
    } else {
        "not logged in"
    };
    print(message)?;
    Ok(())
}

fn whoami(json: bool) -> Result<()> {
    let login = config::load(&config::config_path()?)?.context("not logged in")?;
    let shown = json!({"username": login.username, "url": login.url});
    report(json, &shown, |_| {
        format!("{} at {}", login.username, login.url)
    })?;
    Ok(())
}

async fn apps(client: &Client, command: AppsCommand, json: bool) -> Result<()> {
    match command {
        AppsCommand::Create { id } => {
            let body = id.map_or_else(|| json!({}), |id| json!({"id": id}));
            let app = client.post(&["apps"], &body).await?.body;
            report(json, &app, |app| format!("created {}", cell(&app["id"])))?;
        }
        AppsCommand::List => {
            let page = client.get_all(&["apps"]).await?;
            report(json, &page, |page| {
                let rows = results(page)
                    .iter()
                    .map(|app| [cell(&app["id"]), cell(&app["owner"]), cell(&app["created"])]);
                table(Some(["ID", "OWNER", "CREATED"]), rows)
            })?;
        }
        AppsCommand::Info { app } => {
            let (app_path, containers_path, domains_path) = (
                ["apps", app.as_str()],
                ["apps", app.as_str(), "containers"],
                ["apps", app.as_str(), "domains"],
            );
            let (info, containers, domains) = futures::try_join!(
                client.get(&app_path),
                client.get_all(&containers_path),
                client.get_all(&domains_path),
            )?;
            report(json, &info, |info| {
                let domain_list: Vec<_> = results(&domains)
                    .iter()
                    .map(|domain| cell(&domain["domain"]))
                    .collect();
                format!(
                    "{}\n=== processes\n{}\n=== domains\n{}",
                    fields(info),
                    processes(results(&containers)),
                    lines(&domain_list),
                )
            })?;
        }
        AppsCommand::Destroy { app } => {
            client.delete(&["apps", &app]).await?;
            report(json, &Value::Null, |_| format!("destroyed {app}"))?;
        }
    }
    Ok(())
}

async fn builds(client: &Client, command: BuildsCommand, json: bool) -> Result<()> {
    match command {
        BuildsCommand::Create {
            app,
            image,
            procfile,
        } => {
            let mut body = json!({"image": image});
            if !procfile.is_empty() {
                body["procfile"] = string_map(procfile);
            }
            let reply =
                with_spinner("deploying…", client.post(&["apps", &app, "builds"], &body)).await?;
            report(json, &reply.body, |_| {
                format!("{app}: deployed {image}{}", release_suffix(&reply))
            })?;
        }
        BuildsCommand::List { app } => {
            let page = client.get_all(&["apps", &app, "builds"]).await?;
            report(json, &page, |page| {
                let rows = results(page).iter().map(|build| {
                    [
                        cell(&build["uuid"]),
                        cell(&build["created"]),
                        cell(&build["image"]),
                    ]
                });
                table(Some(["UUID", "CREATED", "IMAGE"]), rows)
            })?;
        }
    }
    Ok(())
}

async fn config_vars(client: &Client, command: ConfigCommand, json: bool) -> Result<()> {
    let (app, changes) = match command {
        ConfigCommand::List { app } => {
            let config = client.get(&["apps", &app, "config"]).await?;
            report(json, &config, |config| config_table(&config["values"]))?;
            return Ok(());
        }
        ConfigCommand::Set { app, values } => (app, string_map(values)),
        ConfigCommand::Unset { app, keys } => (
            app,
            Value::Object(keys.into_iter().map(|key| (key, Value::Null)).collect()),
        ),
    };
    let body = json!({"values": changes});
    let reply = with_spinner(
        "updating config…",
        client.post(&["apps", &app, "config"], &body),
    )
    .await?;
    report(json, &reply.body, |config| {
        format!(
            "{app}: config updated{}\n{}",
            release_suffix(&reply),
            config_table(&config["values"])
        )
    })?;
    Ok(())
}

async fn scale(client: &Client, app: &str, counts: Vec<(String, u32)>, json: bool) -> Result<()> {
    let body: Map<String, Value> = counts
        .into_iter()
        .map(|(kind, n)| (kind, n.into()))
        .collect();
    with_spinner(
        "scaling…",
        client.post(&["apps", app, "scale"], &Value::Object(body)),
    )
    .await?;
    let page = client.get_all(&["apps", app, "containers"]).await?;
    report(json, &page, |page| processes(results(page)))?;
    Ok(())
}

async fn ps(client: &Client, command: PsCommand, json: bool) -> Result<()> {
    match command {
        PsCommand::List { app } => {
            let page = client.get_all(&["apps", &app, "containers"]).await?;
            report(json, &page, |page| processes(results(page)))?;
        }
        PsCommand::Restart { app, target } => {
            let num = target
                .as_ref()
                .and_then(|target| target.num)
                .map(|num| num.to_string());
            let mut path = vec!["apps", app.as_str(), "containers"];
            path.extend(target.as_ref().map(|target| target.kind.as_str()));
            path.extend(num.as_deref());
            path.push("restart");
            let reply = with_spinner("restarting…", client.post(&path, &json!({}))).await?;
            report(json, &reply.body, |restarted| {
                processes(restarted.as_array().map(Vec::as_slice).unwrap_or_default())
            })?;
        }
    }
    Ok(())
}

async fn releases(client: &Client, command: ReleasesCommand, json: bool) -> Result<()> {
    match command {
        ReleasesCommand::List { app } => {
            let page = client.get_all(&["apps", &app, "releases"]).await?;
            report(json, &page, |page| {
                let rows = results(page).iter().map(|release| {
                    [
                        release_label(&release["version"]),
                        cell(&release["created"]),
                        cell(&release["summary"]),
                    ]
                });
                table(Some(["VERSION", "CREATED", "SUMMARY"]), rows)
            })?;
        }
        ReleasesCommand::Info { app, version } => {
            let release = client
                .get(&["apps", &app, "releases", &format!("v{version}")])
                .await?;
            report(json, &release, fields)?;
        }
        ReleasesCommand::Rollback { app, version } => {
            let body = version.map_or_else(|| json!({}), |version| json!({"version": version}));
            let path = ["apps", app.as_str(), "releases", "rollback"];
            let reply = with_spinner("rolling back…", client.post(&path, &body)).await?;
            report(json, &reply.body, |created| {
                let from = version.map_or("the previous release".to_owned(), |v| format!("v{v}"));
                format!(
                    "{app}: rolled back to {from}, now {}",
                    release_label(&created["version"])
                )
            })?;
        }
    }
    Ok(())
}

async fn logs(
    client: &Client,
    app: &str,
    lines: Option<u32>,
    follow: bool,
    json: bool,
) -> Result<()> {
    let lines = lines.map(|n| n.to_string());
    let mut query = Vec::new();
    if follow {
        query.push(("follow", "true"));
    }
    query.extend(lines.as_deref().map(|n| ("log_lines", n)));
    let path = ["apps", app, "logs"];

    if !follow {
        let text = client.get_with_query(&path, &query).await?;
        report(json, &text, cell)?;
        return Ok(());
    }

    let mut body = client.stream(&path, &query).await?.bytes_stream();
    // One listener for the whole stream, so a Ctrl-C that lands mid-write is not missed.
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let chunk = tokio::select! {
            _ = &mut interrupted => return Ok(()),
            chunk = body.next() => chunk,
        };
        let Some(chunk) = chunk else { return Ok(()) };
        let chunk = chunk.context("the log stream broke off")?;
        // Write raw bytes as they come: a line split across chunks reassembles on screen.
        let mut stdout = std::io::stdout().lock();
        let written = stdout.write_all(&chunk).and_then(|()| stdout.flush());
        if let Err(err) = written {
            // The reader went away (`| head`): that ends following, it is not a failure.
            return output::ignore_broken_pipe(Err(err)).map_err(Into::into);
        }
    }
}

async fn run(client: &Client, app: &str, command: &[String], json: bool) -> Result<ExitCode> {
    let body = json!({"command": command.join(" ")});
    let reply = with_spinner("running…", client.post(&["apps", app, "run"], &body)).await?;
    let (rc, output) = run_result(&reply.body)?;
    report(json, &reply.body, |_| output)?;
    Ok(u8::try_from(rc).map_or(ExitCode::FAILURE, ExitCode::from))
}

async fn domains(client: &Client, command: DomainsCommand, json: bool) -> Result<()> {
    match command {
        DomainsCommand::List { app } => {
            let page = client.get_all(&["apps", &app, "domains"]).await?;
            report(json, &page, |page| {
                let names = results(page).iter().map(|domain| [cell(&domain["domain"])]);
                table(Some(["DOMAIN"]), names)
            })?;
        }
        DomainsCommand::Add { app, domain } => {
            let reply = client
                .post(&["apps", &app, "domains"], &json!({"domain": domain}))
                .await?;
            report(json, &reply.body, |_| format!("added {domain} to {app}"))?;
        }
        DomainsCommand::Remove { app, domain } => {
            client.delete(&["apps", &app, "domains", &domain]).await?;
            report(json, &Value::Null, |_| {
                format!("removed {domain} from {app}")
            })?;
        }
    }
    Ok(())
}

async fn perms(client: &Client, command: PermsCommand, json: bool) -> Result<()> {
    match command {
        PermsCommand::List { app } => {
            let perms = client.get(&["apps", &app, "perms"]).await?;
            report(json, &perms, |perms| {
                let users = perms["users"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                lines(&users.iter().map(cell).collect::<Vec<_>>())
            })?;
        }
        PermsCommand::Add { app, username } => {
            let body = json!({"username": username});
            let reply = client.post(&["apps", &app, "perms"], &body).await?;
            report(json, &reply.body, |_| {
                format!("granted {username} access to {app}")
            })?;
        }
        PermsCommand::Remove { app, username } => {
            client.delete(&["apps", &app, "perms", &username]).await?;
            report(json, &Value::Null, |_| {
                format!("revoked {username}'s access to {app}")
            })?;
        }
        PermsCommand::Admin(AdminPermsCommand::List) => {
            let page = client.get_all(&["admin", "perms"]).await?;
            report(json, &page, |page| {
                let rows = results(page).iter().map(|user| {
                    let admin = user["is_superuser"].as_bool().unwrap_or(false);
                    [
                        cell(&user["username"]),
                        if admin { "yes" } else { "no" }.to_owned(),
                    ]
                });
                table(Some(["USERNAME", "ADMIN"]), rows)
            })?;
        }
        PermsCommand::Admin(AdminPermsCommand::Add { username }) => {
            let reply = client
                .post(&["admin", "perms"], &json!({"username": username}))
                .await?;
            report(json, &reply.body, |_| {
                format!("{username} is now an administrator")
            })?;
        }
        PermsCommand::Admin(AdminPermsCommand::Remove { username }) => {
            client.delete(&["admin", "perms", &username]).await?;
            report(json, &Value::Null, |_| {
                format!("{username} is no longer an administrator")
            })?;
        }
    }
    Ok(())
}

async fn keys(client: &Client, command: KeysCommand, json: bool) -> Result<()> {
    match command {
        KeysCommand::List => {
            let page = client.get_all(&["keys"]).await?;
            report(json, &page, |page| {
                let rows = results(page)
                    .iter()
                    .map(|key| [cell(&key["id"]), abbreviate(&cell(&key["public"]), 60)]);
                table(Some(["ID", "KEY"]), rows)
            })?;
        }
        KeysCommand::Add { id, key } => {
            let public = read_public_key(&key)?;
            let reply = client
                .post(&["keys"], &json!({"id": id, "public": public}))
                .await?;
            report(json, &reply.body, |_| format!("added key {id}"))?;
        }
        KeysCommand::Remove { id } => {
            client.delete(&["keys", &id]).await?;
            report(json, &Value::Null, |_| format!("removed key {id}"))?;
        }
    }
    Ok(())
}

/// The `results` of a list page, or nothing if the reply is not one.
fn results(page: &Value) -> &[Value] {
    page["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn lines(items: &[String]) -> String {
    items.iter().map(|item| format!("{item}\n")).collect()
}

fn string_map(pairs: Vec<(String, String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(key, value)| (key, Value::String(value)))
            .collect(),
    )
}

fn config_table(values: &Value) -> String {
    let rows = values
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| [key.clone(), cell(value)]);
    table(Some(["KEY", "VALUE"]), rows)
}

/// `, now v5` from the `Deis-Release` header that config and build changes carry.
fn release_suffix(reply: &Reply) -> String {
    reply
        .header("Deis-Release")
        .map(|n| format!(", now v{n}"))
        .unwrap_or_default()
}

/// Containers as `web.1  up  (v4)` lines, ordered by type then number.
fn processes(containers: &[Value]) -> String {
    let mut sorted: Vec<&Value> = containers.iter().collect();
    sorted.sort_by_key(|container| (cell(&container["type"]), container["num"].as_u64()));
    let rows = sorted.iter().map(|container| {
        [
            format!("{}.{}", cell(&container["type"]), cell(&container["num"])),
            cell(&container["state"]),
            format!("({})", release_label(&container["release"])),
        ]
    });
    table(None, rows)
}

/// Releases are numbers in some replies and `"v4"` strings in others; show both as `v4`.
fn release_label(release: &Value) -> String {
    match release {
        Value::Number(n) => format!("v{n}"),
        Value::String(text) if text.starts_with('v') => text.clone(),
        Value::String(text) => format!("v{text}"),
        _ => "v?".to_owned(),
    }
}

/// `run` replies `[rc, output]`; the older docs' `{"rc", "output"}` is accepted too.
fn run_result(body: &Value) -> Result<(i64, String)> {
    let (rc, output) = match body {
        Value::Array(items) if items.len() == 2 => (&items[0], &items[1]),
        Value::Object(map) if map.contains_key("rc") => (&map["rc"], &body["output"]),
        _ => bail!("unexpected reply to run: {body}"),
    };
    let rc = rc
        .as_i64()
        .with_context(|| format!("unexpected exit status from run: {rc}"))?;
    Ok((rc, cell(output)))
}

/// A file's contents if `arg` names a file, else `arg` itself if it looks like a key
/// (`type base64 [comment]`).
fn read_public_key(arg: &str) -> Result<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let key = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(key.trim().to_owned());
    }
    let key = arg.trim();
    if !key.contains(char::is_whitespace) {
        bail!("{arg}: no such file, and not a public key");
    }
    Ok(key.to_owned())
}

/// `KEY=VALUE`; the value may itself contain `=`.
fn parse_key_value(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {arg:?}")),
    }
}

/// `TYPE=N`, e.g. `web=2`.
fn parse_scale(arg: &str) -> Result<(String, u32), String> {
    let (kind, count) =
        parse_key_value(arg).map_err(|_| format!("expected TYPE=N, got {arg:?}"))?;
    let count = count
        .parse()
        .map_err(|_| format!("{count:?} is not a process count (in {arg:?})"))?;
    Ok((kind, count))
}

/// `TYPE` or `TYPE.NUM`, e.g. `web` or `web.2`.
fn parse_process_target(arg: &str) -> Result<ProcessTarget, String> {
    let (kind, num) = match arg.split_once('.') {
        None => (arg, None),
        Some((kind, num)) => {
            let num = num
                .parse()
                .map_err(|_| format!("{num:?} is not a process number (in {arg:?})"))?;
            (kind, Some(num))
        }
    };
    if kind.is_empty() {
        return Err(format!("expected TYPE or TYPE.NUM, got {arg:?}"));
    }
    Ok(ProcessTarget {
        kind: kind.to_owned(),
        num,
    })
}

/// `vN` or `N`.
fn parse_version(arg: &str) -> Result<u64, String> {
    arg.strip_prefix('v')
        .unwrap_or(arg)
        .parse()
        .map_err(|_| format!("expected a release like v3 or 3, got {arg:?}"))
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
    fn key_value_splits_at_the_first_equals() {
        assert_eq!(parse_key_value("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert_eq!(
            parse_key_value("EMPTY="),
            Ok(("EMPTY".into(), String::new()))
        );
        assert!(parse_key_value("=x").is_err());
        assert!(parse_key_value("novalue").is_err());
    }

    #[test]
    fn scale_needs_a_count() {
        assert_eq!(parse_scale("web=2"), Ok(("web".into(), 2)));
        assert_eq!(parse_scale("worker=0"), Ok(("worker".into(), 0)));
        assert!(parse_scale("web=-1").is_err());
        assert!(parse_scale("web=two").is_err());
        assert!(parse_scale("web").is_err());
    }

    #[test]
    fn process_target_is_type_or_type_dot_num() {
        assert_eq!(
            parse_process_target("web"),
            Ok(ProcessTarget {
                kind: "web".into(),
                num: None
            })
        );
        assert_eq!(
            parse_process_target("web.2"),
            Ok(ProcessTarget {
                kind: "web".into(),
                num: Some(2)
            })
        );
        assert!(parse_process_target("web.x").is_err());
        assert!(parse_process_target(".1").is_err());
        assert!(parse_process_target("").is_err());
    }

    #[test]
    fn version_takes_an_optional_v() {
        assert_eq!(parse_version("v3"), Ok(3));
        assert_eq!(parse_version("12"), Ok(12));
        assert!(parse_version("vx").is_err());
        assert!(parse_version("").is_err());
    }

    #[test]
    fn processes_read_like_deis_ps() {
        let containers = [
            json!({"type": "worker", "num": 1, "state": "up", "release": "v4"}),
            json!({"type": "web", "num": 10, "state": "crashed", "release": 4}),
            json!({"type": "web", "num": 2, "state": "up", "release": "4"}),
        ];
        assert_eq!(
            processes(&containers),
            "web.2     up       (v4)\nweb.10    crashed  (v4)\nworker.1  up       (v4)\n"
        );
    }

    #[test]
    fn run_result_accepts_both_shapes() {
        assert_eq!(run_result(&json!([0, "hi\n"])).unwrap(), (0, "hi\n".into()));
        assert_eq!(
            run_result(&json!({"rc": 3, "output": "no"})).unwrap(),
            (3, "no".into())
        );
        assert!(run_result(&json!({"detail": "x"})).is_err());
        assert!(run_result(&json!(["0", ""])).is_err());
    }

    #[test]
    fn config_table_is_sorted_by_key() {
        let values = json!({"B": "2", "A": "1"});
        assert_eq!(config_table(&values), "KEY  VALUE\nA    1\nB    2\n");
    }

    #[test]
    fn public_key_from_literal_or_file() {
        assert_eq!(
            read_public_key(" ssh-ed25519 AAAA me@h \n").unwrap(),
            "ssh-ed25519 AAAA me@h"
        );
        assert!(read_public_key("/no/such/key.pub").is_err());

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("id.pub");
        std::fs::write(&file, "ssh-rsa AAAAB3 me@host\n").unwrap();
        assert_eq!(
            read_public_key(file.to_str().unwrap()).unwrap(),
            "ssh-rsa AAAAB3 me@host"
        );
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
