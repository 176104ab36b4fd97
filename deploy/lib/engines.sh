# Make sure PostgreSQL and Redis answer on 127.0.0.1, installing them with apt when they are
# missing, and that the `lifeline` database role exists (password `lifeline`, may create
# databases: the tests make one per test). Loaded by prelude.sh; can be sourced on its own from
# the repository root (`. deploy/lib/engines.sh; ensure_role`).

PG_HOST=127.0.0.1
PG_PORT=${PGPORT:-5432}
REDIS_PORT=6379

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 50); do port_open "$1" "$2" && return 0; sleep 0.2; done
  return 1
}

ensure_postgres() {
  if port_open "$PG_HOST" "$PG_PORT"; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "PostgreSQL not found: installing it with apt"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  say "starting PostgreSQL"
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || as_root service postgresql start
  wait_port "$PG_HOST" "$PG_PORT" || { say "PostgreSQL did not come up on $PG_HOST:$PG_PORT"; exit 1; }
}

ensure_redis() {
  if port_open "$PG_HOST" "$REDIS_PORT"; then return 0; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    say "Redis not found: installing it with apt"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  say "starting Redis"
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
  wait_port "$PG_HOST" "$REDIS_PORT" || { say "Redis did not come up on port $REDIS_PORT"; exit 1; }
}

# Runs SQL as a Postgres superuser: over TCP if that is allowed without a password (trust auth),
# otherwise as the `postgres` system user over the local socket (Debian's default peer auth).
pg_super() {
  if psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1 </dev/null; then
    psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq "$@"
  else
    as_root -u postgres psql -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -tAq "$@" 2>/dev/null \
      || (cd / && as_root su postgres -c "psql -p $PG_PORT -d postgres -v ON_ERROR_STOP=1 -tAq $(printf '%q ' "$@")")
  fi
}

ensure_role() {
  pg_super -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lifeline') THEN
        CREATE ROLE lifeline LOGIN PASSWORD 'lifeline' CREATEDB;
      END IF;
    END \$\$;"
}

ensure_database() {
  local name=$1
  if [ -z "$(pg_super -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
    say "creating database $name"
    pg_super -c "CREATE DATABASE $name OWNER lifeline"
  fi
}

# The TLS tests (libs/store/tests/tls.rs) start Postgres and Redis servers of their own with a
# test CA: they need the openssl tool and PostgreSQL's server binaries (redis-server comes with
# ensure_redis), which a machine whose Postgres runs elsewhere may lack.
ensure_tls_test_tools() {
  local missing=()
  command -v openssl >/dev/null || missing+=(openssl)
  if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql)
  fi
  command -v redis-server >/dev/null || missing+=(redis-server)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} with apt (TLS tests)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The clock tests (tests/scheduler/clock.rs) run services whose clocks are shifted by libfaketime.
ensure_faketime() {
  if ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1; then
    return
  fi
  say "faketime not found: installing it with apt (clock tests)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
}

# The browser tests drive Debian's Chromium through its WebDriver (tests/browser).
ensure_chromium() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return
  fi
  say "Chromium not found: installing chromium and chromium-driver with apt (browser tests)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
}
