#!/usr/bin/env bash
# Runs Lifeline on this machine: PostgreSQL and Redis (installed with apt if missing), a release
# build, migrations, the demo heartbeat, then every service in one process (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/engines.sh

ensure_postgres
ensure_redis
ensure_role
ensure_database lifeline

export DATABASE_URL=${DATABASE_URL:-postgres://lifeline:lifeline@127.0.0.1:5432/lifeline}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}

say "building (release)"
cargo build --release --locked --bin lifeline
bin=${CARGO_TARGET_DIR:-target}/release/lifeline

"$bin" migrate
echo
"$bin" demo
echo
exec "$bin" all
