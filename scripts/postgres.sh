# shellcheck shell=bash
# PostgreSQL for Writeback's commands and tests. Sourced by ./writeback; not run on its own.
#
# Two kinds of server, both private to this project, both from the machine's PostgreSQL binaries:
#   throwaway  – a fresh cluster in a temp directory, removed on every exit path (tests)
#   project    – a cluster kept in .writeback/postgres so the demo's data can be looked at afterwards
# Either way the server listens only on 127.0.0.1, on a port nobody else holds, and runs as an
# unprivileged user when we are root (PostgreSQL refuses to run as root).

PG_BIN=""
PG_OS_USER=""
if [[ $EUID -eq 0 ]]; then PG_OS_USER="nobody"; fi

pg_log() { printf 'writeback: %s\n' "$*" >&2; }

pg_find_binaries() {
    local candidate
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then PG_BIN="$candidate"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN="$(dirname "$(command -v initdb)")"; return 0
    fi
    return 1
}

pg_install_binaries() {
    if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then return 1; fi
    pg_log "no PostgreSQL server binaries found; installing Debian's postgresql package (needs the package registry)"
    # Debian's package would otherwise create and start a cluster on port 5432 that nobody asked for.
    mkdir -p /etc/postgresql-common
    [[ -f /etc/postgresql-common/createcluster.conf ]] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold postgresql >&2
}

pg_require_binaries() {
    pg_find_binaries && return 0
    pg_install_binaries && pg_find_binaries && return 0
    cat >&2 <<'MSG'
writeback: no PostgreSQL server is available.
  Either install the server binaries (Debian/Ubuntu: `sudo apt-get install postgresql`; they land in
  /usr/lib/postgresql/<version>/bin), or point Writeback at a server you own:
    WRITEBACK_PG='Host=127.0.0.1;Port=5432;Username=postgres;Password=...;Database=postgres' ./writeback test
MSG
    return 1
}

# Runs a PostgreSQL binary as the server's OS user.
pg_as_owner() {
    if [[ -n "$PG_OS_USER" ]]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi
}

pg_random_secret() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# pg_init DIR: creates a cluster in DIR/data with a random password kept in DIR/password.
pg_init() {
    local dir="$1"
    mkdir -p "$dir"
    chmod 755 "$dir"
    pg_random_secret > "$dir/password"
    chmod 644 "$dir/password"
    mkdir -p "$dir/data" "$dir/run"
    [[ -n "$PG_OS_USER" ]] && chown "$PG_OS_USER" "$dir/data" "$dir/run"
    chmod 700 "$dir/data"
    if ! pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U writeback --auth=scram-sha-256 \
        --pwfile="$dir/password" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
        pg_log "initdb failed:"; cat "$dir/initdb.log" >&2; return 1
    fi
}

# pg_start DIR [extra server options...]: starts the cluster on a free loopback port; sets PG_PORT.
pg_start() {
    local dir="$1"; shift
    local attempt port
    for attempt in $(seq 1 25); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        # Binding the port is the atomic test of "free": two runs racing for one port cannot both win.
        if pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/run/server.log" -w -t 60 start \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir/run -c max_connections=300 $*" >/dev/null 2>&1; then
            PG_PORT=$port
            echo "$port" > "$dir/port"
            return 0
        fi
        if ! grep -qiE "could not bind|address already in use|could not create any TCP/IP sockets|lock file .* already exists" "$dir/run/server.log" 2>/dev/null; then
            pg_log "PostgreSQL did not start; its log says:"; tail -20 "$dir/run/server.log" >&2; return 1
        fi
        : > "$dir/run/server.log"
    done
    pg_log "no free port found for PostgreSQL after 25 tries"; return 1
}

pg_stop() {
    local dir="$1"
    [[ -f "$dir/data/postmaster.pid" ]] || return 0
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

pg_is_running() { [[ -f "$1/data/postmaster.pid" ]] && pg_as_owner "$PG_BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

pg_connection_string() {
    local dir="$1" database="${2:-postgres}"
    printf 'Host=127.0.0.1;Port=%s;Username=writeback;Password=%s;Database=%s' "$(cat "$dir/port")" "$(cat "$dir/password")" "$database"
}

# --- throwaway server (tests) -------------------------------------------------------------------
PG_THROWAWAY_DIR=""

pg_throwaway_cleanup() {
    if [[ -n "$PG_THROWAWAY_DIR" ]]; then
        pg_stop "$PG_THROWAWAY_DIR"
        rm -rf "$PG_THROWAWAY_DIR"
        PG_THROWAWAY_DIR=""
    fi
}

# Starts a throwaway server and exports WRITEBACK_PG (and the data dir and pg_ctl for restart tests).
# The caller must have `trap pg_throwaway_cleanup EXIT` in place.
pg_throwaway_start() {
    pg_require_binaries || return 1
    PG_THROWAWAY_DIR="$(mktemp -d "${TMPDIR:-/tmp}/writeback-pg.XXXXXXXX")"
    pg_init "$PG_THROWAWAY_DIR" || return 1
    # Durability is irrelevant for a server deleted at exit; WAL volume is unchanged (benchmarks measure that).
    pg_start "$PG_THROWAWAY_DIR" "-c fsync=off -c synchronous_commit=off" || return 1
    export WRITEBACK_PG; WRITEBACK_PG="$(pg_connection_string "$PG_THROWAWAY_DIR")"
    export WRITEBACK_PG_DATADIR="$PG_THROWAWAY_DIR/data"
    export WRITEBACK_PG_CTL="$PG_BIN/pg_ctl"
    export WRITEBACK_PG_OS_USER="$PG_OS_USER"
    pg_log "started a throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_THROWAWAY_DIR)"
}

# --- the project's kept server (demo) ------------------------------------------------------------
pg_project_dir() { printf '%s/.writeback/postgres' "$WRITEBACK_ROOT"; }

pg_project_ensure() {
    pg_require_binaries || return 1
    local dir; dir="$(pg_project_dir)"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        rm -rf "$dir"
        pg_init "$dir" || return 1
    fi
    if ! pg_is_running "$dir"; then
        pg_start "$dir" || return 1
        pg_log "started the project's PostgreSQL on 127.0.0.1:$PG_PORT (data in $dir; stop it with ./writeback db stop)"
    fi
    export WRITEBACK_PG; WRITEBACK_PG="$(pg_connection_string "$dir")"
}

pg_project_stop() {
    pg_find_binaries || return 0
    local dir; dir="$(pg_project_dir)"
    if pg_is_running "$dir"; then pg_stop "$dir"; pg_log "stopped the project's PostgreSQL ($dir)"; else pg_log "the project's PostgreSQL is not running"; fi
}
