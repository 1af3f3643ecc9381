#!/usr/bin/env bash
# A throwaway S3 server for the tests: s3s-fs (a real S3 API with SigV4 auth) over a
# folder, on a free local port, with generated credentials and one empty bucket.
#
#   scripts/s3.sh start DIR   prints CLIPFORGE_TEST_S3_ENDPOINT=..., CLIPFORGE_TEST_S3_BUCKET=...,
#                             CLIPFORGE_TEST_S3_ACCESS_KEY=..., CLIPFORGE_TEST_S3_SECRET_KEY=...
#                             then S3_PID=... on stdout
#   scripts/s3.sh stop DIR
#
# Installs s3s-fs into the cache on first use (cargo, about 2 minutes).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 2 ] || die "usage: scripts/s3.sh start|stop DIR"
action=$1
dir=$2

S3S_VERSION=0.14.1
S3S_ROOT=$CACHE_DIR/s3s-fs
S3S_BIN=$S3S_ROOT/bin/s3s-fs
BUCKET=clipforge-test

ensure_s3s_fs() {
    if [ -x "$S3S_BIN" ] && "$S3S_BIN" --version 2>/dev/null | grep -qF "$S3S_VERSION"; then
        return
    fi
    ensure_cargo_on_path
    command -v cargo >/dev/null 2>&1 || die "cargo is missing: install Rust (scripts/setup.sh)"
    log "installing s3s-fs $S3S_VERSION into $S3S_ROOT"
    # Newer s3s-fs releases need a newer rustc than the one pinned here; --locked keeps
    # its dependencies at the versions it was released with.
    cargo install "s3s-fs@$S3S_VERSION" --locked --features binary --root "$S3S_ROOT" >&2 ||
        die "cargo install s3s-fs@$S3S_VERSION failed"
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

case $action in
start)
    ensure_s3s_fs
    mkdir -p "$dir/data/$BUCKET"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    access_key=$(random_hex 10)
    secret_key=$(random_hex 20)
    # stdin/stdout/stderr away from the caller, so `$(scripts/s3.sh start …)` returns.
    "$S3S_BIN" --host 127.0.0.1 --port "$port" --access-key "$access_key" --secret-key "$secret_key" \
        "$dir/data" </dev/null >"$dir/server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/s3.pid"
    # Any HTTP answer (an S3 error for the anonymous request included) means it listens.
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/server.log" >&2; die "s3s-fs exited at start"; }
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
        [ "$code" != "000" ] && break
        sleep 0.1
    done
    [ "$code" != "000" ] || { kill "$pid"; tail -n 20 "$dir/server.log" >&2; die "s3s-fs did not answer on port $port"; }
    echo "CLIPFORGE_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
    echo "CLIPFORGE_TEST_S3_BUCKET=$BUCKET"
    echo "CLIPFORGE_TEST_S3_ACCESS_KEY=$access_key"
    echo "CLIPFORGE_TEST_S3_SECRET_KEY=$secret_key"
    echo "S3_PID=$pid"
    ;;
stop)
    if [ -f "$dir/s3.pid" ]; then
        pid=$(cat "$dir/s3.pid")
        if kill "$pid" 2>/dev/null; then
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/s3.pid"
    fi
    ;;
*) die "usage: scripts/s3.sh start|stop DIR" ;;
esac
