//! What the bench binaries share around `main`: the clap value parsers for
//! their flags (so a bad value is refused with the flag's name, before any
//! socket opens) and the exit status of a run.

use std::{
    net::{IpAddr, SocketAddr},
    process::ExitCode,
    time::Duration,
};

/// `http://IP:PORT` of a server on this machine. Loopback only: these tools
/// open thousands of streams and must never be pointed at a real host.
pub fn loopback_url(url: &str) -> Result<SocketAddr, String> {
    let url = url.trim();
    let host = url
        .strip_prefix("http://")
        .ok_or("must start with http://")?
        .trim_end_matches('/');
    let server: SocketAddr = host
        .parse()
        .map_err(|_| format!("must be http://IP:PORT, got {url:?}"))?;
    if !server.ip().is_loopback() {
        return Err("must be a loopback address: this tool only loads local servers".into());
    }
    Ok(server)
}

/// A count above zero.
pub fn positive_count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive count, got {s:?}")),
    }
}

/// A finite number above zero (a rate, a length in ms or s).
pub fn positive_number(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a positive number, got {s:?}")),
    }
}

/// Seconds above zero, fractions allowed.
pub fn positive_secs(s: &str) -> Result<Duration, String> {
    positive_number(s)
        .and_then(|v| Duration::try_from_secs_f64(v).map_err(|e| e.to_string()))
        .map_err(|_| format!("expected positive seconds, got {s:?}"))
}

/// Seconds, zero allowed (a pause that may be skipped).
pub fn secs_or_zero(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(0.0) => Ok(Duration::ZERO),
        _ => positive_secs(s).map_err(|_| format!("expected zero or positive seconds, got {s:?}")),
    }
}

/// Rates separated by commas or spaces (`"20 50 100"`, as the scripts pass
/// them), each above zero; empty gives none.
pub fn rates(s: &str) -> Result<Vec<f64>, String> {
    s.split([',', ' '])
        .filter(|r| !r.is_empty())
        .map(|r| positive_number(r).map_err(|_| format!("expected positive rates, got {r:?}")))
        .collect()
}

/// Fails early and clearly when a loopback source address a run spreads its
/// sockets over cannot be used (`127.0.0.2` and up are not always routed).
pub fn check_source_ip(ip: IpAddr) -> Result<(), String> {
    std::net::UdpSocket::bind((ip, 0))
        .map(drop)
        .map_err(|e| format!("cannot bind source address {ip}: {e}"))
}

/// The exit status of a run: 0 it passed, 3 it completed but reported
/// failures (the scripts tell the two apart), 1 it could not be made.
pub fn exit_status(tool: &str, run: Result<bool, String>) -> ExitCode {
    match run {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(e) => {
            eprintln!("{tool}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Raises the soft open-file limit to the hard one; returns the new soft limit.
pub fn raise_fd_limit() -> Result<u64, String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a stack value we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                return Err(format!("setrlimit: {}", std::io::Error::last_os_error()));
            }
            lim = raised;
        }
    }
    Ok(lim.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert_eq!(
            loopback_url(" http://127.0.0.1:3202/ "),
            Ok("127.0.0.1:3202".parse().unwrap())
        );
        assert!(loopback_url("http://10.0.0.1:80").is_err());
        assert!(loopback_url("https://127.0.0.1:80").is_err());
        assert!(loopback_url("http://localhost:80").is_err());
    }

    #[test]
    fn rates_split_on_commas_and_spaces() {
        assert_eq!(rates("20 50,100  200"), Ok(vec![20.0, 50.0, 100.0, 200.0]));
        assert_eq!(rates(""), Ok(vec![]));
        assert!(rates("20 0").is_err());
        assert!(rates("20 x").is_err());
    }

    #[test]
    fn seconds_may_be_zero_only_where_asked() {
        assert_eq!(secs_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(secs_or_zero("1.5"), Ok(Duration::from_millis(1500)));
        assert!(positive_secs("0").is_err());
        assert!(secs_or_zero("-1").is_err());
        assert!(positive_secs("1e300").is_err());
    }
}
