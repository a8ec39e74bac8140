#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests and benchmarks (docs/TEST-INFRA.md recipe).
#
#   bash scripts/postgres.sh start   # initdb in a new temporary directory, start, wait until ready
#   bash scripts/postgres.sh url     # print the URL to use (ORCHESTRATOR_TEST_POSTGRES_URL)
#   bash scripts/postgres.sh restart # fast restart of the recorded cluster (same options, same URL):
#                                    # every open connection is dropped (used by the replica test)
#   bash scripts/postgres.sh kill    # SIGKILL the server (postmaster and all its processes) at once, as a
#                                    # crash would; `restart` then starts it again with crash recovery
#   bash scripts/postgres.sh stop    # stop the server and remove its directory
#
# Environment:
#   ORCHESTRATOR_PG_PORT   port on 127.0.0.1 (default: 56000-56999, derived from this checkout's path, so
#                          that two checkouts on one machine never start, restart or stop each other's
#                          cluster; not 5432, so no system server is touched). `postgres.sh url` prints
#                          the URL.
#   ORCHESTRATOR_PG_DIR    the cluster directory (default: a new ${TMPDIR:-/tmp}/orchestrator-pg-XXXXXX); it
#                          must not hold a cluster yet, and `stop` removes it
#   ORCHESTRATOR_PG_BIN    server binaries (default /usr/lib/postgresql/15/bin)
#   ORCHESTRATOR_PG_FSYNC  on|off (default off). `off` (also synchronous_commit and full_page_writes
#                          off) makes tests faster and is for throw-away test clusters ONLY: a crash of
#                          the machine loses the cluster, and a crash of the server (`kill`) can lose
#                          commits it acknowledged. `on` sets all three on explicitly. Benchmarks and the
#                          crash-durability test (Tests/Integration/test_postgres_crash.py) use `on`.
#   ORCHESTRATOR_PG_OPTIONS extra server options appended to the command line (e.g. "-c wal_writer_delay=10000"),
#                          recorded with the others so that `restart` keeps them
#
# As root (CI), initdb and the server run as the `postgres` user through runuser (initdb refuses
# root); as another user, they run as that user. The cluster directory is recorded in
# ${TMPDIR:-/tmp}/orchestrator-pg-<port>.dir so that `stop`, `restart` and `url` find it; the server
# options are recorded in <cluster directory>/options so that `restart` starts it as `start` did.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${ORCHESTRATOR_PG_PORT:-$((56000 + $(printf '%s' "$ROOT" | cksum | cut -d' ' -f1) % 1000))}
BIN=${ORCHESTRATOR_PG_BIN:-/usr/lib/postgresql/15/bin}
FSYNC=${ORCHESTRATOR_PG_FSYNC:-off}
STATE="${TMPDIR:-/tmp}/orchestrator-pg-$PORT.dir"
URL="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

start() {
  [ -x "$BIN/initdb" ] || die "no PostgreSQL server binaries in $BIN (Debian: apt-get install postgresql-15)"
  if [ -f "$STATE" ] && [ -d "$(cat "$STATE")/data" ]; then
    die "a cluster for port $PORT is already recorded in $STATE ($(cat "$STATE")); run 'stop' first"
  fi
  if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    die "port $PORT already has a PostgreSQL server; set ORCHESTRATOR_PG_PORT to another port"
  fi
  case "$FSYNC" in
    on) durability=(-c fsync=on -c synchronous_commit=on -c full_page_writes=on) ;;
    off) durability=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off) ;;
    *) die "ORCHESTRATOR_PG_FSYNC must be on or off, not '$FSYNC'" ;;
  esac
  local dir
  if [ -n "${ORCHESTRATOR_PG_DIR:-}" ]; then
    dir=$ORCHESTRATOR_PG_DIR
    [ -e "$dir/data" ] && die "ORCHESTRATOR_PG_DIR=$dir already holds a cluster ($dir/data)"
    mkdir -p "$dir"
  else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/orchestrator-pg-XXXXXX")
  fi
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  echo "$dir" >"$STATE"
  as_owner "$BIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -5 "$dir/initdb.log")"
  local options="-p $PORT -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 ${durability[*]} ${ORCHESTRATOR_PG_OPTIONS:-}"
  echo "$options" >"$dir/options"
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$options" -w -t 60 start >/dev/null ||
    die "the server did not start: $(tail -20 "$dir/server.log")"
  for _ in $(seq 1 100); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
      echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') ready on 127.0.0.1:$PORT (fsync=$FSYNC, $dir)" >&2
      echo "$URL"
      return 0
    fi
    sleep 0.1
  done
  die "the server is not ready after 10 s: $(tail -20 "$dir/server.log")"
}

stop() {
  [ -f "$STATE" ] || return 0
  local dir
  dir=$(cat "$STATE")
  if [ -d "$dir/data" ]; then
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
  rm -f "$STATE"
}

restart() {
  [ -f "$STATE" ] || die "no cluster recorded for port $PORT: run 'start' first"
  local dir
  dir=$(cat "$STATE")
  [ -d "$dir/data" ] || die "the cluster directory $dir recorded in $STATE is gone; run 'stop', then 'start'"
  # The options `start` used; without the record (a cluster of an older postgres.sh) pg_ctl reuses
  # the command line it saved in postmaster.opts, which is the same.
  local options=()
  [ -f "$dir/options" ] && options=(-o "$(cat "$dir/options")")
  echo "postgres.sh: restarting PostgreSQL on 127.0.0.1:$PORT ($dir): every connection is dropped" >&2
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" "${options[@]}" -m fast -w -t 60 restart >/dev/null ||
    die "the server did not restart: $(tail -20 "$dir/server.log")"
  for _ in $(seq 1 100); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
      echo "postgres.sh: PostgreSQL on 127.0.0.1:$PORT is ready again" >&2
      return 0
    fi
    sleep 0.1
  done
  die "the server is not ready 10 s after the restart: $(tail -20 "$dir/server.log")"
}

# SIGKILL of the postmaster and of every process it started, all at once (a crash of the server: no
# shutdown checkpoint, shared memory and WAL buffers lost), then wait until all of them are gone.
kill_server() {
  [ -f "$STATE" ] || die "no cluster recorded for port $PORT: run 'start' first"
  local dir pid children
  dir=$(cat "$STATE")
  [ -f "$dir/data/postmaster.pid" ] || die "no postmaster.pid in $dir/data: the server is not running"
  pid=$(head -n 1 "$dir/data/postmaster.pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || die "the postmaster (pid '$pid') of $dir is not running"
  children=$(pgrep -P "$pid" || true)
  # shellcheck disable=SC2086
  kill -KILL "$pid" $children 2>/dev/null || true
  for _ in $(seq 1 100); do
    # shellcheck disable=SC2086
    if ! kill -0 "$pid" 2>/dev/null && ! ps -o pid= -p "$(echo $children | tr ' ' ',')" >/dev/null 2>&1; then
      echo "postgres.sh: SIGKILLed PostgreSQL on 127.0.0.1:$PORT (postmaster $pid and $(echo $children | wc -w) processes)" >&2
      return 0
    fi
    sleep 0.1
  done
  die "PostgreSQL processes still alive 10 s after SIGKILL (postmaster $pid)"
}

case "${1:-}" in
  start) start ;;
  kill) kill_server ;;
  stop) stop ;;
  restart) restart ;;
  url)
    [ -f "$STATE" ] || die "no cluster recorded for port $PORT: run 'start' first"
    echo "$URL"
    ;;
  port) echo "$PORT" ;;
  *) die "usage: $0 start|stop|restart|kill|url|port" ;;
esac
