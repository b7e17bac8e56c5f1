//! TLS certificates for the router: the rules that read a PEM certificate
//! and key a user sends (names, expiry, whether the key belongs to the
//! certificate) and the use cases behind Deis's `/v1/certs`.
//!
//! Who may see a certificate: its owner and administrators. Everyone else
//! is told it does not exist, as Deis v1 filtered certificates by owner.

use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{CoreError, CoreResult, OnConflict};
use crate::model::{Certificate, ServingCert, Timestamp, User, now};
use crate::rules;
use crate::service::Berth;
use crate::store::Page;

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The subject's common name, if it has one.
    pub common_name: Option<String>,
    /// The DNS names of its subject-alternative-name extension, lower case.
    pub san: Vec<String>,
    pub expires: Timestamp,
}

/// Reads a PEM certificate chain (leaf first) and checks that the PEM
/// private key is the leaf's. Refuses, naming the field at fault, a chain
/// or key that does not parse and a key of another certificate.
pub fn inspect(chain_pem: &str, key_pem: &str) -> CoreResult<CertFacts> {
    let bad_certificate = || {
        CoreError::invalid_field(
            "certificate",
            "Could not read the certificate: give an X.509 certificate in PEM",
        )
    };
    let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad_certificate())?;
    let leaf = chain.first().ok_or_else(bad_certificate)?;
    let (_, parsed) = X509Certificate::from_der(leaf).map_err(|_| bad_certificate())?;
    let facts = facts_of(&parsed).ok_or_else(bad_certificate)?;

    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| {
        CoreError::invalid_field(
            "key",
            "Could not read the private key: give an RSA, ECDSA or Ed25519 key in PEM",
        )
    })?;
    let signing_key = any_supported_type(&key).map_err(|_| {
        CoreError::invalid_field(
            "key",
            "The private key is of a kind that cannot serve TLS (RSA, ECDSA P-256/P-384 or Ed25519)",
        )
    })?;
    CertifiedKey::new(chain, signing_key)
        .keys_match()
        .map_err(|_| CoreError::invalid_field("key", "The key does not match the certificate"))?;
    Ok(facts)
}

fn facts_of(cert: &X509Certificate<'_>) -> Option<CertFacts> {
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(|cn| cn.trim().to_ascii_lowercase())
        .filter(|cn| !cn.is_empty());
    let san = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some(dns.trim().to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        Ok(None) => Vec::new(),
        Err(_) => return None,
    };
    Some(CertFacts {
        common_name,
        san,
        expires: cert.validity().not_after.to_datetime(),
    })
}

/// The host name a certificate is filed under: the one asked for, else its
/// subject's common name when that is a host name, else its first SAN.
fn common_name_for(asked: Option<&str>, facts: &CertFacts) -> CoreResult<String> {
    if let Some(asked) = asked.map(str::trim).filter(|n| !n.is_empty()) {
        let name = asked.to_ascii_lowercase();
        rules::validate_hostname(&name).map_err(|_| {
            CoreError::invalid_field(
                "common_name",
                format!("Common name does not look like a host name: {name}"),
            )
        })?;
        return Ok(name);
    }
    facts
        .common_name
        .iter()
        .chain(&facts.san)
        .find(|name| rules::validate_hostname(name).is_ok())
        .cloned()
        .ok_or_else(|| {
            CoreError::invalid_field(
                "common_name",
                "The certificate names no host; give a common_name",
            )
        })
}

/// The owner and administrators may act on a certificate; to anyone else it
/// does not exist.
fn visible_to(actor: &User, cert: &Certificate) -> bool {
    actor.is_admin || cert.owner == actor.username
}

fn cert_not_found(common_name: &str) -> CoreError {
    CoreError::not_found(format!("certificate {common_name} not found"))
}

impl Berth {
    /// Adds a certificate (PEM chain, leaf first) and its PEM private key,
    /// filed under `common_name` or the name the certificate gives.
    pub async fn add_cert(
        &self,
        actor: &User,
        chain_pem: &str,
        key_pem: &str,
        common_name: Option<&str>,
    ) -> CoreResult<Certificate> {
        if chain_pem.trim().is_empty() {
            return Err(CoreError::blank_field("certificate"));
        }
        if key_pem.trim().is_empty() {
            return Err(CoreError::blank_field("key"));
        }
        let facts = inspect(chain_pem, key_pem)?;
        let name = common_name_for(common_name, &facts)?;
        let cert = Certificate {
            common_name: name.clone(),
            owner: actor.username.clone(),
            san: facts.san,
            expires: facts.expires,
            created: now(),
        };
        self.store
            .add_cert(actor.id, &cert, chain_pem.trim(), key_pem.trim())
            .await
            .on_conflict(|| {
                CoreError::invalid_field(
                    "common_name",
                    format!("Certificate with this common name already exists: {name}"),
                )
            })?;
        self.signals.certs_changed();
        Ok(cert)
    }

    /// The certificates `actor` may see: an administrator's are everyone's.
    pub async fn list_certs(
        &self,
        actor: &User,
        offset: i64,
        limit: i64,
    ) -> CoreResult<Page<Certificate>> {
        let owner = (!actor.is_admin).then_some(actor.username.as_str());
        Ok(self.store.list_certs(owner, offset, limit).await?)
    }

    pub async fn cert(&self, actor: &User, common_name: &str) -> CoreResult<Certificate> {
        let name = common_name.to_ascii_lowercase();
        match self.store.cert(&name).await? {
            Some(cert) if visible_to(actor, &cert) => Ok(cert),
            _ => Err(cert_not_found(common_name)),
        }
    }

    pub async fn remove_cert(&self, actor: &User, common_name: &str) -> CoreResult<()> {
        let cert = self.cert(actor, common_name).await?;
        if !self.store.remove_cert(&cert.common_name).await? {
            return Err(cert_not_found(common_name));
        }
        self.signals.certs_changed();
        Ok(())
    }

    /// Every stored certificate with its key, for the TLS listener to load
    /// at start and after each [`crate::signals::Signals::watch_certs`] wake.
    /// For the server's own use: no dialect answers with it.
    pub async fn serving_certs(&self) -> CoreResult<Vec<ServingCert>> {
        Ok(self.store.serving_certs().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(names: &[&str]) -> rcgen::CertifiedKey<rcgen::KeyPair> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        rcgen::generate_simple_self_signed(names).unwrap()
    }

    #[test]
    fn reads_names_and_expiry_of_a_matching_pair() {
        let pair = self_signed(&["shop.example.com", "www.example.com"]);
        let facts = inspect(&pair.cert.pem(), &pair.signing_key.serialize_pem()).unwrap();
        assert_eq!(facts.san, ["shop.example.com", "www.example.com"]);
        assert!(facts.expires > now());
        // rcgen's subject is "rcgen self signed cert", no host: the first SAN files it.
        assert_eq!(common_name_for(None, &facts).unwrap(), "shop.example.com");
        assert_eq!(
            common_name_for(Some(" WWW.example.com "), &facts).unwrap(),
            "www.example.com"
        );
    }

    #[test]
    fn refuses_a_key_of_another_certificate() {
        let one = self_signed(&["a.example.com"]);
        let other = self_signed(&["a.example.com"]);
        let err = inspect(&one.cert.pem(), &other.signing_key.serialize_pem()).unwrap_err();
        assert!(matches!(err, CoreError::Invalid { field: Some(f), .. } if f == "key"));
    }

    #[test]
    fn refuses_what_is_not_pem() {
        let pair = self_signed(&["a.example.com"]);
        let key = pair.signing_key.serialize_pem();
        for bad in [
            "",
            "hello",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            let err = inspect(bad, &key).unwrap_err();
            assert!(
                matches!(&err, CoreError::Invalid { field: Some(f), .. } if f == "certificate"),
                "{bad:?}: {err:?}"
            );
        }
        let err = inspect(&pair.cert.pem(), "not a key").unwrap_err();
        assert!(matches!(err, CoreError::Invalid { field: Some(f), .. } if f == "key"));
    }

    #[test]
    fn a_common_name_must_be_a_host_name() {
        let facts = CertFacts {
            common_name: None,
            san: Vec::new(),
            expires: now(),
        };
        assert!(common_name_for(None, &facts).is_err());
        assert!(common_name_for(Some("not a host"), &facts).is_err());
        assert_eq!(
            common_name_for(Some("*.example.com"), &facts).unwrap(),
            "*.example.com"
        );
    }
}
