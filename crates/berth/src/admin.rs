//! `berth admin`: account management that works on the data dir directly,
//! for before the server first starts (e.g. the first administrator when
//! registration is not open).

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an administrator (or make an existing account one).
    Create(CreateArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    #[arg(long)]
    pub username: String,
    /// The new account's password (an existing account keeps its own).
    #[arg(long, env = "BERTH_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// The server's data dir.
    #[arg(long, env = "BERTH_DATA_DIR", default_value = "./berth-data")]
    pub data_dir: PathBuf,
    /// Database URL; default `sqlite://<data-dir>/berth.db`.
    #[arg(long, env = "BERTH_DATABASE_URL")]
    pub database_url: Option<String>,
}

pub async fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create(args) => {
            let store =
                crate::serve::open_store(&args.data_dir, args.database_url.as_deref()).await?;
            let created =
                berth_core::service::ensure_admin(store.as_ref(), &args.username, &args.password)
                    .await?;
            let what = if created { "created" } else { "is now" };
            println!("{} {what} an administrator", args.username);
            Ok(())
        }
    }
}
