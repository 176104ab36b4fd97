//! Where the tests' Postgres and Redis are.
//!
//! `LIFELINE_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) names a
//! database of a role that may create databases; `LIFELINE_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`) the Redis server.

/// A database of a role that may create databases.
pub fn admin_database_url() -> String {
    std::env::var("LIFELINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("LIFELINE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}
