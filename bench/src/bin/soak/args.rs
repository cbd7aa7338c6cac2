//! The flags of `soak` (`soak --help`). The names and defaults are the ones
//! `scripts/soak.sh` passes: change them together.

use std::{net::SocketAddr, time::Duration};

use clap::{error::ErrorKind, CommandFactory, Parser};
use herald_bench::cli;

/// Mixed, bounded load against a running Herald for a fixed time, then
/// proof that nothing was lost and memory stayed flat. The flags are the
/// ones `scripts/soak.sh` passes.
#[derive(Parser)]
#[command(
    name = "soak",
    after_help = "Passwords come from the environment: SOAK_PASSWORD (every account's)."
)]
pub struct Args {
    /// http://127.0.0.1:PORT of Herald
    #[arg(long = "base-url", value_name = "URL", value_parser = cli::loopback_url,
          default_value = "http://127.0.0.1:3000")]
    pub server: SocketAddr,
    /// Seconds of load (at least 30)
    #[arg(long = "duration", value_name = "S", value_parser = clap::value_parser!(u64).range(30..),
          default_value_t = 1800)]
    duration_secs: u64,
    /// Herald's pid, for its RSS
    #[arg(long, value_name = "PID")]
    pub server_pid: u32,
    /// Accounts <prefix>1..<prefix>N, all with SOAK_PASSWORD
    #[arg(long, value_name = "N", value_parser = cli::positive_count, default_value = "200")]
    pub users: usize,
    /// The accounts' name prefix
    #[arg(long, value_name = "P", default_value = "soak")]
    pub user_prefix: String,
    /// An admin account with SOAK_PASSWORD
    #[arg(long, value_name = "NAME", default_value = "soak-admin")]
    pub admin: String,
    /// The account bad sign-ins aim at
    #[arg(long, value_name = "NAME", default_value = "soak-decoy")]
    pub decoy: String,
    /// SOAK_PASSWORD, read once the flags are parsed (never a flag: it
    /// would show in `ps`).
    #[arg(skip)]
    pub password: String,
}

impl Args {
    /// The flags and the password; a bad flag or no SOAK_PASSWORD exits with
    /// usage (status 2).
    pub fn parse_checked() -> Args {
        let mut args = Args::parse();
        match std::env::var("SOAK_PASSWORD") {
            Ok(p) if !p.is_empty() => args.password = p,
            _ => Args::command()
                .error(
                    ErrorKind::MissingRequiredArgument,
                    "SOAK_PASSWORD must be set",
                )
                .exit(),
        }
        args
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(flags: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(["soak"].iter().chain(flags))
    }

    #[test]
    fn the_flags_soak_sh_passes_parse() {
        let a = parse(&[
            "--base-url",
            "http://127.0.0.1:3230",
            "--duration",
            "120",
            "--server-pid",
            "42",
            "--users",
            "50",
            "--user-prefix",
            "soak",
            "--admin",
            "soak-admin",
            "--decoy",
            "soak-decoy",
        ])
        .unwrap();
        assert_eq!(a.server, "127.0.0.1:3230".parse::<SocketAddr>().unwrap());
        assert_eq!(
            (a.duration(), a.server_pid, a.users),
            (Duration::from_secs(120), 42, 50)
        );
        assert_eq!(
            (a.user_prefix.as_str(), a.admin.as_str(), a.decoy.as_str()),
            ("soak", "soak-admin", "soak-decoy")
        );
    }

    #[test]
    fn defaults_and_refusals() {
        let a = parse(&["--server-pid", "1"]).unwrap();
        assert_eq!((a.duration(), a.users), (Duration::from_secs(1800), 200));
        assert_eq!(a.server, "127.0.0.1:3000".parse::<SocketAddr>().unwrap());
        assert!(parse(&[]).is_err(), "--server-pid is required");
        assert!(parse(&["--server-pid", "1", "--duration", "29"]).is_err());
        assert!(parse(&["--server-pid", "1", "--users", "0"]).is_err());
        assert!(parse(&["--server-pid", "1", "--base-url", "http://192.0.2.1:80"]).is_err());
    }
}
