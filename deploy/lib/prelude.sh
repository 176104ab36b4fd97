# The start shared by deploy/run.sh and deploy/test.sh, sourced first by both: move to the
# repository root, check the Rust toolchain (before anything is installed or built), make sure
# PostgreSQL and Redis answer on 127.0.0.1 (apt-installing them when missing) and that the
# `lifeline` role exists. Each script then sets its own URLs, defaulting to LOCAL_POSTGRES and
# LOCAL_REDIS, and checks the server version with `check_postgres "$its_url"`.

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. deploy/lib/engines.sh
. deploy/lib/versions.sh

check_rust
ensure_postgres
ensure_redis
ensure_role

# The engines above, as the `lifeline` role sees them (append a database name to the first).
LOCAL_POSTGRES="postgres://lifeline:lifeline@$PG_HOST:$PG_PORT"
LOCAL_REDIS="redis://$PG_HOST:$REDIS_PORT"
