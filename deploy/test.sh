#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL and Redis (started, or installed with apt,
# when missing), and headless Chromium for the browser tests (installed with apt when missing). Each test makes its own database from a migrated template and its own Redis
# key prefix, so the tests run in parallel. Extra arguments go to `cargo test`.
set -euo pipefail
. "$(dirname "$0")/lib/prelude.sh"

export LIFELINE_TEST_DATABASE_URL=${LIFELINE_TEST_DATABASE_URL:-$LOCAL_POSTGRES/postgres}
export LIFELINE_TEST_REDIS_URL=${LIFELINE_TEST_REDIS_URL:-$LOCAL_REDIS}
check_postgres "$LIFELINE_TEST_DATABASE_URL"
ensure_tls_test_tools
ensure_faketime
ensure_chromium

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
cargo test --workspace --locked "$@"
