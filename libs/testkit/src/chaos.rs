//! A TCP proxy between a service and Postgres or Redis that a test can cut (every connection
//! dropped, new ones refused) and restore, and the address helpers that go with it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Drops every proxied connection on `cut`; refuses new ones until `restore`.
pub struct ChaosProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
}

impl ChaosProxy {
    pub async fn start(target: SocketAddr) -> ChaosProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (generation, _) = watch::channel(0u64);
        let (up2, gen2) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = gen2.subscribe();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        ChaosProxy {
            addr,
            up,
            generation,
        }
    }

    /// Drops every proxied connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// The address in a `scheme://…@host:port/…` URL.
pub fn target_of(url: &str, default_port: u16) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
    let authority = rest.split('/').next().unwrap();
    let authority = authority.replace("localhost", "127.0.0.1");
    if authority.contains(':') {
        authority.parse().unwrap()
    } else {
        format!("{authority}:{default_port}").parse().unwrap()
    }
}

/// A proxy in front of the test Postgres server.
pub async fn postgres_proxy() -> ChaosProxy {
    ChaosProxy::start(target_of(&crate::engines::admin_database_url(), 5432)).await
}

/// A proxy in front of the test Redis server.
pub async fn redis_proxy() -> ChaosProxy {
    ChaosProxy::start(target_of(&crate::engines::redis_url(), 6379)).await
}

/// Replaces host and port of a `scheme://user@host:port/db` URL (to route it through a proxy).
pub fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, rest) = match rest.split_once('@') {
        Some((u, r)) => (format!("{u}@"), r),
        None => (String::new(), rest),
    };
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
    format!("{scheme}://{userinfo}{addr}{path}")
}

/// A free TCP port on 127.0.0.1 (for processes that need one up front).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_rerouted_and_read() {
        let addr: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        assert_eq!(
            via("postgres://u:p@db.example:5432/x?sslmode=disable", addr),
            "postgres://u:p@127.0.0.1:7000/x?sslmode=disable"
        );
        assert_eq!(via("redis://localhost", addr), "redis://127.0.0.1:7000");
        assert_eq!(
            target_of("postgres://u@localhost/db", 5432),
            "127.0.0.1:5432".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            target_of("redis://127.0.0.1:6380", 6379),
            "127.0.0.1:6380".parse::<SocketAddr>().unwrap()
        );
    }
}
