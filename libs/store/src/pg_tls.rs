//! What `DATABASE_URL` says about TLS, read the way libpq reads it, and the connections made so.
//!
//! tokio-postgres knows only `sslmode=disable|prefer|require` and rejects `sslrootcert`, so this
//! module takes libpq's two parameters out of the URL, decides how much to check, and hands the
//! rest of the URL to tokio-postgres with a rustls connector that checks exactly that:
//!
//! | `sslmode` | TLS | what is checked |
//! |---|---|---|
//! | absent | never tried (as before TLS support: no extra round trip) | — |
//! | `disable` | never | — |
//! | `allow`, `prefer` | if the server offers it | nothing, or the chain if `sslrootcert` is given |
//! | `require` | always | nothing, or the chain if `sslrootcert` is given |
//! | `verify-ca` | always | the chain |
//! | `verify-full` | always | the chain and that the certificate names the host |
//!
//! Roots are the PEM file `sslrootcert=<path>`, or the system's with `sslrootcert=system` (which,
//! as in libpq 16, means `verify-full`) or without `sslrootcert`. Where libpq differs: it tries
//! plain before TLS for `allow` (here TLS first, like `prefer`), and without `sslrootcert` it
//! reads `~/.postgresql/root.crt` (here the system's roots; a service has no home to speak of).

use std::path::PathBuf;
use std::str::FromStr;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use percent_encoding::percent_decode_str;
use tokio_postgres::NoTls;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::error_chain;
use crate::tls::{self, Check};

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, \
                     verify-full"
                ));
            }
        })
    }
}

/// Where the trusted roots come from (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum RootCert {
    System,
    File(PathBuf),
}

/// A Postgres server to connect to and how: parsed once, then every connection is made from it.
#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
    /// `None`: plain connections, exactly as tokio-postgres makes them without TLS.
    tls: Option<MakeRustlsConnect>,
}

impl PgTarget {
    /// Reads `database_url`, including the certificates it names. The error names the
    /// parameter at fault and never repeats the URL (it may hold a password).
    pub fn parse(database_url: &str) -> Result<Self, String> {
        let (base, query) = database_url.split_once('?').unwrap_or((database_url, ""));
        let mut kept = Vec::new();
        let mut sslmode = None;
        let mut sslrootcert = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = || {
                percent_decode_str(value)
                    .decode_utf8()
                    .map(|v| v.into_owned())
                    .map_err(|_| format!("{key} is not valid UTF-8 once decoded"))
            };
            match key {
                "sslmode" => sslmode = Some(SslMode::parse(&decoded()?)?),
                "sslrootcert" => sslrootcert = Some(decoded()?),
                _ => kept.push(pair),
            }
        }
        let root = sslrootcert.map(|v| match v.as_str() {
            "system" => RootCert::System,
            _ => RootCert::File(PathBuf::from(v)),
        });
        let (mode, check) = decide(sslmode, root.as_ref())?;
        if let Some(mode) = mode {
            kept.push(match mode {
                tokio_postgres::config::SslMode::Disable => "sslmode=disable",
                tokio_postgres::config::SslMode::Require => "sslmode=require",
                _ => "sslmode=prefer",
            });
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let config = tokio_postgres::Config::from_str(&url).map_err(|e| error_chain(&e))?;
        let tls = match check {
            None => None,
            Some(check) => Some(MakeRustlsConnect::new(tls::client_config(
                check.resolve(root.as_ref())?,
            )?)),
        };
        Ok(Self { config, tls })
    }

    /// Where connections go, for errors: `host:port` (each, when the URL lists several), or
    /// a Unix socket's directory. Never the user or password.
    pub fn server(&self) -> String {
        let ports = self.config.get_ports();
        let servers: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
                match host {
                    tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                    tokio_postgres::config::Host::Unix(dir) => {
                        format!("{}/.s.PGSQL.{port}", dir.display())
                    }
                }
            })
            .collect();
        if servers.is_empty() {
            "localhost:5432".to_owned()
        } else {
            servers.join(", ")
        }
    }

    /// Whether connections try TLS at all.
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Opens a connection.
    pub async fn connect(&self) -> Result<AsyncPgConnection, ConnectionError> {
        let failed = |e: tokio_postgres::Error| ConnectionError::BadConnection(error_chain(&e));
        match &self.tls {
            None => {
                let (client, connection) = self.config.connect(NoTls).await.map_err(failed)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
            Some(tls) => {
                let (client, connection) =
                    self.config.connect(tls.clone()).await.map_err(failed)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
        }
    }
}

/// How much to check, before the roots are loaded.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Nothing,
    Chain,
    ChainAndName,
}

impl Wanted {
    fn resolve(self, root: Option<&RootCert>) -> Result<Check, String> {
        let roots = || match root {
            Some(RootCert::File(path)) => {
                tls::roots_from_file(path).map_err(|e| format!("sslrootcert: {e}"))
            }
            Some(RootCert::System) | None => tls::system_roots(),
        };
        Ok(match self {
            Self::Nothing => Check::Nothing,
            Self::Chain => Check::Chain(roots()?),
            Self::ChainAndName => Check::ChainAndName(roots()?),
        })
    }
}

/// The mode to give tokio-postgres (`None`: leave the URL without one, as before) and what the
/// TLS connector checks (`None`: no TLS connector at all).
fn decide(
    sslmode: Option<SslMode>,
    root: Option<&RootCert>,
) -> Result<(Option<tokio_postgres::config::SslMode>, Option<Wanted>), String> {
    use tokio_postgres::config::SslMode as Pg;

    // As in libpq 16: the system's roots only make sense with the host name checked.
    let sslmode = match (sslmode, root) {
        (None, Some(RootCert::System)) => Some(SslMode::VerifyFull),
        (Some(mode), Some(RootCert::System)) if mode != SslMode::VerifyFull => {
            return Err("sslrootcert=system needs sslmode=verify-full".to_owned());
        }
        // libpq's default is `prefer`; a root certificate makes it check the chain.
        (None, Some(RootCert::File(_))) => Some(SslMode::Prefer),
        (mode, _) => mode,
    };
    // libpq: with a root certificate at hand, `prefer` and `require` check the chain.
    let weak = if root.is_some() {
        Wanted::Chain
    } else {
        Wanted::Nothing
    };
    Ok(match sslmode {
        None => (None, None),
        Some(SslMode::Disable) => (Some(Pg::Disable), None),
        Some(SslMode::Allow | SslMode::Prefer) => (Some(Pg::Prefer), Some(weak)),
        Some(SslMode::Require) => (Some(Pg::Require), Some(weak)),
        Some(SslMode::VerifyCa) => (Some(Pg::Require), Some(Wanted::Chain)),
        Some(SslMode::VerifyFull) => (Some(Pg::Require), Some(Wanted::ChainAndName)),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use tokio_postgres::config::SslMode as Pg;

    use super::*;

    fn decided(url: &str) -> Result<(Option<Pg>, Option<Wanted>), String> {
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let mut mode = None;
        let mut root = None;
        for (k, v) in query.split('&').filter_map(|p| p.split_once('=')) {
            match k {
                "sslmode" => mode = Some(SslMode::parse(v)?),
                "sslrootcert" if v == "system" => root = Some(RootCert::System),
                "sslrootcert" => root = Some(RootCert::File(v.into())),
                _ => {}
            }
        }
        decide(mode, root.as_ref())
    }

    #[test]
    fn modes_follow_libpq() {
        let cases = [
            ("postgres://h/db", (None, None)),
            ("postgres://h/db?sslmode=disable", (Some(Pg::Disable), None)),
            (
                "postgres://h/db?sslmode=allow",
                (Some(Pg::Prefer), Some(Wanted::Nothing)),
            ),
            (
                "postgres://h/db?sslmode=prefer",
                (Some(Pg::Prefer), Some(Wanted::Nothing)),
            ),
            (
                "postgres://h/db?sslmode=require",
                (Some(Pg::Require), Some(Wanted::Nothing)),
            ),
            (
                "postgres://h/db?sslmode=require&sslrootcert=/ca.pem",
                (Some(Pg::Require), Some(Wanted::Chain)),
            ),
            (
                "postgres://h/db?sslrootcert=/ca.pem",
                (Some(Pg::Prefer), Some(Wanted::Chain)),
            ),
            (
                "postgres://h/db?sslmode=verify-ca",
                (Some(Pg::Require), Some(Wanted::Chain)),
            ),
            (
                "postgres://h/db?sslmode=verify-full",
                (Some(Pg::Require), Some(Wanted::ChainAndName)),
            ),
            (
                "postgres://h/db?sslrootcert=system",
                (Some(Pg::Require), Some(Wanted::ChainAndName)),
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(decided(url).unwrap(), expected, "{url}");
        }
    }

    #[test]
    fn system_roots_need_verify_full() {
        let err = decided("postgres://h/db?sslmode=require&sslrootcert=system").unwrap_err();
        assert_eq!(err, "sslrootcert=system needs sslmode=verify-full");
    }

    #[test]
    fn a_plain_url_reaches_tokio_postgres_unchanged() {
        let target = PgTarget::parse("postgres://u:p@h:5433/db?application_name=x").unwrap();
        assert!(!target.uses_tls());
        assert_eq!(target.config.get_ssl_mode(), Pg::Prefer);
        assert_eq!(target.config.get_application_name(), Some("x"));
        assert_eq!(target.config.get_ports(), [5433]);
    }

    #[test]
    fn libpq_parameters_are_taken_out_and_the_rest_kept() {
        let target = PgTarget::parse(
            "postgres://u@h/db?application_name=x&sslmode=require&connect_timeout=3",
        )
        .unwrap();
        assert!(target.uses_tls());
        assert_eq!(target.config.get_ssl_mode(), Pg::Require);
        assert_eq!(target.config.get_application_name(), Some("x"));
        assert_eq!(
            target.config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
    }

    #[test]
    fn errors_name_the_parameter_and_hide_the_url() {
        let unknown = PgTarget::parse("postgres://u:secret@h/db?sslmode=maybe")
            .err()
            .unwrap();
        assert!(
            unknown.starts_with("sslmode \"maybe\" is not one of"),
            "{unknown}"
        );
        let missing = PgTarget::parse(
            "postgres://u:secret@h/db?sslmode=verify-full&sslrootcert=/no/such/ca.pem",
        )
        .err()
        .unwrap();
        assert!(
            missing.starts_with("sslrootcert: cannot read /no/such/ca.pem"),
            "{missing}"
        );
        for err in [unknown, missing] {
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
