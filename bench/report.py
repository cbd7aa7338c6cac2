#!/usr/bin/env python3
"""Builds the Markdown comparison table from two `loadgen --json-out` files.

usage: report.py HERALD.json BASELINE.json "COMMAND LINE"

Prints the machine and the settings first, so the block can be quoted as is.
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


def fmt(value, unit, digits):
    if value is None:
        return "n/a"
    if digits == 0:
        return f"{value:,.0f}{unit}"
    return f"{value:,.{digits}f}{unit}"


def ratio(h, b):
    # A ratio of two zero counts (no loss on either side) says nothing.
    if h is None or b is None or b == 0:
        return "—"
    return f"{h / b:.2f}×"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        herald = json.load(f)
    with open(sys.argv[2]) as f:
        base = json.load(f)
    command = sys.argv[3]

    def established(r):
        return f"{r['streams_established']:,} / {r['subscribers']:,}"

    # (label, key, unit, digits); key None means a custom cell.
    rows = [
        ("Streams established", "streams_established", "", 0),
        ("Time to establish all", "connect_time_s", " s", 2),
        ("Deliveries/s", "deliveries_per_sec", "", 0),
        ("Delivery latency p50", "latency_p50_ms", " ms", 2),
        ("Delivery latency p99", "latency_p99_ms", " ms", 2),
        ("Last subscriber p99 (per message)", "last_subscriber_p99_ms", " ms", 2),
        ("Lost deliveries", "lost", "", 0),
        ("Resyncs", "resyncs", "", 0),
        ("Memory per connection", "kb_per_connection", " KB", 1),
        # Context, not in the headline: where the time went.
        ("Delivery latency max", "latency_max_ms", " ms", 2),
        ("Publish request p50", "publish_request_p50_ms", " ms", 2),
        ("Server CPU, connect phase", "server_cpu_connect_s", " s", 2),
        ("Server CPU, publish phase", "server_cpu_publish_s", " s", 2),
        ("Load generator CPU, publish phase", "loadgen_cpu_publish_s", " s", 2),
        ("Other CPU on the machine, publish phase", "other_cpu_publish_s", " s", 2),
        ("Publish rate achieved", "achieved_rate", " msg/s", 2),
        ("Server RSS after connect", "rss_after_kb", " KB", 0),
        ("Streams dropped / failed", None, "", 0),
    ]

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print()
    print(f"Herald SSE benchmark — {now}")
    print(f"Machine: {machine()}")
    print(f"Command: {command}")
    # Anything else running skews the figures; say how busy the machine was.
    print(
        f"Load average before the runs (1/5/15 min): "
        f"{os.environ.get('BENCH_LOAD_AT_START', 'unknown')}"
    )
    print(
        f"Load: {herald['subscribers']:,} subscribers per server over {herald['source_ips']} "
        f"loopback source IPs (at most {herald['connect_concurrency']} opening at once), "
        f"{herald['messages']} messages at {herald['rate']:g} msg/s; "
        f"load generator and server share the machine."
    )
    print()
    print("| Metric | Herald | Baseline (axum + broadcast) | Herald / baseline |")
    print("|---|---:|---:|---:|")
    for label, key, unit, digits in rows:
        if key is None:
            h = f"{herald['streams_dropped']} / {herald['streams_failed']}"
            b = f"{base['streams_dropped']} / {base['streams_failed']}"
            print(f"| {label} | {h} | {b} | — |")
            continue
        hv, bv = herald.get(key), base.get(key)
        if key == "streams_established":
            h, b = established(herald), established(base)
        else:
            h, b = fmt(hv, unit, digits), fmt(bv, unit, digits)
        # Background noise is not a property of either server.
        r = "—" if key == "other_cpu_publish_s" else ratio(hv, bv)
        print(f"| {label} | {h} | {b} | {r} |")
    print()
    for name, r in (("Herald", herald), ("Baseline", base)):
        f = r.get("failures") or {}
        if r["streams_failed"] or r["publish_errors"] or r["duplicates"]:
            print(
                f"{name}: {r['streams_failed']} streams failed {f.get('samples')}, "
                f"{r['publish_errors']} publish errors, {r['duplicates']} duplicates"
            )


if __name__ == "__main__":
    main()
