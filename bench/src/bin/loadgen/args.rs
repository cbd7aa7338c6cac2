//! The flags of `loadgen` (`loadgen --help`). The names and defaults are the
//! ones `scripts/bench.sh` passes and relies on: change them together.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{error::ErrorKind, CommandFactory, Parser, ValueEnum};
use herald_bench::cli::{
    loopback_url, positive_count, positive_number, positive_secs, rates, secs_or_zero,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Herald,
    Baseline,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Herald => "herald",
            Target::Baseline => "baseline",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Fanout,
    Throughput,
    Storm,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Fanout => "fanout",
            Mode::Throughput => "throughput",
            Mode::Storm => "storm",
        }
    }
}

/// Storm: publishing goes on this long after every stream caught up.
pub const STORM_TAIL: Duration = Duration::from_secs(2);

/// Opens N SSE subscribers against Herald or the baseline server, publishes
/// broadcasts, and measures what arrives.
#[derive(Debug, Parser)]
#[command(name = "loadgen")]
pub struct Args {
    /// What to run
    #[arg(long, value_enum, default_value_t = Mode::Fanout)]
    pub mode: Mode,
    /// Which server is under test
    #[arg(long, value_enum, default_value_t = Target::Herald)]
    pub target: Target,
    /// http://IP:PORT of the server; several (instances of one cluster,
    /// comma-separated): stream k opens on URL k mod n, message i is
    /// published through URL i mod n
    #[arg(long = "base-url", value_name = "URL[,URL...]", value_delimiter = ',',
          value_parser = loopback_url, default_value = "http://127.0.0.1:3000")]
    pub servers: Vec<SocketAddr>,
    /// SSE streams to open
    #[arg(long, value_name = "N", value_parser = positive_count, default_value = "10000")]
    pub subscribers: usize,
    /// fanout: messages to publish (default 50); throughput: upper bound on
    /// publishes (default 100000)
    #[arg(long = "messages", value_name = "M", value_parser = positive_count)]
    messages_flag: Option<usize>,
    /// fanout, storm: publish rate, messages per second
    #[arg(long, value_name = "R", value_parser = positive_number, default_value = "10")]
    pub rate: f64,
    /// fanout: then steps at these rates (comma- or space-separated), until
    /// one is not sustained
    // A path, not a bare `Vec`: the one value holds every rate, where clap
    // would read a `Vec` field as one rate per `--ramp`.
    #[arg(long, value_name = "R1,R2,...", value_parser = rates, default_value = "", hide_default_value = true)]
    pub ramp: ::std::vec::Vec<f64>,
    /// fanout: length of a ramp step, seconds
    #[arg(long, value_name = "S", value_parser = positive_number, default_value = "5")]
    pub step_secs: f64,
    /// fanout: a step is sustained if its sends kept 95% of the rate, nothing
    /// was lost and last-subscriber p99 <= L
    #[arg(long = "ramp-p99-ms", value_name = "L", value_parser = positive_number,
          default_value = "1000")]
    pub ramp_p99_ms: f64,
    /// throughput: closed-loop publishers
    #[arg(long, value_name = "P", value_parser = positive_count, default_value = "4")]
    pub publishers: usize,
    /// throughput: seconds of publishing
    #[arg(long, value_name = "S", value_parser = positive_secs, default_value = "10")]
    pub duration: Duration,
    /// storm: seconds of publishing before the storm
    #[arg(long, value_name = "S", value_parser = secs_or_zero, default_value = "3")]
    pub warmup: Duration,
    /// storm: seconds between closing and reopening
    #[arg(long, value_name = "S", value_parser = secs_or_zero, default_value = "1")]
    pub storm_gap: Duration,
    /// storm: limit for every stream to reconnect and catch up, seconds
    #[arg(long, value_name = "S", value_parser = positive_secs, default_value = "60")]
    pub storm_timeout: Duration,
    /// storm: reopenings in flight (0: all at once)
    #[arg(long, value_name = "C", default_value_t = 0)]
    pub reconnect_concurrency: usize,
    /// Spread client sockets over 127.0.0.1..127.0.0.K
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u8).range(1..=254),
          default_value_t = 4)]
    pub source_ips: u8,
    /// Read the server's VmRSS / CPU from /proc/PID (several,
    /// comma-separated: summed)
    #[arg(
        long = "server-pid",
        value_name = "PID[,PID...]",
        value_delimiter = ','
    )]
    pub server_pids: Vec<u32>,
    /// Also report the CPU of PID and its descendants (a database)
    #[arg(long, value_name = "PID")]
    pub db_pid: Option<u32>,
    /// herald: one bearer token per line, used round-robin
    #[arg(long, value_name = "FILE", alias = "users-file")]
    tokens_file: Option<PathBuf>,
    /// herald: bearer token that publishes
    #[arg(long, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// baseline: publish data the size of Herald's (its notification's
    /// fields, same lengths), so both streams carry as many bytes and the
    /// client's cost is no longer the difference
    #[arg(long)]
    pub padded: bool,
    /// Streams being opened at once (keep it under the server's listen
    /// backlog, 128 for tokio's default)
    #[arg(long, value_name = "C", value_parser = positive_count, default_value = "100")]
    pub connect_concurrency: usize,
    /// Per-stream limit to get established, seconds
    #[arg(long, value_name = "S", value_parser = positive_secs, default_value = "60")]
    pub connect_timeout: Duration,
    /// Wait for deliveries after the last publish, seconds
    #[arg(long, value_name = "S", value_parser = secs_or_zero, default_value = "10")]
    pub drain_timeout: Duration,
    /// Also write the results as JSON
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// The bearer tokens of `--tokens-file`, read once the flags are parsed.
    #[arg(skip)]
    pub tokens: Vec<String>,
}

impl Args {
    /// The flags, with the tokens read; a bad flag, an unreadable tokens
    /// file or a Herald run without tokens exits with usage (status 2).
    pub fn parse_checked() -> Args {
        let mut args = Args::parse();
        if let Err((kind, e)) = args.read_tokens() {
            Args::command().error(kind, e).exit();
        }
        args
    }

    fn read_tokens(&mut self) -> Result<(), (ErrorKind, String)> {
        if let Some(path) = &self.tokens_file {
            self.tokens = std::fs::read_to_string(path)
                .map_err(|e| {
                    let e = format!("--tokens-file {}: {e}", path.display());
                    (ErrorKind::Io, e)
                })?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
        }
        if self.target == Target::Herald && (self.tokens.is_empty() || self.admin_token.is_none()) {
            return Err((
                ErrorKind::MissingRequiredArgument,
                "--target herald needs --tokens-file (non-empty) and --admin-token".into(),
            ));
        }
        Ok(())
    }

    /// `--messages`, or its default for the mode.
    pub fn messages(&self) -> usize {
        self.messages_flag.unwrap_or(match self.mode {
            Mode::Throughput => 100_000,
            _ => 50,
        })
    }

    /// Message slots the run may use.
    pub fn capacity(&self) -> usize {
        match self.mode {
            Mode::Fanout => {
                self.messages()
                    + self
                        .ramp
                        .iter()
                        .map(|r| (r * self.step_secs).ceil() as usize)
                        .sum::<usize>()
            }
            Mode::Throughput => self.messages(),
            // Warm-up, gap, the storm itself, the tail, and room to spare.
            Mode::Storm => {
                let s = self.warmup + self.storm_gap + self.storm_timeout + STORM_TAIL;
                ((s.as_secs_f64() + 30.0) * self.rate).ceil() as usize
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(flags: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(["loadgen"].iter().chain(flags))
    }

    #[test]
    fn the_flags_bench_sh_passes_parse_as_before() {
        let a = parse(&[
            "--target",
            "baseline",
            "--base-url",
            "http://127.0.0.1:3201",
            "--mode",
            "fanout",
            "--subscribers",
            "10000",
            "--source-ips",
            "4",
            "--connect-concurrency",
            "100",
            "--messages",
            "1200",
            "--rate",
            "20",
            "--step-secs",
            "5",
            "--ramp-p99-ms",
            "1000",
            "--ramp",
            "20 50 100 200 400 800",
            "--server-pid",
            "41",
            "--json-out",
            "/tmp/b.json",
        ])
        .unwrap();
        assert_eq!((a.mode, a.target), (Mode::Fanout, Target::Baseline));
        assert_eq!(a.servers, ["127.0.0.1:3201".parse::<SocketAddr>().unwrap()]);
        assert_eq!((a.subscribers, a.messages(), a.rate), (10_000, 1200, 20.0));
        assert_eq!(a.ramp, [20.0, 50.0, 100.0, 200.0, 400.0, 800.0]);
        assert_eq!(a.server_pids, [41]);
        assert_eq!(a.capacity(), 1200 + 5 * (20 + 50 + 100 + 200 + 400 + 800));

        let a = parse(&[
            "--mode",
            "storm",
            "--rate",
            "20",
            "--warmup",
            "3",
            "--storm-gap",
            "1",
            "--storm-timeout",
            "60",
            "--reconnect-concurrency",
            "0",
            "--base-url",
            "http://127.0.0.1:3211,http://127.0.0.1:3212",
            "--server-pid",
            "7,8",
            "--db-pid",
            "9",
        ])
        .unwrap();
        assert_eq!(a.servers.len(), 2);
        assert_eq!(
            (a.server_pids.as_slice(), a.db_pid),
            ([7, 8].as_slice(), Some(9))
        );
        assert_eq!(a.warmup, Duration::from_secs(3));
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let a = parse(&[]).unwrap();
        assert_eq!(
            (a.mode, a.target, a.subscribers),
            (Mode::Fanout, Target::Herald, 10_000)
        );
        assert_eq!(a.servers, ["127.0.0.1:3000".parse::<SocketAddr>().unwrap()]);
        assert_eq!(
            (a.messages(), a.rate, a.step_secs, a.ramp_p99_ms),
            (50, 10.0, 5.0, 1000.0)
        );
        assert!(a.ramp.is_empty());
        assert_eq!(
            (a.publishers, a.source_ips, a.connect_concurrency),
            (4, 4, 100)
        );
        assert_eq!(
            (a.duration, a.warmup, a.storm_gap, a.storm_timeout),
            (
                Duration::from_secs(10),
                Duration::from_secs(3),
                Duration::from_secs(1),
                Duration::from_secs(60)
            )
        );
        assert_eq!(
            (a.connect_timeout, a.drain_timeout),
            (Duration::from_secs(60), Duration::from_secs(10))
        );
        assert_eq!(
            parse(&["--mode", "throughput"]).unwrap().messages(),
            100_000
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for flags in [
            &["--subscribers", "0"][..],
            &["--rate", "0"],
            &["--source-ips", "255"],
            &["--base-url", "http://192.0.2.1:80"],
            &["--ramp", "20 -5"],
            &["--duration", "0"],
            &["--mode", "soak"],
            &["--frobnicate", "1"],
        ] {
            assert!(parse(flags).is_err(), "{flags:?} was accepted");
        }
        assert!(parse(&["--drain-timeout", "0", "--warmup", "0"]).is_ok());
    }

    #[test]
    fn herald_needs_tokens_and_an_admin_token() {
        let mut a = parse(&["--target", "herald", "--admin-token", "t"]).unwrap();
        assert!(a.read_tokens().is_err());
        let mut a = parse(&["--target", "baseline"]).unwrap();
        assert!(a.read_tokens().is_ok());
    }
}
