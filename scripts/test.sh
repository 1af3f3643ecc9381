#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): installs what is missing, builds the test
# media, then formatting, lints and every test of the workspace.
#
#   scripts/test.sh [-- CARGO_TEST_ARGS...]   e.g. scripts/test.sh -- -p clipforge-captions
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cargo_test_args=()
if [ $# -gt 0 ]; then
    [ "$1" = -- ] || die "usage: scripts/test.sh [-- CARGO_TEST_ARGS...]"
    shift
    cargo_test_args=("$@")
fi

started=$SECONDS
step() { log "== $* ($((SECONDS - started)) s)"; }

step "setup"
"$ROOT/scripts/setup.sh" --base
ensure_cargo_on_path

step "fixtures"
"$ROOT/scripts/fixtures.sh"
# A talk long enough for several batches on both decoding workers.
"$ROOT/scripts/fixtures.sh" talk --minutes 3

# Services the integration tests talk to, each started here in the background from a
# throwaway folder; the settings they print are exported for the tests (which skip a
# service whose settings are unset, except under CI), and all stop when the suite ends.
service_pids=()
services_dir=$(mktemp -d "${TMPDIR:-/tmp}/clipforge-services.XXXXXX")
# PostgreSQL runs as its own user when we are root, and must reach its folder in here.
chmod 755 "$services_dir"
stop_services() {
    local pid
    for pid in "${service_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    "$ROOT/scripts/postgres.sh" stop "$services_dir/postgres" || true
    rm -rf "$services_dir"
}
trap stop_services EXIT
# Reads the NAME=VALUE lines a service script prints and exports them.
export_settings() {
    local line
    while IFS= read -r line; do
        [[ $line =~ ^[A-Z0-9_]+= ]] || continue
        export "${line?}"
    done <<<"$1"
}
step "services"
# PostgreSQL: a throwaway cluster on a free port (DATABASE_URL_TEST).
settings=$("$ROOT/scripts/postgres.sh" start "$services_dir/postgres")
export_settings "$settings"
# S3: s3s-fs over a temp folder (CLIPFORGE_TEST_S3_*).
settings=$("$ROOT/scripts/s3.sh" start "$services_dir/s3")
export_settings "$settings"
service_pids+=("$S3_PID")
log "PostgreSQL at ${DATABASE_URL_TEST}, S3 at ${CLIPFORGE_TEST_S3_ENDPOINT}"

export CARGO_TARGET_DIR=$TARGET_DIR
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
cd "$ROOT"

step "scripts"
for script in scripts/*.sh .ci/run; do
    bash -n "$script"
done
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s scripts -p 'test_*.py'

step "cargo fmt"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --release --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --release --workspace "${cargo_test_args[@]}"

step "all passed"
