//! Postgres and Redis that speak TLS, for the tests of `sslmode`/`sslrootcert` and `rediss://`.
//!
//! The shared engines ([`crate::engines`]) run without TLS and must stay so, so these are
//! throw-away servers of the test's own on free ports, in a scratch directory that goes when they
//! stop: a certificate authority made with the `openssl` tool signs a server certificate for
//! `localhost` and `127.0.0.1`. The Postgres cluster accepts TLS connections only (`hostnossl …
//! reject`). A missing tool fails the test with a message that names it; servers left behind by
//! a test process that was killed are stopped by the next one.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::chaos::free_port;

/// How long a server may take to start.
const START_LIMIT: Duration = Duration::from_secs(30);

/// A directory of this test process's own under the system's temporary directory, removed on
/// drop. Its name carries the process id, so that leftovers of dead processes can be found.
struct Scratch {
    path: PathBuf,
}

const SCRATCH_PREFIX: &str = "lifeline-tls-";

impl Scratch {
    fn new(kind: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("{SCRATCH_PREFIX}{kind}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Scratch directories of `kind` whose process is gone.
fn leftovers(kind: &str) -> Vec<PathBuf> {
    let prefix = format!("{SCRATCH_PREFIX}{kind}-");
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_prefix(&prefix)
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        })
        .map(|entry| entry.path())
        .collect()
}

/// Runs a tool to completion; a tool that is missing or fails fails the test, with its output.
fn run(command: &mut Command) -> Output {
    let tool = command.get_program().to_string_lossy().into_owned();
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} (is it installed?): {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Waits until `port` on 127.0.0.1 takes connections, or fails the test with `log`.
fn wait_for_port(port: u16, what: &str, log: &Path) {
    let until = Instant::now() + START_LIMIT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > until {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} did not listen on port {port} within {START_LIMIT:?}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A test certificate authority, the server certificate it signed (for `localhost` and
/// `127.0.0.1`), and a second authority that signed nothing here.
pub struct TestCerts {
    pub ca: PathBuf,
    pub other_ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl TestCerts {
    /// Made with the `openssl` tool into `dir`; P-256 keys, valid for two days.
    fn make(dir: &Path) -> Self {
        let path = |name: &str| dir.join(name);
        for ca in ["ca", "other-ca"] {
            run(Command::new("openssl")
                .args(["req", "-x509", "-newkey", "ec"])
                .args([
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    &format!("/CN=Lifeline test {ca}"),
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout",
                    &path(&format!("{ca}.key")).to_string_lossy(),
                    "-out",
                    &path(&format!("{ca}.crt")).to_string_lossy(),
                ]));
        }
        let extensions = path("server.ext");
        std::fs::write(
            &extensions,
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        let (key, csr, cert) = (path("server.key"), path("server.csr"), path("server.crt"));
        run(Command::new("openssl")
            .args(["req", "-new", "-newkey", "ec"])
            .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
            .args(["-subj", "/CN=localhost", "-keyout"])
            .args([&key, Path::new("-out"), &csr]));
        run(Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(path("ca.crt"))
            .arg("-CAkey")
            .arg(path("ca.key"))
            .arg("-CAcreateserial")
            .arg("-extfile")
            .arg(&extensions)
            .arg("-out")
            .arg(&cert));
        Self {
            ca: path("ca.crt"),
            other_ca: path("other-ca.crt"),
            server_cert: cert,
            server_key: key,
        }
    }
}

/// Postgres refuses to run as root: as root, its tools run as the `postgres` user.
fn as_postgres(program: &Path) -> Command {
    let root = run(Command::new("id").arg("-u")).stdout.trim_ascii() == b"0";
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Where `initdb` and `pg_ctl` are: on `PATH`, or Debian's newest `/usr/lib/postgresql/*/bin`.
fn postgres_bin() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    debian.sort();
    on_path
        .into_iter()
        .chain(debian.into_iter().rev().map(|(_, bin)| bin))
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .unwrap_or_else(|| {
            panic!(
                "PostgreSQL's server tools (initdb, pg_ctl) are not on PATH nor in \
                 /usr/lib/postgresql/*/bin: install them (Debian: postgresql)"
            )
        })
}

/// A Postgres cluster of its own that takes TLS connections only, as the superuser `postgres`
/// without a password, on 127.0.0.1. Stopped and deleted on drop.
pub struct TlsPostgres {
    pub port: u16,
    pub certs: TestCerts,
    bin: PathBuf,
    data: PathBuf,
    _scratch: Scratch,
}

static SHARED_POSTGRES: Mutex<Weak<TlsPostgres>> = Mutex::new(Weak::new());

impl TlsPostgres {
    /// The one role that must give a password (SCRAM): every other connects without one. The
    /// cluster does not create it; a test that needs it does.
    pub const PASSWORD_ROLE: &str = "lifeline_scram";

    /// The cluster every test of this process that holds one shares (a cluster takes seconds
    /// to make); it stops when the last of them lets go.
    pub fn shared() -> Arc<TlsPostgres> {
        let mut shared = SHARED_POSTGRES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(running) = shared.upgrade() {
            return running;
        }
        let started = Arc::new(Self::start());
        *shared = Arc::downgrade(&started);
        started
    }

    /// A new cluster.
    pub fn start() -> TlsPostgres {
        let bin = postgres_bin();
        for dir in leftovers("postgres") {
            let _ = as_postgres(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(dir.join("data"))
                .args(["-m", "immediate", "stop"])
                .output();
            let _ = std::fs::remove_dir_all(dir);
        }
        let scratch = Scratch::new("postgres");
        let certs = TestCerts::make(&scratch.path);
        let data = scratch.path.join("data");
        let port = free_port();
        // The cluster's user must own its key (mode 0600) and everything it writes.
        std::fs::set_permissions(
            &certs.server_key,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        if run(Command::new("id").arg("-u")).stdout.trim_ascii() == b"0" {
            run(Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&scratch.path));
        }
        run(as_postgres(&bin.join("initdb")).arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]));
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{dir}'\n\
             ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\n\
             fsync = off\nmax_connections = 50\nshared_buffers = 16MB\n",
            dir = scratch.path.display(),
            cert = certs.server_cert.display(),
            key = certs.server_key.display(),
        );
        append(&data.join("postgresql.conf"), &conf);
        std::fs::write(
            data.join("pg_hba.conf"),
            format!(
                "local all all trust\nhostssl all {} 127.0.0.1/32 scram-sha-256\n\
                 hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
                Self::PASSWORD_ROLE
            ),
        )
        .unwrap();
        let log = scratch.path.join("postgres.log");
        let started = as_postgres(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", &START_LIMIT.as_secs().to_string(), "start"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run pg_ctl: {e}"));
        if !started.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "the TLS Postgres cluster did not start: {}\n{log}",
                String::from_utf8_lossy(&started.stderr)
            );
        }
        TlsPostgres {
            port,
            certs,
            bin,
            data,
            _scratch: scratch,
        }
    }

    /// A URL for database `postgres` as `postgres` at `host` on this cluster's port, with the
    /// query string `query` (e.g. `sslmode=require`).
    pub fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{query}", self.port)
    }

    /// Like [`url`](Self::url), for another database.
    pub fn url_of(&self, database: &str, host: &str, query: &str) -> String {
        format!(
            "postgres://postgres@{host}:{}/{database}?{query}",
            self.port
        )
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdin(Stdio::null())
            .output();
        // The scratch directory goes next, with the cluster's files.
    }
}

fn append(file: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    f.write_all(text.as_bytes()).unwrap();
}

/// A Redis server of its own that speaks TLS only, on 127.0.0.1, without client certificates.
/// Killed on drop.
pub struct TlsRedis {
    pub port: u16,
    pub certs: TestCerts,
    child: Child,
    _scratch: Scratch,
}

impl TlsRedis {
    pub fn start() -> TlsRedis {
        for dir in leftovers("redis") {
            if let Ok(pid) = std::fs::read_to_string(dir.join("redis.pid")) {
                let _ = Command::new("kill").arg(pid.trim()).output();
            }
            let _ = std::fs::remove_dir_all(dir);
        }
        let scratch = Scratch::new("redis");
        let certs = TestCerts::make(&scratch.path);
        let port = free_port();
        let log = scratch.path.join("redis.log");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .args(["--tls-port", &port.to_string(), "--tls-cert-file"])
            .arg(&certs.server_cert)
            .arg("--tls-key-file")
            .arg(&certs.server_key)
            .arg("--tls-ca-cert-file")
            .arg(&certs.ca)
            .args([
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&scratch.path)
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run redis-server (is it installed?): {e}"));
        // Its own record of the server, for the sweep above should this process be killed.
        std::fs::write(scratch.path.join("redis.pid"), child.id().to_string()).unwrap();
        let mut redis = TlsRedis {
            port,
            certs,
            child,
            _scratch: scratch,
        };
        if let Ok(Some(status)) = redis.child.try_wait() {
            panic!("redis-server exited at once ({status}): is it built with TLS?");
        }
        wait_for_port(port, "the TLS Redis server", &log);
        redis
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
