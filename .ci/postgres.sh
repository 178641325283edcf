#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the test suite.
#
#   export INVOICEBOX_FLOW_TEST_PG_URL="$(.ci/postgres.sh start)"   # prints the SQLAlchemy URL
#   .ci/postgres.sh url                                             # the URL of the running server
#   .ci/postgres.sh stop                                            # stop it and delete its data
#
# The server runs from a fresh data directory under $INVOICEBOX_FLOW_PG_ROOT (default /tmp)
# on a free port of 127.0.0.1, with a random password, one database "invoicebox_flow" and
# durability off (fsync, synchronous_commit) because its data is thrown away; set
# INVOICEBOX_FLOW_PG_DURABLE=1 to keep PostgreSQL's defaults (for benchmarks).
# `start` is idempotent: while a server it started is running it prints that one's URL.
# Run as root, the server runs as the "postgres" user (PostgreSQL refuses to run as root);
# when initdb is missing and we are root, the Debian "postgresql" package is installed.
# Everything but the URL goes to stderr.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"   # runuser, useradd

ROOT="${INVOICEBOX_FLOW_PG_ROOT:-/tmp}"
CURRENT="$ROOT/invoicebox-flow-pg.current"
DATABASE="invoicebox_flow"

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

find_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    return 1
}

ensure_installed() {
    find_bindir >/dev/null && return 0
    [ "$(id -u)" = 0 ] || die "initdb/pg_ctl not found; install PostgreSQL (Debian: apt-get install postgresql)"
    say "installing the postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    find_bindir >/dev/null || die "postgresql installed but initdb/pg_ctl still not found"
}

# Run a server-side command as the owner of the data directory.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    else
        echo $((20000 + RANDOM % 40000))
    fi
}

running_dir() {
    # The data directory of the server this script started, if it is still running.
    local dir
    [ -f "$CURRENT" ] || return 1
    dir="$(cat "$CURRENT")"
    [ -d "$dir/data" ] && [ -f "$dir/url" ] || return 1
    (cd "$dir" && as_owner "$(find_bindir)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1) || return 1
    echo "$dir"
}

cmd_start() {
    local dir bindir password port attempt url
    if dir="$(running_dir)"; then
        cat "$dir/url"
        return 0
    fi
    [ -f "$CURRENT" ] && cmd_stop >/dev/null 2>&1 || true   # leftovers of a server that died

    ensure_installed
    bindir="$(find_bindir)"
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi

    mkdir -p "$ROOT"
    dir="$(mktemp -d "$ROOT/invoicebox-flow-pg.XXXXXX")"
    chmod 700 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    echo "$dir" >"$CURRENT"
    cd "$dir"   # the server user may not be allowed into the caller's directory

    password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    (umask 077; printf '%s\n' "$password" >"$dir/pwfile")
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/pwfile"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
        --auth=scram-sha-256 -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    rm -f "$dir/pwfile"

    {
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir'"
        echo "max_connections = 200"
        if [ "${INVOICEBOX_FLOW_PG_DURABLE:-0}" != 1 ]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null

    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        echo "port = $port" | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
        if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
            break
        fi
        say "start on port $port failed (attempt $attempt)"
        tail -n 5 "$dir/server.log" >&2 || true
        [ "$attempt" = 5 ] && die "could not start PostgreSQL; log: $dir/server.log"
    done

    PGPASSWORD="$password" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DATABASE" >&2 \
        || die "createdb failed"
    url="postgresql+psycopg://postgres:$password@127.0.0.1:$port/$DATABASE"
    (umask 077; echo "$url" >"$dir/url")
    say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir"
    echo "$url"
}

cmd_url() {
    local dir
    dir="$(running_dir)" || die "no server started by this script is running"
    cat "$dir/url"
}

cmd_stop() {
    local dir bindir
    [ -f "$CURRENT" ] || { say "nothing to stop"; return 0; }
    dir="$(cat "$CURRENT")"
    case "$dir" in "$ROOT"/invoicebox-flow-pg.*) ;; *) die "refusing to remove unexpected directory '$dir'" ;; esac
    if [ -d "$dir/data" ] && bindir="$(find_bindir)"; then
        (cd "$dir" && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1) || true
    fi
    rm -rf "$dir"
    rm -f "$CURRENT"
    say "stopped and removed $dir"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    url) cmd_url ;;
    *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
