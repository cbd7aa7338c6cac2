//! Readings of a process from `/proc`: resident memory and CPU time.

use std::fs;

/// `VmRSS` of `pid`, in KiB.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
}

/// User + system CPU time `pid` has used so far, in seconds.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces: count fields after its ')'.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks())
}

/// CPU time of `pid` and every process under it (children, grandchildren…),
/// in seconds, plus what its children that already exited used (`cutime`,
/// `cstime` of each, as far as their parents reaped them): e.g. a
/// PostgreSQL postmaster and its backends.
pub fn tree_cpu_secs(pid: u32) -> Option<f64> {
    // (pid, ppid, own ticks, reaped children's ticks) of every process.
    let mut procs = Vec::new();
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let Some(fields) = stat_fields(&stat) else {
            continue;
        };
        let num = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // After the name: state, ppid… utime stime cutime cstime.
        procs.push((p, num(1) as u32, num(11) + num(12), num(13) + num(14)));
    }
    let mut inside = vec![pid];
    let mut ticks = 0;
    let mut found = false;
    // Parents come before their children in no guaranteed order: repeat
    // until the set stops growing.
    loop {
        let before = inside.len();
        for &(p, ppid, _, _) in &procs {
            if inside.contains(&ppid) && !inside.contains(&p) {
                inside.push(p);
            }
        }
        if inside.len() == before {
            break;
        }
    }
    for &(p, _, own, reaped) in &procs {
        if inside.contains(&p) {
            found |= p == pid;
            ticks += own + reaped;
        }
    }
    found.then(|| ticks as f64 / clock_ticks())
}

/// The fields of a `/proc/PID/stat` line after the command name (which may
/// contain spaces): the state is `[0]`.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    Some(stat[stat.rfind(')')? + 1..].split_whitespace().collect())
}

/// CPU time the whole machine has spent busy (all CPUs, all processes, the
/// kernel's interrupt work included), in seconds.
pub fn machine_busy_secs() -> Option<f64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest is inside user).
    let busy: u64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| ticks.get(i))
        .sum();
    Some(busy as f64 / clock_ticks())
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_readable() {
        let me = std::process::id();
        assert!(rss_kb(me).unwrap() > 0);
        assert!(cpu_secs(me).unwrap() >= 0.0);
        assert_eq!(rss_kb(u32::MAX), None);
        assert!(machine_busy_secs().unwrap() > 0.0);
        assert!(tree_cpu_secs(1).unwrap() >= cpu_secs(1).unwrap());
        assert_eq!(tree_cpu_secs(u32::MAX), None);
    }
}
