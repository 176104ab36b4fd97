# Sourced by scripts/bench/ingest and scripts/bench/ingest-flood: their settings (BENCH_*, see
# the header of scripts/bench/ingest), clean-up of everything they start, the tools they need,
# the release build, the benchmark database with BENCH_HEARTBEATS heartbeats (tokens in
# $WORK/tokens.txt), and the wrk and service helpers. Everything runs against 127.0.0.1 only.
#
# A script sets BENCH_SCRIPT_EXTRA_ENV (an array of NAME=value) before sourcing to give the
# services settings of its own.

. "$(dirname "${BASH_SOURCE[0]}")/disk.sh"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LUA="$ROOT/scripts/bench/ingest.lua"

DURATION=${BENCH_DURATION:-15}
# scripts/bench/ingest runs each count in turn; the other scripts take the first.
CONNECTION_COUNTS=${BENCH_CONNECTIONS:-64 1000}
CONNECTIONS=${CONNECTION_COUNTS%% *}
HEARTBEATS=${BENCH_HEARTBEATS:-20000}
WARMUP=${BENCH_WARMUP:-8}
WARMUP_ROUNDS=${BENCH_WARMUP_ROUNDS:-6}
DRAIN=${BENCH_DRAIN:-4}
CORES=$(nproc)
THREADS=${BENCH_THREADS:-$((CORES < 2 ? CORES : 2))}
WORKERS=${BENCH_WORKERS:-$CORES}
WRITERS=${BENCH_WRITERS:-}
BASELINE_PORT=${BENCH_BASELINE_PORT:-18180}
INGEST_PORT=${BENCH_INGEST_PORT:-18181}
OPS_PORT=${BENCH_INGEST_OPS_PORT:-18182}

# Everything runs against this machine only.
HOST=127.0.0.1
PG_ADMIN_URL="postgres://postgres@$HOST:5432/postgres"
DB_NAME=lifeline_bench
DB_URL="postgres://postgres@$HOST:5432/$DB_NAME"
REDIS_URL="redis://$HOST:6379"
REDIS_PREFIX="bench:$$:" # unique per run, so rate-limit counters start from zero

# psql: no NOTICEs such as "database does not exist, skipping".
export PGOPTIONS="--client-min-messages=warning"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lifeline-target}"
LIFELINE="$CARGO_TARGET_DIR/release/lifeline"
BASELINE="$CARGO_TARGET_DIR/release/examples/bench_baseline"
WRITE_PATH="$CARGO_TARGET_DIR/release/examples/bench_write_path"

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 2
}

for v in DURATION CONNECTIONS HEARTBEATS WARMUP WARMUP_ROUNDS DRAIN THREADS WORKERS BASELINE_PORT INGEST_PORT OPS_PORT; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "BENCH_$v must be a positive integer (got '${!v}')"
done
[[ -z $WRITERS || $WRITERS =~ ^[1-9][0-9]*$ ]] || die "BENCH_WRITERS must be a positive integer"
for c in $CONNECTION_COUNTS; do
    [[ $c =~ ^[0-9]+$ ]] && ((c >= THREADS)) ||
        die "BENCH_CONNECTIONS: each count must be a whole number of at least $THREADS (the wrk threads), got '$c'"
done
# 1,000 connections need more file descriptors than the usual 1,024 (wrk and the service each
# hold one per connection; the service inherits this shell's limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ------------------------------------------------------------------------------------ cleanup
WORK=$(mktemp -d -t lifeline-bench.XXXXXX)
PIDS=()
DB_CREATED=0

# Stops one server we started: SIGTERM (the real service then commits what is in flight), and
# SIGKILL if it has not exited within 15 s.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if ((DB_CREATED)); then
        psql -q -X "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 ||
            log "could not drop database $DB_NAME"
    fi
    # Only our own keys (rate-limit counters, token cache), by their unique prefix.
    redis-cli -h "$HOST" -p 6379 --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null |
        xargs -r -n 500 redis-cli -h "$HOST" -p 6379 del >/dev/null 2>&1 || true
    if [[ -n ${BENCH_KEEP:-} ]]; then
        log "kept wrk outputs, logs and metrics in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Long-running children run in the background and are waited for with `wait`, which a signal
# interrupts at once (a foreground child would delay the trap until it ends).
untrack() {
    local pid=$1 i
    for i in "${!PIDS[@]}"; do [[ ${PIDS[i]} != "$pid" ]] || unset 'PIDS[i]'; done
}

# ------------------------------------------------------------------------------------ tools
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    SUDO=""
    ((EUID == 0)) || SUDO="sudo"
    timeout 600 $SUDO apt-get install -y wrk >/dev/null || {
        timeout 600 $SUDO apt-get update >/dev/null && timeout 600 $SUDO apt-get install -y wrk >/dev/null
    } || die "could not install wrk"
fi
for tool in psql redis-cli curl cargo; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
psql -q -X "$PG_ADMIN_URL" -c 'SELECT 1' >/dev/null 2>&1 || die "Postgres is not reachable at $HOST:5432"
[[ $(redis-cli -h "$HOST" -p 6379 ping 2>/dev/null) == PONG ]] || die "Redis is not reachable at $HOST:6379"

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
for port in "$BASELINE_PORT" "$INGEST_PORT" "$OPS_PORT"; do
    ! port_in_use "$port" || die "port $port is already in use (set BENCH_BASELINE_PORT / BENCH_INGEST_PORT / BENCH_INGEST_OPS_PORT)"
done

if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
    log "building release binaries (first build can take ~10 min on 2 cores)"
    timeout 3600 cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" \
        -p lifeline -p lifeline-ingest --bin lifeline --example bench_baseline \
        --example bench_write_path &
    BUILD_PID=$!
    PIDS+=("$BUILD_PID")
    wait "$BUILD_PID" || die "build failed"
    untrack "$BUILD_PID"
fi
[[ -x $LIFELINE && -x $BASELINE && -x $WRITE_PATH ]] || die "missing $LIFELINE, $BASELINE or $WRITE_PATH"

# ------------------------------------------------------------------------------------ database
psql_bench() { psql -q -X -v ON_ERROR_STOP=1 -At "$DB_URL" "$@"; }
count_pings() { psql_bench -c 'SELECT count(*) FROM pings'; }

log "creating database $DB_NAME with $HEARTBEATS heartbeats"
psql -q -X -v ON_ERROR_STOP=1 "$PG_ADMIN_URL" \
    -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
DB_CREATED=1

# The services get a clean environment with exactly these settings, so that variables in the
# caller's shell (e.g. LIFELINE_PING_RATE_LIMIT=0) cannot change what is measured.
service_env=(
    env -i "PATH=$PATH" "HOME=$HOME"
    "DATABASE_URL=$DB_URL"
    "REDIS_URL=$REDIS_URL"
    "LIFELINE_REDIS_PREFIX=$REDIS_PREFIX"
    "LIFELINE_INGEST_ADDR=$HOST:$INGEST_PORT"
    "LIFELINE_INGEST_OPS_ADDR=$HOST:$OPS_PORT"
    "LIFELINE_INGEST_WORKERS=$WORKERS"
    # The default limit, stated explicitly: the limiter must be on while measuring.
    "LIFELINE_PING_RATE_LIMIT=300"
    "LIFELINE_PING_RATE_WINDOW_SECS=60"
    "LIFELINE_LOG=warn"
)
[[ -z $WRITERS ]] || service_env+=("LIFELINE_INGEST_WRITERS=$WRITERS")

timeout 120 "${service_env[@]}" "$LIFELINE" migrate >"$WORK/migrate.log" 2>&1 ||
    die "migration failed: $(tail -5 "$WORK/migrate.log")"

# Tokens as PingToken makes them: 24 random bytes in URL-safe base64 without padding (32 chars),
# looked up by their SHA-256. uuid_send(gen_random_uuid()) is built in (no pgcrypto needed).
psql_bench -v n="$HEARTBEATS" >/dev/null <<'SQL'
WITH team AS (
    INSERT INTO teams (id, name, plan) VALUES (gen_random_uuid(), 'bench', 'enterprise')
    RETURNING id
), tokens AS (
    SELECT g, translate(encode(substring(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())
                                         FROM 1 FOR 24), 'base64'), '+/', '-_') AS token
    FROM generate_series(1, :n) AS g
)
INSERT INTO heartbeats (id, team_id, name, token, token_hash, interval_secs, grace_secs)
SELECT gen_random_uuid(), team.id, 'bench-' || g, token, sha256(convert_to(token, 'UTF8')), 60, 30
FROM tokens, team;
ANALYZE heartbeats;
SQL
psql_bench -c 'SELECT token FROM heartbeats' >"$WORK/tokens.txt"
[[ $(wc -l <"$WORK/tokens.txt") -eq $HEARTBEATS ]] || die "expected $HEARTBEATS tokens"
grep -qvE '^[A-Za-z0-9_-]{32}$' "$WORK/tokens.txt" && die "malformed token generated"

# ------------------------------------------------------------------------------------ load
# run_wrk PORT MEASURE_SECS DRAIN_SECS OUT: one wrk run; see ingest.lua for the drain.
run_wrk() {
    local port=$1 measure=$2 drain=$3 out=$4 pid status=0
    timeout --kill-after=5 $((measure + drain + 30)) \
        wrk -t "$THREADS" -c "$CONNECTIONS" -d "$((measure + drain))s" --timeout 10s \
        -s "$LUA" "http://$HOST:$port" -- "$WORK/tokens.txt" "$measure" >"$out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait "$pid" || status=$?
    untrack "$pid"
    ((status == 0)) || die "wrk failed: $(tail -5 "$out")"
    grep -q '^@pings_per_s=' "$out" || die "wrk printed no results: $(tail -5 "$out")"
}
# field FILE KEY: a value printed by ingest.lua's done().
field() { sed -n "s/^@$2=//p" "$1"; }
# errors FILE: the real load's non-2xx answers in the measured window, plus socket errors.
errors() { echo $(($(field "$1" non200_window) + $(field "$1" socket_errors))); }
# mean KEY RUN...: the mean of KEY over the runs' outputs ($WORK/RUN.out).
mean() {
    local key=$1 run
    shift
    for run in "$@"; do field "$WORK/$run.out" "$key"; done | awk '{ s += $1 } END { printf "%.3f", s / NR }'
}
# ratio A B: A / B to two decimals (0 when B is not positive).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# wait_http URL SECONDS PID: until URL answers 200, the process died, or the time is up.
wait_http() {
    local url=$1 secs=$2 pid=$3 i
    for ((i = 0; i < secs * 10; i++)); do
        curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# metric FILE NAME: the value of an unlabelled Prometheus sample (0 if absent).
metric() { awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"; }

# start_ingest LOG [NAME=value ...]: starts `lifeline ingest` with the bench settings (and these
# on top) and waits until it is ready; its pid is in INGEST_PID.
start_ingest() {
    local log_file=$1
    shift
    "${service_env[@]}" "$@" "$LIFELINE" ingest >"$log_file" 2>&1 &
    INGEST_PID=$!
    PIDS+=("$INGEST_PID")
    wait_http "http://$HOST:$OPS_PORT/readyz" 60 "$INGEST_PID" ||
        die "ingest did not become ready: $(tail -5 "$log_file")"
    INGEST_START_ROWS=$(count_pings)
}

# warm_up_ingest OUT: warmup rounds of BENCH_WARMUP seconds (each drained, so every ping is
# answered and the row count taken afterwards is stable) until the running service has stored
# four times as many pings as there are heartbeats, or BENCH_WARMUP_ROUNDS rounds; the rounds
# run are in WARMUP_ROUNDS_DONE. A measured run must not start while the service still looks
# tokens up (its token cache is its own) or works through heartbeats' first pings: a heartbeat's
# first ping is its change from new to up (a status change, and an update that rewrites every
# index of its row), and a burst of running jobs is made of the pings after it. With pings to
# random heartbeats, four per heartbeat leave about 2 % of them unpinged (e^-4), two would leave
# 14 %. On a slow machine one round does not get there.
warm_up_ingest() {
    local out=$1 round=1
    while :; do
        log "real: warmup round $round, ${WARMUP}s (+${DRAIN}s drain, $CONNECTIONS connections)"
        run_wrk "$INGEST_PORT" "$WARMUP" "$DRAIN" "$out"
        [[ $(field "$out" unanswered) == 0 ]] || die "warmup pings left unanswered; raise BENCH_DRAIN"
        (($(count_pings) - INGEST_START_ROWS >= 4 * HEARTBEATS || round >= WARMUP_ROUNDS)) && break
        round=$((round + 1))
    done
    WARMUP_ROUNDS_DONE=$round
}

stop_ingest() {
    stop_pid "$INGEST_PID"
    untrack "$INGEST_PID"
}

# ingest_metrics FILE: a snapshot of the running service's /metrics (empty if unreachable).
ingest_metrics() { curl -fsS --max-time 5 "http://$HOST:$OPS_PORT/metrics" >"$1" || : >"$1"; }

# metric_delta BEFORE AFTER NAME: how much an unlabelled sample grew between two snapshots.
metric_delta() {
    awk -v a="$(metric "$2" "$3")" -v b="$(metric "$1" "$3")" 'BEGIN { print a - b }'
}

# batch_mean BEFORE AFTER: the mean group-commit batch between two /metrics snapshots, in whole
# pings (0 when unknown).
batch_mean() {
    [[ -s $1 && -s $2 ]] || { echo 0; return; }
    awk -v n="$(metric_delta "$1" "$2" lifeline_ingest_batch_size_count)" \
        -v s="$(metric_delta "$1" "$2" lifeline_ingest_batch_size_sum)" \
        'BEGIN { printf "%d", (n > 0 ? s / n + 0.5 : 0) }'
}

# cpu_ticks PID...: user + system CPU time of these processes so far, in clock ticks.
cpu_ticks() {
    local total=0 pid
    for pid in "$@"; do
        [[ -r /proc/$pid/stat ]] || continue
        total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
