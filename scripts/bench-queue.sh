#!/usr/bin/env bash
# Job queue throughput: no-op jobs enqueued (500 per transaction) and then run by 4 workers
# of 4 slots each (claim, handler, complete: three statements per job, plus heartbeats and
# wake-ups), on a SQLite file and on a throwaway PostgreSQL server; prints jobs/s for both
# phases on each engine.
#
#   scripts/bench-queue.sh [--jobs N] [--workers N] [--slots N] [--no-build]
#     --jobs N     jobs per engine (default 5000)
#     --workers N  workers, each with its own claim loop (default 4)
#     --slots N    jobs each worker runs at once (default 4)
#     --no-build   use the queue_bench example as it is (default: cargo build --release)
#
# PostgreSQL runs with fsync off (scripts/postgres.sh), as in the tests: the figure is the
# queue's own cost, not the disk's.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

jobs=5000
workers=4
slots=4
build=1
while [ $# -gt 0 ]; do
    case $1 in
    --jobs | --workers | --slots)
        [ $# -ge 2 ] || die "$1 needs a value"
        [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 must be a positive whole number"
        case $1 in
        --jobs) jobs=$2 ;;
        --workers) workers=$2 ;;
        --slots) slots=$2 ;;
        esac
        shift 2
        ;;
    --no-build) build=0 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

bench=$TARGET_DIR/release/examples/queue_bench
if [ "$build" -eq 1 ]; then
    ensure_cargo_on_path
    log "building the queue_bench example"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --quiet --release -p clipforge-store --example queue_bench)
fi
[ -x "$bench" ] || die "no queue_bench at $bench: run without --no-build"

work=$(mktemp -d)
# As root the server runs as the postgres user, which must be able to reach its folder.
chmod 755 "$work"
pg_dir=$work/postgres
cleanup() {
    "$ROOT/scripts/postgres.sh" stop "$pg_dir" || true
    rm -rf "$work"
}
trap cleanup EXIT

log "SQLite: $jobs jobs, $workers workers x $slots slots"
"$bench" "sqlite://$work/bench.db" "$jobs" "$workers" "$slots"

log "PostgreSQL: starting a throwaway server"
pg_url=$("$ROOT/scripts/postgres.sh" start "$pg_dir" | sed -n 's/^DATABASE_URL_TEST=//p')
[ -n "$pg_url" ] || die "scripts/postgres.sh printed no URL"
log "PostgreSQL: $jobs jobs, $workers workers x $slots slots"
"$bench" "$pg_url" "$jobs" "$workers" "$slots"
