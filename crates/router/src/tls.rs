//! TLS for the router's HTTPS listener: [`CertResolver`] picks the
//! certificate a handshake gets by its SNI host name (exact name first,
//! then a `*.domain` wildcard one label up) from a table that is replaced
//! whole whenever the stored certificates change ([`follow_certs`]), and
//! [`acceptor`] wraps it in a `TlsAcceptor` on the ring provider.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use berth_core::model::ServingCert;
use berth_core::service::Berth;
use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
pub use tokio_rustls::TlsAcceptor;

/// Host name (lower case) → certificate; wildcard entries under the
/// domain after `*.`.
#[derive(Default)]
struct CertTable {
    exact: HashMap<String, Arc<CertifiedKey>>,
    wildcard: HashMap<String, Arc<CertifiedKey>>,
}

impl CertTable {
    fn find(&self, host: &str) -> Option<Arc<CertifiedKey>> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(found) = self.exact.get(&host) {
            return Some(found.clone());
        }
        // A wildcard covers exactly one label.
        let (_, parent) = host.split_once('.')?;
        self.wildcard.get(parent).cloned()
    }
}

/// Picks a server certificate by SNI; an unknown or missing name gets none,
/// so the handshake fails rather than presenting another host's certificate.
#[derive(Default)]
pub struct CertResolver {
    table: RwLock<Arc<CertTable>>,
}

impl std::fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertResolver").finish_non_exhaustive()
    }
}

impl CertResolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves exactly `certs` from now on. A name two certificates claim goes
    /// to the one whose common name it is, else to the first in the list.
    /// A certificate that does not load is logged and left out; returns how
    /// many were loaded.
    pub fn replace(&self, certs: &[ServingCert]) -> usize {
        let mut table = CertTable::default();
        let mut loaded = Vec::new();
        for cert in certs {
            match certified_key(cert) {
                Ok(key) => loaded.push((cert, Arc::new(key))),
                Err(why) => {
                    tracing::warn!(names = ?cert.names, "TLS certificate not served: {why}")
                }
            }
        }
        // Common names (each certificate's first name) claim before SANs.
        let common = loaded
            .iter()
            .filter_map(|(cert, key)| cert.names.first().map(|name| (name, key)));
        let alternative = loaded
            .iter()
            .flat_map(|(cert, key)| cert.names.iter().skip(1).map(move |name| (name, key)));
        for (name, key) in common.chain(alternative) {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let (slot, name) = match name.strip_prefix("*.") {
                Some(parent) => (&mut table.wildcard, parent.to_string()),
                None => (&mut table.exact, name),
            };
            slot.entry(name).or_insert_with(|| key.clone());
        }
        let count = loaded.len();
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
        count
    }

    /// The certificate a handshake for `host` gets.
    pub fn find(&self, host: &str) -> Option<Arc<CertifiedKey>> {
        let table = self.table.read().unwrap_or_else(|e| e.into_inner()).clone();
        table.find(host)
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.find(hello.server_name()?)
    }
}

fn certified_key(cert: &ServingCert) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_slice_iter(cert.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate: {e}"))?;
    if chain.is_empty() {
        return Err("no certificate in the chain".into());
    }
    let key =
        PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).map_err(|e| format!("key: {e}"))?;
    let key = any_supported_type(&key).map_err(|e| format!("key: {e}"))?;
    let certified = CertifiedKey::new(chain, key);
    certified.keys_match().map_err(|e| e.to_string())?;
    Ok(certified)
}

/// The ring provider's suites and key exchanges. rustls marks it deprecated
/// because ring has no post-quantum key exchange; the build keeps to ring
/// (no C toolchain beyond ring's, one provider for every crate).
#[allow(deprecated)]
fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS acceptor answering by SNI from `resolver`, offering HTTP/1.1 by ALPN.
pub fn acceptor(resolver: Arc<CertResolver>) -> TlsAcceptor {
    let mut config = rustls::ServerConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default TLS versions")
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsAcceptor::from(Arc::new(config))
}

/// Loads every stored certificate into `resolver`, then again after each
/// certificate change, until the server's signals are dropped. Call it
/// once at start (spawned); the first load happens before the first wait.
pub async fn follow_certs(berth: Arc<Berth>, resolver: Arc<CertResolver>) {
    let mut changes = berth.signals.watch_certs();
    loop {
        changes.mark_unchanged();
        match berth.serving_certs().await {
            Ok(certs) => {
                let loaded = resolver.replace(&certs);
                tracing::debug!(loaded, "TLS certificates loaded");
            }
            // The table in use stays; the next change tries again.
            Err(e) => tracing::error!("loading TLS certificates failed: {e}"),
        }
        if changes.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn serving(names: &[&str]) -> ServingCert {
        let owned: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let pair = rcgen::generate_simple_self_signed(owned.clone()).unwrap();
        ServingCert {
            names: owned,
            chain_pem: pair.cert.pem(),
            key_pem: pair.signing_key.serialize_pem(),
        }
    }

    fn leaf(key: &CertifiedKey) -> Vec<u8> {
        key.cert[0].to_vec()
    }

    #[test]
    fn exact_names_then_one_label_wildcards() {
        let shop = serving(&["shop.example.com"]);
        let wild = serving(&["*.example.com", "example.com"]);
        let resolver = CertResolver::new();
        assert_eq!(resolver.replace(&[shop.clone(), wild.clone()]), 2);

        let shop_der = leaf(&resolver.find("shop.example.com").unwrap());
        let wild_der = leaf(&resolver.find("other.example.com").unwrap());
        assert_ne!(shop_der, wild_der);
        assert_eq!(leaf(&resolver.find("SHOP.example.com.").unwrap()), shop_der);
        assert_eq!(leaf(&resolver.find("example.com").unwrap()), wild_der);
        assert!(resolver.find("a.b.example.com").is_none());
        assert!(resolver.find("example.org").is_none());

        // Replacing drops what is no longer stored.
        resolver.replace(std::slice::from_ref(&wild));
        assert_eq!(leaf(&resolver.find("shop.example.com").unwrap()), wild_der);
        resolver.replace(&[]);
        assert!(resolver.find("shop.example.com").is_none());
    }

    #[test]
    fn a_common_name_wins_over_another_certificates_san() {
        let claims = serving(&["a.example.com", "b.example.com"]);
        let owner = serving(&["b.example.com"]);
        let resolver = CertResolver::new();
        resolver.replace(&[claims.clone(), owner.clone()]);
        let b = leaf(&resolver.find("b.example.com").unwrap());
        let a = leaf(&resolver.find("a.example.com").unwrap());
        assert_ne!(a, b);
    }

    #[test]
    fn a_certificate_that_does_not_load_is_left_out() {
        let good = serving(&["good.example.com"]);
        let mut mismatched = serving(&["bad.example.com"]);
        mismatched.key_pem = good.key_pem.clone();
        let resolver = CertResolver::new();
        assert_eq!(resolver.replace(&[good, mismatched]), 1);
        assert!(resolver.find("bad.example.com").is_none());
    }

    /// A real handshake: the client names a host by SNI and gets that
    /// host's certificate, and HTTP/1.1 by ALPN.
    #[tokio::test]
    async fn handshake_picks_the_certificate_by_sni() {
        let one = serving(&["one.example.com"]);
        let two = serving(&["two.example.com"]);
        let resolver = Arc::new(CertResolver::new());
        resolver.replace(&[one.clone(), two.clone()]);
        let acceptor = acceptor(resolver);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(tcp).await {
                        let mut buf = [0u8; 4];
                        let _ = tls.read_exact(&mut buf).await;
                        let _ = tls.write_all(b"pong").await;
                        let _ = tls.shutdown().await;
                    }
                });
            }
        });

        for (host, cert) in [("one.example.com", &one), ("two.example.com", &two)] {
            let host = host.to_string();
            let trusted = cert.chain_pem.clone();
            let (peer, alpn, answer) = tokio::task::spawn_blocking(move || {
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(CertificateDer::from_pem_slice(trusted.as_bytes()).unwrap())
                    .unwrap();
                let mut config = rustls::ClientConfig::builder_with_provider(ring_provider())
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                let name = ServerName::try_from(host).unwrap();
                let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
                let mut tcp = std::net::TcpStream::connect(addr).unwrap();
                let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
                tls.write_all(b"ping").unwrap();
                let mut answer = Vec::new();
                let _ = tls.read_to_end(&mut answer);
                let peer = conn.peer_certificates().unwrap()[0].to_vec();
                let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
                (peer, alpn, answer)
            })
            .await
            .unwrap();
            let expected = CertificateDer::from_pem_slice(cert.chain_pem.as_bytes()).unwrap();
            assert_eq!(peer, expected.to_vec());
            assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
            assert_eq!(answer, b"pong");
        }

        // An unknown name gets no certificate: the handshake fails.
        let failed = tokio::task::spawn_blocking(move || {
            let config = rustls::ClientConfig::builder_with_provider(ring_provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            let name = ServerName::try_from("three.example.com").unwrap();
            let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
            let mut tcp = std::net::TcpStream::connect(addr).unwrap();
            rustls::Stream::new(&mut conn, &mut tcp)
                .write_all(b"ping")
                .is_err()
        })
        .await
        .unwrap();
        assert!(failed);
    }

    /// [`follow_certs`] loads what is stored at start and again after each
    /// change made through the use cases.
    #[tokio::test]
    async fn the_resolver_follows_certificate_changes() {
        use berth_core::signals::Signals;
        use berth_core::store::Store;

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/berth.db", dir.path().display());
        let store: Arc<dyn Store> =
            Arc::new(berth_store::SqliteStore::connect(&url).await.unwrap());
        let datasets = Arc::new(berth_store::datasets::FolderDatasets::new(
            dir.path().join("datasets"),
        ));
        let berth = Arc::new(Berth::new(
            store.clone(),
            Arc::new(berth_runtime::FakeRuntime::with_images(["busybox:latest"])),
            datasets,
            Arc::new(berth_store::volume_files::FolderVolumeFiles::new(
                dir.path().join("pod-volumes"),
            )),
            Arc::new(Signals::default()),
            Default::default(),
        ));
        let alice = store.create_user("alice", "", "x").await.unwrap();
        let first = serving(&["one.example.com"]);
        berth
            .add_cert(&alice, &first.chain_pem, &first.key_pem, None)
            .await
            .unwrap();

        let resolver = Arc::new(CertResolver::new());
        let follower = tokio::spawn(follow_certs(berth.clone(), resolver.clone()));
        let until = |host: &'static str, present: bool| {
            let resolver = resolver.clone();
            async move {
                for _ in 0..200 {
                    if resolver.find(host).is_some() == present {
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                panic!("{host} never became {present}");
            }
        };
        until("one.example.com", true).await;

        let second = serving(&["two.example.com"]);
        berth
            .add_cert(&alice, &second.chain_pem, &second.key_pem, None)
            .await
            .unwrap();
        until("two.example.com", true).await;
        berth.remove_cert(&alice, "one.example.com").await.unwrap();
        until("one.example.com", false).await;
        follower.abort();
    }
}
