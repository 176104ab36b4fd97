#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL and Redis (started, or installed with apt,
# when missing). Each test makes its own database from a migrated template and its own Redis
# key prefix, so the tests run in parallel. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/engines.sh

ensure_postgres
ensure_redis
ensure_role

export LIFELINE_TEST_DATABASE_URL=${LIFELINE_TEST_DATABASE_URL:-postgres://lifeline:lifeline@127.0.0.1:5432/postgres}
export LIFELINE_TEST_REDIS_URL=${LIFELINE_TEST_REDIS_URL:-redis://127.0.0.1:6379}

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
cargo test --workspace --locked "$@"
