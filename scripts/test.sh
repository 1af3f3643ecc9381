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

# Services the integration tests talk to. Each one is started here in the background,
# exports the settings its tests read (tests that need one skip when they are unset), and
# adds its process id to service_pids so it is stopped when the suite ends.
service_pids=()
stop_services() {
    local pid
    for pid in "${service_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}
trap stop_services EXIT
# PostgreSQL: start a throwaway cluster on a free port and export DATABASE_URL_TEST.
# S3: start s3s-fs on a temp folder and export the CLIPFORGE_TEST_S3_* settings.

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
