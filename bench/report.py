#!/usr/bin/env python3
"""Builds the Markdown comparison table from two `loadgen --json-out` files
of the same mode (fanout: table 3, throughput: table 2, storm: table 4).

usage: report.py [--padded PADDED.json] HERALD.json BASELINE.json "COMMAND LINE"
       report.py --cluster CLUSTER.json SINGLE.json "COMMAND LINE"

With --padded, a second baseline run whose data was the size of Herald's
(`loadgen --padded`) gets columns of its own: the baseline's frames are a
third of Herald's, and the client that reads them shares the machine.

With --cluster (table 5, `MODE=cluster scripts/bench.sh`) the two files are
fanout runs of Herald: N instances on PostgreSQL, against one instance on
SQLite; BENCH_PG_SETTINGS names PostgreSQL's settings.

Prints the machine, the load average and the settings first, so the block
can be quoted as is.
"""

import datetime
import json
import os
import platform
import sys


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {mem} RAM, Linux {platform.release()}"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def fmt(value, unit="", digits=0):
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if digits == 0:
        return f"{value:,.0f}{unit}"
    return f"{value:,.{digits}f}{unit}"


def ratio(h, b):
    # A ratio of two zero counts (no loss on either side) says nothing.
    if not isinstance(h, (int, float)) or not isinstance(b, (int, float)) or b == 0:
        return "—"
    return f"{h / b:.2f}×"


def established(r):
    return f"{r['streams_established']:,} / {r['subscribers']:,}"


def dropped_failed(r):
    return f"{r['streams_dropped']} / {r['streams_failed']}"


def lost_dup(r):
    return f"{r['lost']:,} / {r['duplicates']:,}"


def wire(r):
    what = "offsets" if r.get("wire_offsets") else "ids"
    return f"{r['wire_repeated_ids']:,} / {r['wire_gaps']:,} ({what})"


def per_delivery_us(key):
    """CPU `key` (seconds) per delivery, in µs: a derived figure, with its ratio."""
    def value(r):
        # The deliveries of the measured run (fanout: before the ramp), as
        # the CPU figure is: its rate over its window.
        cpu, rate, window = r.get(key), r.get("deliveries_per_sec"), r.get("delivery_window_s")
        n = rate * window if rate and window else r.get("deliveries")
        return cpu * 1e6 / n if cpu is not None and n else None
    value.derived = True
    return value


SERVER_US = per_delivery_us("server_cpu_publish_s")
LOADGEN_US = per_delivery_us("loadgen_cpu_publish_s")

# Rows: (label, key or function, unit, digits, ratio?). A function gets the
# result and returns the cell; its ratio is "—".
ESTABLISHED = ("Streams established", established, "", 0, False)
DELIVERY_LATENCY = [
    ("Delivery latency p50 (every delivery)", "latency_p50_ms", " ms", 2, True),
    ("Delivery latency p99", "latency_p99_ms", " ms", 2, True),
]
LOST_DUP = ("Lost / duplicated deliveries", lost_dup, "", 0, False)
WIRE = ("Wire: repeated ids / skipped", wire, "", 0, False)
PUBLISH_REQUEST = ("Publish request p50", "publish_request_p50_ms", " ms", 2, True)
LOADGEN_CPU = ("Load generator CPU, publishing", "loadgen_cpu_publish_s", " s", 2, True)
OTHER_CPU = ("Other CPU on the machine, publishing", "other_cpu_publish_s", " s", 2, False)
# One Herald against its baseline: what each side cost per delivery.
CPU_PER_DELIVERY = [
    ("Server CPU, publishing", "server_cpu_publish_s", " s", 2, True),
    LOADGEN_CPU,
    OTHER_CPU,
    ("Server CPU per delivery", SERVER_US, " µs", 2, True),
    ("Load generator CPU per delivery", LOADGEN_US, " µs", 2, True),
    ("Bytes read per delivery (all included)", "bytes_per_delivery", " B", 0, True),
]
COMMON_TAIL = [
    ("Streams dropped / failed", dropped_failed, "", 0, False),
    ("Memory per connection", "kb_per_connection", " KB", 1, True),
]


def last_subscriber(prefix, suffix=""):
    """The two last-subscriber rows; the tables name them differently."""
    return [
        (f"{prefix} p50{suffix}", "last_subscriber_p50_ms", " ms", 2, True),
        (f"{prefix} p99{suffix}", "last_subscriber_p99_ms", " ms", 2, True),
    ]


def open_loop(last_subscriber_prefix):
    """The rows an open-loop run (fanout, cluster) opens with, up to its CPU."""
    return (
        [
            ESTABLISHED,
            ("Time to establish all", "connect_time_s", " s", 2, True),
            ("Publish rate achieved", "achieved_rate", " msg/s", 2, True),
            ("Deliveries/s", "deliveries_per_sec", "", 0, True),
        ]
        + last_subscriber(last_subscriber_prefix, " (per message)")
        + DELIVERY_LATENCY
        + [LOST_DUP, ("Resyncs", "resyncs", "", 0, False), WIRE, PUBLISH_REQUEST]
    )


TABLES = {
    "throughput": {
        "title": "Table 2 — publishing throughput to {subscribers:,} open streams "
        "({publishers} closed-loop publishers, {duration_s:g} s)",
        "rows": [
            ESTABLISHED,
            ("Accepted publishes/s", "accepted_per_sec", "", 1, True),
            ("Deliveries/s", "deliveries_per_sec", "", 0, True),
        ]
        + last_subscriber("Publish → last subscriber")
        + DELIVERY_LATENCY
        + [
            PUBLISH_REQUEST,
            ("Publishes accepted / errors", lambda r: f"{r['accepted']:,} / {r['publish_errors']}", "", 0, False),
            LOST_DUP,
            WIRE,
        ]
        + CPU_PER_DELIVERY
        + COMMON_TAIL,
    },
    "fanout": {
        "title": "Table 3 — {subscribers:,} streams at {rate:g} broadcasts/s, open loop, "
        "{messages:,} messages",
        "rows": open_loop("Last subscriber")
        + CPU_PER_DELIVERY
        + [("Server RSS after connect", "rss_after_kb", " KB", 0, True)]
        + COMMON_TAIL,
    },
    "cluster": {
        "title": "Table 5 — {subscribers:,} streams over {instances} Herald instances on one PostgreSQL, "
        "{rate:g} broadcasts/s published round-robin through all of them, open loop, {messages:,} messages; "
        "against ONE Herald on SQLite, same load",
        "rows": open_loop("Publish → last subscriber")
        + [
            ("Herald CPU, publishing (all instances)", "server_cpu_publish_s", " s", 2, True),
            ("PostgreSQL CPU, publishing (all backends)", "db_cpu_publish_s", " s", 2, False),
            LOADGEN_CPU,
            OTHER_CPU,
            ("Herald RSS after connect (all instances)", "rss_after_kb", " KB", 0, True),
        ]
        + COMMON_TAIL,
    },
    "storm": {
        "title": "Table 4 — reconnect storm: {subscribers:,} streams, publishing at {rate:g}/s; "
        "every socket closed at once, reopened at once with Last-Event-ID after {storm_gap_s:g} s",
        "rows": [
            ("Streams established (before the storm)", established, "", 0, False),
            ("Streams closed / reconnected / failed",
             lambda r: f"{r['closed']:,} / {r['reconnected']:,} / {r['reconnect_failed']:,}", "", 0, False),
            ("Time until all reconnected (`connected`)", "time_to_reconnect_s", " s", 2, True),
            ("Time until all caught up", "time_to_catch_up_s", " s", 2, True),
            ("Messages published while closed", "missed_while_closed", "", 0, False),
            ("Notifications replayed (published before their stream's `connected`)", "replayed", "", 0, False),
            ("Streams that got `resync`", "resynced_streams", "", 0, False),
            ("Lost / duplicated notifications", lost_dup, "", 0, False),
            ("Lost on streams after `resync` (refetch)", "lost_after_resync", "", 0, False),
            WIRE,
            ("Server CPU, reopen until caught up", "server_cpu_reopen_s", " s", 2, True),
            ("Load generator CPU, same span", "loadgen_cpu_reopen_s", " s", 2, True),
            ("Other CPU on the machine, same span", "other_cpu_reopen_s", " s", 2, False),
            ("Publish rate held", "achieved_rate", " msg/s", 2, True),
            ("Last subscriber p99 (per message, whole run, replays included)", "last_subscriber_p99_ms", " ms", 2, True),
            ("Last subscriber p99, messages published once every stream was back",
             "after_storm_last_subscriber_p99_ms", " ms", 2, True),
            ("Time to establish all (first opening)", "connect_time_s", " s", 2, True),
        ]
        + COMMON_TAIL,
    },
}


def cell(r, key, unit, digits):
    if callable(key) and getattr(key, "derived", False):
        v = key(r)
        return fmt(v, unit, digits), v
    if callable(key):
        return key(r), None
    v = r.get(key)
    return fmt(v, unit, digits), v


def rate_held(h):
    """An open-loop run's rate, what it sent, and whether that was 95% of it."""
    rate, ach = h.get("rate"), h.get("achieved_rate")
    return rate, ach, ach is not None and rate and ach >= 0.95 * rate


def storm_clean(h):
    """A storm lost nothing, repeated nothing, and every stream came back."""
    return h["lost"] == 0 and h["duplicates"] == 0 and h.get("reconnect_failed", 1) == 0


def verdicts(mode, h, b, p=None):
    """The plan's targets (docs/event-log.md §9; the cluster's: issue 10;
    the publish path's: issue 16), as measured here; `p`: the padded baseline."""
    out = []
    if p is not None:
        out.extend(padded_verdicts(mode, h, b, p))
        return out
    if mode == "cluster":
        rate, ach, full = rate_held(h)
        hp, bp = h.get("last_subscriber_p99_ms"), b.get("last_subscriber_p99_ms")
        # Skipped offsets after a `resync` past the breaking point are the
        # documented answer to an overflow, not a gap in a sustained run.
        def past_breaking(r):
            return sum(s.get("resyncs", 0) for s in r.get("ramp") or [] if not s["sustained"])
        clean = all(r["lost"] == 0 and r["duplicates"] == 0
                    and (r["wire_gaps"] == 0 or r.get("resyncs", 0) == past_breaking(r))
                    and r["wire_repeated_ids"] == 0 and r["streams_failed"] == 0 for r in (h, b))
        step = lambda r: next((s for s in r.get("ramp") or [] if s["rate"] == 100), None)  # noqa: E731
        h100, b100 = step(h), step(b)
        r100 = x(h100 and h100.get("last_subscriber_p99_ms"), b100 and b100.get("last_subscriber_p99_ms"))
        line = (f"Target: cluster last-subscriber p99 ≤ 1.25× the single instance's — "
                + (f"{fmt(hp, ' ms', 1)} against {fmt(bp, ' ms', 1)}, {hp / bp:.2f}×: "
                   f"{met(hp <= 1.25 * bp)}" if hp is not None and bp else "n/a")
                + (f"; at 100/s (ramp) {fmt(r100, '×', 2)}: {met(r100 <= 1.25)}" if r100 is not None
                   else "; at 100/s: not reached by both")
                + f"; the full {rate:g}/s ({fmt(ach, '', 2)} msg/s sent): {'met' if full else 'NOT met'}"
                + f"; 0 lost, 0 duplicated, no skipped offset on either: {'met' if clean else 'NOT met'} "
                f"(cluster {h['lost']} / {h['duplicates']}, single {b['lost']} / {b['duplicates']}).")
        out.append(line)
    if mode == "throughput":
        hd, bd = h.get("deliveries_per_sec"), b.get("deliveries_per_sec")
        if hd and bd:
            r = hd / bd
            out.append(
                f"Target: Herald/baseline deliveries/s ≥ 0.5 — {r:.2f}: {'met' if r >= 0.5 else 'NOT met'}."
            )
    elif mode == "fanout":
        rate, ach, held = rate_held(h)
        hp, bp = h.get("last_subscriber_p99_ms"), b.get("last_subscriber_p99_ms")
        full = held and h["lost"] == 0
        line = f"Target: the full {rate:g}/s ({fmt(ach, '', 2)} msg/s sent, {h['lost']} lost: {'met' if full else 'NOT met'})"
        if hp is not None and bp:
            line += f"; last-subscriber p99 ≤ 1.25× baseline ({hp / bp:.2f}×: {'met' if hp <= 1.25 * bp else 'NOT met'})"
        out.append(line + ".")
    elif mode == "storm":
        ok = storm_clean(h)
        out.append(
            f"Target: 0 lost, 0 duplicated — Herald {h['lost']} lost, {h['duplicates']} duplicated, "
            f"{h['resynced_streams']} streams resynced ({h['lost_after_resync']} notifications to refetch): "
            f"{'met' if ok else 'NOT met'}. The baseline cannot replay: its losses are what a client "
            f"of it misses while away."
        )
    return out


def met(ok):
    return "met" if ok else "**NOT met**"


def x(a, b):
    return a / b if a is not None and b else None


def padded_verdicts(mode, h, b, p):
    """Issue 16's targets, against both baselines."""
    out = []
    if mode == "throughput":
        rb, rp = x(h.get("deliveries_per_sec"), b.get("deliveries_per_sec")), x(
            h.get("deliveries_per_sec"), p.get("deliveries_per_sec"))
        cp = x(SERVER_US(h), SERVER_US(p))
        out.append(
            f"Targets: deliveries/s ≥ 0.7× the baseline — {fmt(rb, '×', 2)}: {met(rb is not None and rb >= 0.7)}; "
            f"≥ 1.0× the padded baseline — {fmt(rp, '×', 2)}: {met(rp is not None and rp >= 1.0)}; "
            f"server CPU per delivery ≤ 1.0× the padded baseline's — {fmt(cp, '×', 2)}: {met(cp is not None and cp <= 1.0)}."
        )
    elif mode == "fanout":
        rate, ach, held = rate_held(h)
        full = held and h["lost"] == 0
        hp = h.get("last_subscriber_p99_ms")
        pb, pp = x(hp, b.get("last_subscriber_p99_ms")), x(hp, p.get("last_subscriber_p99_ms"))
        req = x(h.get("publish_request_p50_ms"), b.get("publish_request_p50_ms"))
        cp = x(SERVER_US(h), SERVER_US(p))
        out.append(
            f"Targets: the full {rate:g}/s ({fmt(ach, '', 2)} msg/s sent, {h['lost']} lost): {met(full)}; "
            f"last-subscriber p99 ≤ 1.25× the baseline — {fmt(pb, '×', 2)}: {met(pb is not None and pb <= 1.25)} "
            f"(padded baseline: {fmt(pp, '×', 2)}); publish request p50 ≤ 3× the baseline — {fmt(req, '×', 1)}: "
            f"{met(req is not None and req <= 3)}; server CPU per delivery ≤ 1.0× the padded baseline's — "
            f"{fmt(cp, '×', 2)}: {met(cp is not None and cp <= 1.0)}."
        )
    elif mode == "storm":
        ok = storm_clean(h)
        pb = x(h.get("last_subscriber_p99_ms"), b.get("last_subscriber_p99_ms"))
        pp = x(h.get("last_subscriber_p99_ms"), p.get("last_subscriber_p99_ms"))
        out.append(
            f"Targets: 0 lost, 0 duplicated — Herald {h['lost']} lost, {h['duplicates']} duplicated, "
            f"{h['resynced_streams']} streams resynced: {met(ok)}; last-subscriber p99 over the run ≤ 2× the "
            f"baseline — {fmt(pb, '×', 2)}: {met(pb is not None and pb <= 2)} (padded baseline: {fmt(pp, '×', 2)}); "
            f"Herald's includes the notifications it replays seconds later, which the baselines lose (their "
            f"p99 counts only what arrived live); once every stream was back: "
            f"{fmt(x(h.get('after_storm_last_subscriber_p99_ms'), b.get('after_storm_last_subscriber_p99_ms')), '×', 2)} "
            f"(padded: {fmt(x(h.get('after_storm_last_subscriber_p99_ms'), p.get('after_storm_last_subscriber_p99_ms')), '×', 2)})."
        )
    return out


def ramp_table(h, b, names=("Herald", "Baseline", "baseline")):
    """The ramp of both runs; `names`: the two columns' names, and the second's in a sentence."""
    hn, bn, bn_lower = names
    hs, bs = h.get("ramp") or [], b.get("ramp") or []
    if not hs and not bs:
        return
    print()
    print(
        f"Ramp: {h.get('ramp_step_secs', 0):g} s steps on the same {h['subscribers']:,} streams, stopping "
        f"at the first step not sustained (sends under 95% of the rate, an undelivered message, "
        f"or last-subscriber p99 over {h.get('ramp_p99_ms', 0):g} ms)."
    )
    print()
    print(f"| Rate | {hn} sends/s | {hn} deliveries/s | {hn} last-sub p99 | {hn} | "
          f"{bn} deliveries/s | {bn} last-sub p99 | {bn} |")
    print("|---:|---:|---:|---:|---|---:|---:|---|")
    rates = []
    for s in hs + bs:
        if s["rate"] not in rates:
            rates.append(s["rate"])
    by = lambda steps: {s["rate"]: s for s in steps}  # noqa: E731
    hm, bm = by(hs), by(bs)

    limit = h.get("ramp_p99_ms") or b.get("ramp_p99_ms") or 0

    def verdict(s):
        if s is None:
            return "not run"
        if s["sustained"]:
            return "sustained"
        why = []
        if s.get("send_rate") is None or s["send_rate"] < 0.95 * s["rate"]:
            why.append(f"sends at {fmt(s.get('send_rate'), '/s', 1)}")
        if s["undelivered"]:
            why.append(f"{s['undelivered']:,} undelivered")
        if s.get("resyncs"):
            why.append(f"{s['resyncs']:,} resyncs")
        if s["publish_errors"]:
            why.append(f"{s['publish_errors']} publish errors")
        p99 = s.get("last_subscriber_p99_ms")
        if p99 is None or p99 > limit:
            why.append(f"p99 over {limit:g} ms")
        return f"**broke** ({', '.join(why)})"

    for rate in rates:
        x, y = hm.get(rate), bm.get(rate)
        g = lambda s, k, u="", d=0: fmt(s.get(k), u, d) if s else "—"  # noqa: E731
        print(
            f"| {rate:g}/s | {g(x, 'send_rate', '', 1)} | {g(x, 'deliveries_per_sec')} | "
            f"{g(x, 'last_subscriber_p99_ms', ' ms', 1)} | {verdict(x)} | {g(y, 'deliveries_per_sec')} | "
            f"{g(y, 'last_subscriber_p99_ms', ' ms', 1)} | {verdict(y)} |"
        )
    hh, bh = h.get("ramp_highest_sustained"), b.get("ramp_highest_sustained")

    def top(r, hi):
        broke = next((s["rate"] for s in r.get("ramp") or [] if not s["sustained"]), None)
        text = f"{hi:g}/s" if hi is not None else "none of the steps"
        return text + (f" (broke at {broke:g}/s)" if broke is not None else " (never broke: raise RAMP)")

    print()
    print(
        f"Highest rate sustained: {hn} {top(h, hh)}, {bn_lower} {top(b, bh)}"
        + (f"; {hn} / {bn_lower} {hh / bh:.2f}×." if hh and bh else ".")
    )


def main():
    args = sys.argv[1:]
    cluster = args[:1] == ["--cluster"]
    if cluster:
        args = args[1:]
    padded = None
    if args[:1] == ["--padded"] and len(args) > 1:
        with open(args[1]) as f:
            padded = json.load(f)
        args = args[2:]
    if len(args) != 3:
        sys.exit(__doc__)
    with open(args[0]) as f:
        herald = json.load(f)
    with open(args[1]) as f:
        base = json.load(f)
    command = args[2]
    mode = "cluster" if cluster else herald.get("mode", "fanout")
    table = TABLES[mode]
    if cluster:
        names = (f"Cluster ({herald.get('instances', '?')} × Herald, PostgreSQL)", "Single Herald (SQLite)",
                 "Cluster / single")
    else:
        names = ("Herald", "Baseline (axum + broadcast)", "Herald / baseline")

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print()
    print(table["title"].format(**{**herald, "duration_s": herald.get("duration_s", 0)}))
    print()
    print(f"Run: {now}. Machine: {machine()}")
    print(f"Command: {command}")
    # Anything else running skews the figures; say how busy the machine was.
    print(
        f"Load average (1/5/15 min) before the runs: {os.environ.get('BENCH_LOAD_AT_START', 'unknown')}, "
        f"after: {loadavg()}"
    )
    if cluster:
        print(
            f"Stream k opens on instance k mod {herald.get('instances')}, message i is published through "
            f"instance i mod {herald.get('instances')}; streams spread over {herald['source_ips']} loopback "
            f"source IPs (at most {herald['connect_concurrency']} opening at once). Everything shares the "
            f"machine: the load generator, the Herald processes and PostgreSQL. The single SQLite instance "
            f"ran first, same settings."
        )
        print(
            f"Durability: PostgreSQL {os.environ.get('BENCH_PG_SETTINGS') or 'settings unknown'} — with "
            f"fsync=off a commit waits for its WAL write but nothing is flushed to the disk (a power loss "
            f"may lose commits); SQLite is Herald's WAL with synchronous=NORMAL (no flush per commit "
            f"either, only at checkpoints). Throwaway PostgreSQL 15 (initdb defaults otherwise) on the same "
            f"machine; each instance follows the shared event log (its own commits at once, the others' "
            f"on a NOTIFY doorbell, a 1 s poll as fallback)."
        )
    else:
        print(
            f"Streams spread over {herald['source_ips']} loopback source IPs (at most "
            f"{herald['connect_concurrency']} opening at once); the load generator and the server "
            f"share the machine; the baseline (axum + tokio broadcast) ran first, same settings"
            + (", then again with Herald-sized data (\"padded\": each message the fields of Herald's "
               "notification, same lengths, so the client reads as many bytes from both)." if padded else ".")
        )
    print()
    if padded:
        print(f"| Metric | {names[0]} | {names[1]} | {names[2]} | Baseline, padded | Herald / padded |")
        print("|---|---:|---:|---:|---:|---:|")
    else:
        print(f"| Metric | {names[0]} | {names[1]} | {names[2]} |")
        print("|---|---:|---:|---:|")

    def base_cell(r, key, unit, digits):
        b, bv = cell(r, key, unit, digits)
        if mode == "storm" and key in ("time_to_catch_up_s",):
            b += " (no replay)"
        if mode == "storm" and key in (lost_dup, wire, "lost_after_resync", "resynced_streams"):
            b = f"n/a (no replay{': ' + b if key is lost_dup else ''})"
        if key is wire and mode not in ("storm", "cluster"):
            b = "n/a"
        return b, bv

    for label, key, unit, digits, with_ratio in table["rows"]:
        h, hv = cell(herald, key, unit, digits)
        b, bv = base_cell(base, key, unit, digits)
        row = f"| {label} | {h} | {b} | {ratio(hv, bv) if with_ratio else '—'} |"
        if padded:
            pc, pv = base_cell(padded, key, unit, digits)
            row += f" {pc} | {ratio(hv, pv) if with_ratio else '—'} |"
        print(row)
    print()
    for line in verdicts(mode, herald, base, padded):
        print(line)
    if mode == "fanout":
        ramp_table(herald, base)
        if padded:
            ramp_table(herald, padded, ("Herald", "Padded baseline", "the padded baseline"))
    if mode == "cluster":
        ramp_table(herald, base, ("Cluster", "Single", "single"))
    for name, r in ((names[0], herald), (names[1], base)):
        f = r.get("failures") or {}
        if r["streams_failed"] or r["publish_errors"] or r["duplicates"]:
            print(
                f"{name}: {r['streams_failed']} streams failed {f.get('samples')}, "
                f"{r['publish_errors']} publish errors, {r['duplicates']} duplicates"
            )


if __name__ == "__main__":
    main()
