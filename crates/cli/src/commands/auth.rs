//! Accounts and the saved login: `register`, `login`, `logout`, `whoami` and `passwd`, and
//! the [`session`] every other command talks through.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::post_then_say;
use crate::client::Client;
use crate::config::{self, SavedLogin};
use crate::output::{print, report};

/// A client for the saved login.
pub fn session() -> Result<Client> {
    let path = config::config_path()?;
    let login = config::load(&path)?
        .context("not logged in: run `berth login URL --username NAME` first")?;
    Client::new(&login.url, Some(login.token))
}

pub async fn register(
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

pub async fn login(url: &str, username: &str, password: &str, json: bool) -> Result<()> {
    let client = Client::new(url, None)?;
    let reply = log_in(&client, username, password).await?;
    report(json, &reply, |_| {
        format!("logged in to {} as {username}", client.base_url())
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

pub fn logout() -> Result<()> {
    let message = if config::remove(&config::config_path()?)? {
        "logged out"
    } else {
        "not logged in"
    };
    print(message)?;
    Ok(())
}

pub fn whoami(json: bool) -> Result<()> {
    let login = config::load(&config::config_path()?)?.context("not logged in")?;
    let shown = json!({"username": login.username, "url": login.url});
    report(json, &shown, |_| {
        format!("{} at {}", login.username, login.url)
    })?;
    Ok(())
}

pub async fn passwd(old: &str, new: &str, json: bool) -> Result<()> {
    let body = json!({"password": old, "new_password": new});
    let path = ["auth", "passwd"];
    post_then_say(
        &session()?,
        &path,
        &body,
        json,
        "password changed".to_owned(),
    )
    .await
}
