#!/usr/bin/env bash
# `make bench`: the six benchmark tables, the first five each against a
# baseline measured in the same invocation (see the Makefile and
# README.md#benchmarks), ~8 min:
#   1. broadcast cost by registered users  scripts/bench-broadcast.sh
#   2. publishing throughput, 1,000 streams MODE=throughput scripts/bench.sh
#   3. 10,000 streams at 20/s, then a ramp  MODE=fanout scripts/bench.sh
#   4. reconnect storm, 10,000 streams      MODE=storm scripts/bench.sh
#   5. a cluster: 3,000 streams and 20/s     MODE=cluster scripts/bench.sh
#      over three instances on PostgreSQL, against one on SQLite, then a ramp
#   6. the page in Chromium: bundle bytes,  scripts/bench-page.sh
#      first visit and repeat visit
#
# Settings (environment), besides each script's own:
#   TABLES      which tables to run          (default "1 2 3 4 5 6")
#   BENCH_SECS  table 3's run at 20/s, in s  (default 60)
#   CLUSTER_SECS table 5's run at 20/s, in s (default 15)
#   OUT_DIR     if set, each table's JSON results and Markdown go to OUT_DIR/table-N
#
# A table whose run reports failures (exit 3) does not stop the others; the
# exit status is then 3. Any other error stops at once (1).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TABLES="${TABLES:-1 2 3 4 5 6}"
BENCH_SECS="${BENCH_SECS:-60}"
CLUSTER_SECS="${CLUSTER_SECS:-15}"
OUT_DIR="${OUT_DIR:-}"

# Each table's output is also kept, to gather their verdicts at the end.
seen="$(mktemp -d)"
trap 'rm -rf "$seen"' EXIT

status=0
for t in $TABLES; do
    out=()
    [[ -z "$OUT_DIR" ]] || out=(OUT_DIR="$OUT_DIR/table-$t")
    printf '\n[bench] ===== table %s =====\n' "$t" >&2
    case "$t" in
    1) run=(bash scripts/bench-broadcast.sh) ;;
    2) run=(env MODE=throughput bash scripts/bench.sh) ;;
    3) run=(env MODE=fanout DURATION="$BENCH_SECS" bash scripts/bench.sh) ;;
    4) run=(env MODE=storm bash scripts/bench.sh) ;;
    5) run=(env MODE=cluster DURATION="$CLUSTER_SECS" bash scripts/bench.sh) ;;
    6) run=(bash scripts/bench-page.sh) ;;
    *) printf '[bench] error: TABLES are 1 to 6, got %s\n' "$t" >&2; exit 1 ;;
    esac
    rc=0
    env "${out[@]}" "${run[@]}" | tee "$seen/table-$t.md" || rc=${PIPESTATUS[0]}
    case "$rc" in
    0) ;;
    3) status=3; printf '[bench] table %s reported failures (see above)\n' "$t" >&2 ;;
    *) exit "$rc" ;;
    esac
done

# Every table's verdicts in one place (issue 16's targets among them).
printf '\n## Targets, as measured above\n\n'
for t in $TABLES; do
    grep -hE '^(Targets?:|Highest rate sustained)' "$seen/table-$t.md" 2>/dev/null | sed "s/^/- Table $t: /" || true
done
exit "$status"
