# The versions Lifeline needs, checked before anything is built so that an old toolchain or
# server fails with a sentence instead of a compiler or SQL error. Sourced by prelude.sh after
# engines.sh (for `say`); run from the repository root.
#
# The Rust minimum is the `rust-version` of Cargo.toml's [workspace.package], read from there.
# PostgreSQL 15 is the first with `CREATE DATABASE … STRATEGY FILE_COPY`, which the tests use to
# clone their databases from a migrated template.

PG_MIN_MAJOR=15

# Prints the `rust-version` of [workspace.package] in Cargo.toml.
required_rust_version() {
  sed -n '/^\[workspace\.package\]/,/^\[/ s/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml
}

# Prints the version of the rustc cargo will use, e.g. `1.95.0` (`1.96.0-nightly` → `1.96.0`).
rustc_version() {
  "${RUSTC:-rustc}" --version | sed -n 's/^rustc \([0-9][0-9.]*\).*/\1/p'
}

# Succeeds when version $1 is at least $2 (dotted numbers; missing parts count as 0).
version_at_least() {
  local have want i
  IFS=. read -r -a have <<<"$1"
  IFS=. read -r -a want <<<"$2"
  for i in 0 1 2; do
    if ((${have[i]:-0} != ${want[i]:-0})); then
      ((${have[i]:-0} > ${want[i]:-0}))
      return
    fi
  done
  return 0
}

check_rust() {
  local need have
  need=$(required_rust_version)
  if [ -z "$need" ]; then
    say "no rust-version in Cargo.toml's [workspace.package]: cannot check the Rust toolchain"
    return 1
  fi
  if ! command -v "${RUSTC:-rustc}" >/dev/null 2>&1 || ! command -v cargo >/dev/null 2>&1; then
    say "Rust is not installed: Lifeline needs Rust $need or newer (https://rustup.rs)"
    return 1
  fi
  have=$(rustc_version)
  if [ -z "$have" ] || ! version_at_least "$have" "$need"; then
    say "Rust ${have:-of unknown version} is too old: Lifeline needs $need or newer" \
      "(rust-version in Cargo.toml); update it, e.g. with \`rustup update stable\`"
    return 1
  fi
}

# Prints the server_version_num (e.g. 150020) of the PostgreSQL server at URL $1.
postgres_version_num() {
  PGCONNECT_TIMEOUT=5 psql "$1" -XtAq -c 'SHOW server_version_num' </dev/null
}

# A URL without its password, for messages.
without_password() {
  printf '%s' "$1" | sed 's#^\([a-z]*://[^:/@]*\):[^@]*@#\1:***@#'
}

# Checks that the PostgreSQL server at URL $1 (the one the caller is about to use) is new enough.
check_postgres() {
  local url=$1 num major shown shown_version
  shown=$(without_password "$url")
  if ! num=$(postgres_version_num "$url" 2>&1) || ! [[ $num =~ ^[0-9]+$ ]]; then
    say "cannot ask PostgreSQL at $shown for its version: ${num:-no answer}"
    return 1
  fi
  major=$((num / 10000))
  if ((major < PG_MIN_MAJOR)); then
    if ((major >= 10)); then
      shown_version="$major.$((num % 10000))"
    else
      shown_version="$major.$((num / 100 % 100)).$((num % 100))"
    fi
    say "PostgreSQL $shown_version at $shown is too old: Lifeline needs $PG_MIN_MAJOR or newer" \
      "(the tests clone databases with CREATE DATABASE … STRATEGY FILE_COPY, new in $PG_MIN_MAJOR)"
    return 1
  fi
}
