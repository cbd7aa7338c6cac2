//! The `herald` command line: `herald` (or `herald serve`) serves;
//! `herald user …` manages accounts for deployments without demo mode;
//! `herald key …` manages service API keys; `herald webhook …` webhook
//! endpoints.

use clap::{Parser, Subcommand};
use std::io::Read;

use crate::model::{Role, Scope};
use crate::server::{
    auth::password::{self, Hashers},
    config::Config,
    store,
    usecases::{accounts, keys, webhooks},
};

#[derive(Parser)]
#[command(
    name = "herald",
    version,
    about = "Herald: a live in-app notification center"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve Herald (the default).
    Serve,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage service API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage webhook endpoints.
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint and print its signing secret (the only time it
    /// is shown).
    Add {
        url: String,
        /// What to send it: announcement.sent, notification.read,
        /// notification.delivered, notification.clicked. Repeat it.
        #[arg(long = "event", required = true)]
        events: Vec<String>,
    },
    /// List endpoints with their pending messages and last attempts (never a secret).
    List,
    /// Remove an endpoint and what it was still to be sent.
    Remove { id: i64 },
}

/// The configured database, for one command.
async fn open_store(config: &Config) -> Result<store::Pool, String> {
    store::open(&config.database_url)
        .await
        .map_err(|e| e.to_string())
}

/// Runs a `herald webhook …` command against the configured database.
pub async fn run_webhook_command(config: &Config, command: WebhookCommand) -> Result<(), String> {
    let pool = open_store(config).await?;
    let result = match command {
        WebhookCommand::Add { url, events } => webhooks::create(
            &pool,
            keys::CLI,
            config.webhook_allow_private,
            &url,
            &events,
        )
        .await
        .map(|created| {
            println!("{}", created.secret);
            eprintln!(
                "registered webhook {} for {url}: the line above is its signing secret; it is \
                 shown only this once, so give it to the receiver now.",
                created.id
            );
        }),
        WebhookCommand::List => webhooks::list(&pool).await.map(|endpoints| {
            println!(
                "{:>5}  {:<40}  {:<50}  {:>7}  last attempt",
                "id", "url", "events", "pending"
            );
            for endpoint in endpoints {
                let events: Vec<&str> = endpoint.events.iter().map(|e| e.as_str()).collect();
                let last = endpoint.recent_attempts.first().map_or_else(
                    || "none".to_string(),
                    |a| {
                        let answer = a
                            .status
                            .map(|s| s.to_string())
                            .or_else(|| a.error.clone())
                            .unwrap_or_default();
                        format!("{} {} {answer}", a.at, a.message_id)
                    },
                );
                println!(
                    "{:>5}  {:<40}  {:<50}  {:>7}  {last}",
                    endpoint.id,
                    endpoint.url,
                    events.join(","),
                    endpoint.pending
                );
            }
        }),
        WebhookCommand::Remove { id } => webhooks::remove(&pool, keys::CLI, id)
            .await
            .map(|()| println!("removed webhook {id}")),
    };
    result.map_err(|e| e.to_string())
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it (the only time it is shown).
    Add {
        name: String,
        /// What the key may do: publish (broadcast, send, retract), read
        /// (stats, announcements, audit), users (provisioning). Repeat it.
        #[arg(long = "scope", required = true, value_parser = ["publish", "read", "users"])]
        scopes: Vec<String>,
    },
    /// List keys: names, scopes, when created and last used (never a key).
    List,
    /// Revoke a key: every request with it is refused from now on.
    Revoke { name: String },
}

/// Runs a `herald key …` command against the configured database.
pub async fn run_key_command(config: &Config, command: KeyCommand) -> Result<(), String> {
    let pool = open_store(config).await?;
    let result = match command {
        KeyCommand::Add { name, scopes } => {
            let scopes: Vec<Scope> = scopes.iter().filter_map(|s| Scope::parse(s)).collect();
            keys::create(&pool, keys::CLI, &name, &scopes)
                .await
                .map(|created| {
                    println!("{}", created.key);
                    eprintln!(
                        "created key {:?} ({}): the line above is the key; it is shown only \
                         this once, so store it now. Use it as `Authorization: Bearer <key>`.",
                        created.view.name,
                        scope_list(&created.view.scopes)
                    );
                })
        }
        KeyCommand::List => keys::list(&pool).await.map(|keys| {
            println!(
                "{:<24}  {:<20}  {:<20}  {:<25}  {:<25}  status",
                "name", "scopes", "prefix", "created", "last used"
            );
            for key in keys {
                println!(
                    "{:<24}  {:<20}  {:<20}  {:<25}  {:<25}  {}",
                    key.name,
                    scope_list(&key.scopes),
                    key.prefix,
                    key.created_at,
                    key.last_used_at.as_deref().unwrap_or("never"),
                    key.revoked_at
                        .map_or("live".to_string(), |at| format!("revoked {at}"))
                );
            }
        }),
        KeyCommand::Revoke { name } => keys::revoke(&pool, keys::CLI, &name).await.map(|ended| {
            println!(
                "revoked key {name} and {} user token(s) issued to it",
                ended.len()
            )
        }),
    };
    result.map_err(|e| e.to_string())
}

fn scope_list(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account (prompts for the password).
    Add {
        name: String,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Change an account's role; their sessions end.
    SetRole {
        name: String,
        #[arg(value_parser = ["user", "admin"])]
        role: String,
    },
    /// Change an account's password; their sessions end.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete an account with its notifications and sessions.
    Delete { name: String },
}

/// Runs a `herald user …` command against the configured database.
pub async fn run_user_command(config: &Config, command: UserCommand) -> Result<(), String> {
    let pool = open_store(config).await?;
    // One command, one hash: the gate only keeps the code path shared.
    let hashers = Hashers::new(1, password::HASH_WAIT).map_err(|e| e.to_string())?;
    let result = match command {
        UserCommand::Add {
            name,
            admin,
            password_stdin,
        } => {
            let password = read_password(password_stdin, true)?;
            let role = if admin { Role::Admin } else { Role::User };
            accounts::add_user(&pool, &hashers, &name, &password, role)
                .await
                .map(|user| {
                    println!(
                        "added {} ({}, id {})",
                        user.username,
                        user.role.as_str(),
                        user.id
                    );
                })
        }
        UserCommand::List => accounts::list_users(&pool).await.map(|users| {
            println!("{:>6}  {:<6}  username", "id", "role");
            for user in users {
                println!(
                    "{:>6}  {:<6}  {}",
                    user.id,
                    user.role.as_str(),
                    user.username
                );
            }
        }),
        UserCommand::SetRole { name, role } => {
            let role = Role::parse(&role).ok_or("role must be user or admin")?;
            accounts::set_role(&pool, None, &name, role)
                .await
                .map(|()| println!("{name} is now {}; their sessions were ended", role.as_str()))
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let password = read_password(password_stdin, true)?;
            accounts::set_password(&pool, &hashers, None, &name, &password)
                .await
                .map(|()| println!("password changed for {name}; their sessions were ended"))
        }
        UserCommand::Delete { name } => accounts::delete_user(&pool, None, &name)
            .await
            .map(|()| println!("deleted {name}")),
    };
    result.map_err(|e| e.to_string())
}

fn read_password(from_stdin: bool, confirm: bool) -> Result<String, String> {
    if from_stdin {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| format!("reading the password from stdin: {e}"))?;
        return Ok(input.trim_end_matches(['\n', '\r']).to_string());
    }
    let password = rpassword::prompt_password("Password: ")
        .map_err(|e| format!("reading the password: {e}"))?;
    if confirm {
        let again = rpassword::prompt_password("Again: ")
            .map_err(|e| format!("reading the password: {e}"))?;
        if again != password {
            return Err("the passwords differ".into());
        }
    }
    Ok(password)
}
