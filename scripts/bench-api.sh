#!/usr/bin/env bash
# API latency under load: GET /api/v1/videos returning 100 rows at a fixed rate (open loop)
# against the real router on a SQLite file (or a throwaway PostgreSQL with --postgres),
# load generator in the same process, on this machine; prints p50/p95/p99 against the
# goal (p95 <= 50 ms).
#
#   scripts/bench-api.sh [--rate N] [--seconds S] [--postgres] [--no-build]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rate=200
seconds=30
build=1
postgres=0
while [ $# -gt 0 ]; do
    case $1 in
    --rate | --seconds)
        [ $# -ge 2 ] || die "$1 needs a value"
        [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 must be a positive whole number"
        if [ "$1" = --rate ]; then rate=$2; else seconds=$2; fi
        shift 2
        ;;
    --no-build) build=0 && shift ;;
    --postgres) postgres=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

ensure_cargo_on_path
export CARGO_TARGET_DIR=$TARGET_DIR
if [ "$build" -eq 1 ]; then
    log "building the api_load example"
    (cd "$ROOT" && cargo build --release -q -p clipforge-server --example api_load)
fi
if [ "$postgres" -eq 1 ]; then
    pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/clipforge-bench-pg.XXXXXX")
    chmod 755 "$pg_dir"
    trap '"$ROOT/scripts/postgres.sh" stop "$pg_dir/pg" >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
    admin=$("$ROOT/scripts/postgres.sh" start "$pg_dir/pg" | sed -n 's/^DATABASE_URL_TEST=//p')
    [ -n "$admin" ] || die "PostgreSQL did not start"
    export BENCH_DATABASE_URL=$admin
fi
"$TARGET_DIR/release/examples/api_load" "$rate" "$seconds"
echo "goal: p95 <= 50 ms"
