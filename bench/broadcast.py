#!/usr/bin/env python3
"""Broadcast cost at N registered users: the measuring half of
scripts/bench-broadcast.sh (which prepares the databases and runs Herald).

  broadcast.py herald BASE_URL DB PID TOKEN N K OUT.json   # K broadcasts through Herald
  broadcast.py floor DB N K OUT.json                       # K one-row transactions, same DB file
  broadcast.py report COMMAND_LINE OUT.json...             # the Markdown table

Standard library only (urllib, sqlite3), so it runs wherever the script does.
"""

import json
import os
import sqlite3
import statistics
import sys
import time
import urllib.request

# One broadcast's content, the same for Herald and the floor, so both write a
# row of the same size: a realistic title and a ~200-byte body.
TITLE = "Scheduled maintenance tonight at 22:00 UTC"
BODY = (
    "The service will be read-only for about fifteen minutes while the database "
    "is upgraded. Drafts are kept; anything sent during the window is delivered "
    "afterwards. Thank you for your patience — the operations team."
)
LINK = "/status"


def seq_bumps(reader):
    """Sum of users.last_seq: what the per-user model bumped per recipient.
    The event log dropped the column; then nothing is bumped."""
    columns = [row[1] for row in reader.execute("PRAGMA table_info(users)")]
    if "last_seq" not in columns:
        return 0
    return reader.execute("SELECT COALESCE(SUM(last_seq), 0) FROM users").fetchone()[0]


def logical_bytes(conn):
    # page_count × page_size as SQLite sees it: the database's size including
    # pages committed to the WAL but not yet checkpointed, so no checkpoint
    # has to be forced on the running server to read it.
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    (size,) = conn.execute("PRAGMA page_size").fetchone()
    return pages * size


def file_size(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def wchar(pid):
    # Bytes the process passed to write(2) (files and sockets): the WAL
    # frames, any checkpoint into the main file, logs, the HTTP response.
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise RuntimeError(f"no wchar in /proc/{pid}/io")


def row_counts(conn):
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def rows_written(before, after, bumped):
    inserted = sum(after.get(t, 0) - before.get(t, 0) for t in after)
    return inserted, bumped


def open_reader(db):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def herald(base, db, pid, token, n, k, out):
    reader = open_reader(db)
    pid = int(pid)
    k = int(k)
    payload = json.dumps(
        {"event": "announcement", "data": {"title": TITLE, "body": BODY, "severity": "info", "link": LINK}}
    ).encode()
    runs = []
    for i in range(k):
        size0, wal0, io0 = logical_bytes(reader), file_size(db + "-wal"), wchar(pid)
        counts0 = row_counts(reader)
        seq0 = seq_bumps(reader)
        req = urllib.request.Request(
            base + "/api/sse/broadcast",
            data=payload,
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + token},
        )
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as resp:
            answer = json.load(resp)
        ms = (time.perf_counter() - t0) * 1000
        if not answer.get("success"):
            raise RuntimeError(f"broadcast {i + 1} failed: {answer}")
        size1, wal1, io1 = logical_bytes(reader), file_size(db + "-wal"), wchar(pid)
        counts1 = row_counts(reader)
        seq1 = seq_bumps(reader)
        inserted, updated = rows_written(counts0, counts1, seq1 - seq0)
        runs.append(
            {
                "ms": ms,
                "growth": size1 - size0,
                "wal_file": wal1,
                "written": io1 - io0,
                "inserted": inserted,
                "updated": updated,
                "recipients": answer["data"]["recipients"],
            }
        )
        print(
            f"[bench-broadcast] N={n} broadcast {i + 1}/{k}: {ms:.1f} ms, "
            f"+{(size1 - size0) / 1024:.0f} KiB, {inserted} rows inserted, {updated} updated",
            file=sys.stderr,
        )
    with open(out, "w") as f:
        json.dump({"kind": "herald", "n": int(n), "runs": runs}, f)


def floor(db, n, k, out):
    # The floor the event log aims at: one broadcast = one row in one
    # transaction, whatever the number of users. Same file (so the same size
    # on disk and page cache state), same journal settings as Herald's pool.
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        """CREATE TABLE IF NOT EXISTS bench_floor_events (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               event TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
               severity TEXT NOT NULL, link TEXT, target TEXT NOT NULL, created_at INTEGER NOT NULL)"""
    )
    me = os.getpid()
    runs = []
    # At least 100 transactions: a single row rarely needs a new page, so the
    # growth of a handful would read 0; over 100 the mean is the amortized
    # cost of a row. (Each costs microseconds.)
    for _ in range(max(int(k), 100)):
        size0, io0, changes0 = logical_bytes(conn), wchar(me), conn.total_changes
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO bench_floor_events (event, title, body, severity, link, target, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("announcement", TITLE, BODY, "info", LINK, "all", int(time.time() * 1000)),
        )
        conn.execute("COMMIT")
        ms = (time.perf_counter() - t0) * 1000
        size1, io1 = logical_bytes(conn), wchar(me)
        runs.append(
            {
                "ms": ms,
                "growth": size1 - size0,
                "wal_file": file_size(db + "-wal"),
                "written": io1 - io0,
                # Counted, not assumed: rows the transaction changed.
                "inserted": conn.total_changes - changes0,
                "updated": 0,
                "recipients": 0,
            }
        )
    with open(out, "w") as f:
        json.dump({"kind": "floor", "n": int(n), "runs": runs}, f)


def human(b):
    b = float(b)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(b) < 1024 or unit == "GiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024


def ratio(a, b):
    return f"{a / b:,.0f}×" if b > 0 else "n/a"


def report(command_line, paths):
    results = {}
    for p in paths:
        with open(p) as f:
            r = json.load(f)
        results.setdefault(r["n"], {})[r["kind"]] = r["why"] if r["kind"] == "missing" else r["runs"]
    load = open("/proc/loadavg").read().split()[:3]
    print("## Broadcast cost by registered users (event log: one entry per broadcast)\n")
    print(f"`{command_line}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs, load {' '.join(load)}, SQLite (floor) {sqlite3.sqlite_version}\n")
    print("| registered users | broadcast request p50 / max (ms) | DB growth per broadcast | "
          "bytes written per broadcast | rows written per broadcast | "
          "floor p50 (ms) | floor growth / written | Herald/floor: time p50 | growth | written |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sorted(results):
        h, fl = results[n].get("herald"), results[n].get("floor")
        if not h:
            why = results[n].get("missing", "not measured (see the log)")
            print(f"| {n:,} | {why} | | | | | | | | |")
            continue
        ms = [r["ms"] for r in h]
        growth = statistics.mean(r["growth"] for r in h)
        written = statistics.mean(r["written"] for r in h)
        ins = statistics.mean(r["inserted"] for r in h)
        upd = statistics.mean(r["updated"] for r in h)
        row = (f"| {n:,} | {statistics.median(ms):,.1f} / {max(ms):,.1f} | {human(growth)} | {human(written)} | "
               f"{ins:,.0f} inserted + {upd:,.0f} updated |")
        if fl:
            if any(r["inserted"] != 1 for r in fl):
                raise SystemExit(f"floor at N={n} did not write exactly one row per transaction")
            fms = statistics.median(r["ms"] for r in fl)
            fgrowth = statistics.mean(r["growth"] for r in fl)
            fwritten = statistics.mean(r["written"] for r in fl)
            row += (f" {fms:.3f} | {human(fgrowth)} / {human(fwritten)} | {ratio(statistics.median(ms), fms)} | "
                    f"{ratio(growth, fgrowth)} | {ratio(written, fwritten)} |")
        else:
            row += " | | | | |"
        print(row)
    print()
    print("Herald: POST /api/sse/broadcast with a Bearer token, sequential, timed by the client "
          "(HTTP on loopback included); growth is page_count × page_size read through SQLite "
          "(committed WAL content included, no checkpoint forced), mean per broadcast; bytes written "
          "are the server's write(2) bytes (/proc/PID/io wchar: WAL frames, checkpoints, logs, the "
          "response); rows inserted are COUNT(*) deltas over every table, rows updated the users "
          "whose last_seq moved (the per-user model before the event log; none now). Floor: one BEGIN IMMEDIATE / INSERT one row of the same title, "
          "body and link / COMMIT in-process on the same database file (100 of them: growth is their mean), WAL, synchronous=NORMAL "
          "(Herald's settings): what an event-log broadcast must at least cost. Target of "
          "docs/event-log.md: flat in N — at 1M users under 50 ms and under 64 KB per broadcast.")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "herald":
        herald(*args)
    elif cmd == "floor":
        floor(*args)
    elif cmd == "report":
        report(args[0], args[1:])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
