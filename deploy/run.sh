#!/usr/bin/env bash
# Runs Lifeline on this machine: PostgreSQL and Redis (installed with apt if missing), a release
# build, migrations, the demo heartbeat, then every service in one process (Ctrl-C stops it).
set -euo pipefail
. "$(dirname "$0")/lib/prelude.sh"

ensure_database lifeline
export DATABASE_URL=${DATABASE_URL:-$LOCAL_POSTGRES/lifeline}
export REDIS_URL=${REDIS_URL:-$LOCAL_REDIS}
check_postgres "$DATABASE_URL"

say "building (release)"
cargo build --release --locked --bin lifeline
bin=${CARGO_TARGET_DIR:-target}/release/lifeline

"$bin" migrate
echo
"$bin" demo
echo
exec "$bin" all
