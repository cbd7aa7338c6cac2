//! `herald`: with no subcommand, serves the app; `herald user …` manages
//! accounts, `herald key …` service API keys, `herald webhook …` webhook
//! endpoints.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use clap::Parser;
    use herald::server::{
        cli::{run_key_command, run_user_command, run_webhook_command, Cli, Command},
        config::Config,
        serve,
    };
    use std::process::ExitCode;

    // A missing .env is normal.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "herald=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("herald: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        None | Some(Command::Serve) => {
            if let Err(e) = config.check_for_serving() {
                eprintln!("herald: {e}");
                return ExitCode::from(2);
            }
            serve(config).await
        }
        Some(Command::User(command)) => run_user_command(&config, command).await,
        Some(Command::Key(command)) => run_key_command(&config, command).await,
        Some(Command::Webhook(command)) => run_webhook_command(&config, command).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser entry point is `hydrate()` in lib.rs.
}
