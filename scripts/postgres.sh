#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: a new cluster in a folder, on a free local
# port, trusting local connections, stopped with the folder's removal.
#
#   scripts/postgres.sh start DIR   prints DATABASE_URL_TEST=... then PG_PID=... on stdout
#   scripts/postgres.sh stop DIR
#
# Needs the postgresql package (scripts/setup.sh --base installs it). PostgreSQL refuses to
# run as root, so as root the cluster belongs to the postgres user.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 2 ] || die "usage: scripts/postgres.sh start|stop DIR"
action=$1
dir=$2

bin=$(find /usr/lib/postgresql -maxdepth 3 -name initdb -path '*/bin/*' 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || die "PostgreSQL is not installed: run scripts/setup.sh --base (package postgresql)"
bin=$(dirname "$bin")

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case $action in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U clipforge --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
        { tail -n 20 "$dir/initdb.log" >&2; die "initdb failed"; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { tail -n 20 "$dir/server.log" >&2; die "PostgreSQL did not start"; }
    echo "DATABASE_URL_TEST=postgres://clipforge@127.0.0.1:$port/postgres"
    echo "PG_PID=$(head -n 1 "$dir/data/postmaster.pid")"
    ;;
stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    ;;
*) die "usage: scripts/postgres.sh start|stop DIR" ;;
esac
