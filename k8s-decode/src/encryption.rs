//! Encryption at rest: values kube-apiserver stored as `k8s:enc:<provider>:…`, decrypted
//! offline with the keys of its EncryptionConfiguration (FORMATS.md §5).
//!
//! The API server picks, per resource, an ordered list of providers; on read it tries every
//! one whose prefix matches, and a failure is not final, since keys overlap during
//! rotation. [`EncryptionKeys::decrypt`] does the same over every key of the file: the
//! prefix names the provider and the key, and the result must authenticate (AES-GCM,
//! secretbox) or, for AES-CBC, which has no MAC, unpad and read as a stored Kubernetes value.
//! KMS providers seal their data keys with a key that never leaves the KMS, so their values
//! cannot be read offline; they get an error that says so.
//!
//! Key material never appears in errors or `Debug` output.

use std::fmt;

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};
use base64_simd::STANDARD;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::decode::escape_prefix;

/// What every encrypted value starts with.
pub const ENCRYPTED_PREFIX: &[u8] = b"k8s:enc:";

/// Whether a stored value is encrypted at rest.
pub fn is_encrypted(value: &[u8]) -> bool {
    value.starts_with(ENCRYPTED_PREFIX)
}

/// What an encrypted value's prefix says: `k8s:enc:<provider>:<version>:<key name>:…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EncryptedWith {
    /// `aescbc`, `aesgcm`, `secretbox`, `kms`, …
    pub provider: String,
    /// `v1`, or `v2` for KMS v2.
    pub version: String,
    /// The key's (or KMS provider's) name, as far as it can be read without the
    /// configuration: names may themselves contain `:`, so this is the text up to the next
    /// `:`.
    pub key_name: String,
}

impl EncryptedWith {
    /// The prefix of an encrypted value; `None` when the value is not encrypted.
    pub fn read(value: &[u8]) -> Option<EncryptedWith> {
        let rest = value.strip_prefix(ENCRYPTED_PREFIX)?;
        let mut parts = rest.splitn(4, |&b| b == b':');
        let mut next = || escape_prefix(parts.next().unwrap_or_default(), 64);
        Some(EncryptedWith { provider: next(), version: next(), key_name: next() })
    }
}

/// The keys of a kube-apiserver EncryptionConfiguration, in the file's order.
#[derive(Debug, Clone, Default)]
pub struct EncryptionKeys {
    providers: Vec<Provider>,
}

#[derive(Debug, Clone)]
enum Provider {
    AesCbc(Vec<NamedKey>),
    AesGcm(Vec<NamedKey>),
    Secretbox(Vec<NamedKey>),
    Kms { version: KmsVersion, name: String },
    Identity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KmsVersion {
    V1,
    V2,
}

impl fmt::Display for KmsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KmsVersion::V1 => "v1",
            KmsVersion::V2 => "v2",
        })
    }
}

#[derive(Clone)]
struct NamedKey {
    name: String,
    /// Wiped when dropped.
    secret: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for NamedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NamedKey {{ name: {:?}, secret: <{} bytes> }}", self.name, self.secret.len())
    }
}

/// The providers whose values carry a key name, with the prefix (after `k8s:enc:`) that
/// names them and the key sizes the API server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cipher {
    AesCbc,
    AesGcm,
    Secretbox,
}

impl Cipher {
    fn name(self) -> &'static str {
        match self {
            Cipher::AesCbc => "aescbc",
            Cipher::AesGcm => "aesgcm",
            Cipher::Secretbox => "secretbox",
        }
    }

    fn key_sizes(self) -> &'static [usize] {
        match self {
            Cipher::AesCbc | Cipher::AesGcm => &[16, 24, 32],
            Cipher::Secretbox => &[32],
        }
    }
}

/// The EncryptionConfiguration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("encryption config: {at}: {reason}")]
pub struct EncryptionConfigError {
    /// Where in the file, as a path (`resources[0].providers[1].aescbc.keys[0].secret`).
    pub at: String,
    pub reason: String,
}

fn config_error(at: impl Into<String>, reason: impl Into<String>) -> EncryptionConfigError {
    EncryptionConfigError { at: at.into(), reason: reason.into() }
}

/// An encrypted value could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// No key of the configuration has the provider and name in the value's prefix.
    #[error(
        "value is encrypted with provider {provider:?}, key {key_name:?}, which the encryption config does not have"
    )]
    NoKey { provider: String, key_name: String },
    /// Every key of that provider and name failed.
    #[error("value is encrypted with provider {provider:?}, key {key_name:?}; decrypting it failed: {reason}")]
    Failed { provider: String, key_name: String, reason: String },
    /// A KMS provider: the data key is sealed by the KMS.
    #[error(
        "value is encrypted by KMS {version} provider {name:?}; its data key is sealed by the KMS, \
         so it cannot be decrypted offline"
    )]
    Kms { version: String, name: String },
    /// Not a provider the API server writes.
    #[error("value is encrypted with an unknown provider; prefix: {prefix}")]
    UnknownProvider { prefix: String },
}

impl EncryptionKeys {
    /// Read a parsed EncryptionConfiguration (`apiserver.config.k8s.io/v1`, or the legacy
    /// `v1` `EncryptionConfig`): every provider of every resource, in order.
    pub fn from_config(config: &Value) -> Result<EncryptionKeys, EncryptionConfigError> {
        let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind != "EncryptionConfiguration" && kind != "EncryptionConfig" {
            return Err(config_error("kind", format!("{kind:?} is not EncryptionConfiguration")));
        }
        let resources = config
            .get("resources")
            .and_then(Value::as_array)
            .ok_or_else(|| config_error("resources", "missing or not a list"))?;
        let mut providers = Vec::new();
        for (r, resource) in resources.iter().enumerate() {
            let at = format!("resources[{r}].providers");
            let list = resource
                .get("providers")
                .and_then(Value::as_array)
                .ok_or_else(|| config_error(at.clone(), "missing or not a list"))?;
            for (p, provider) in list.iter().enumerate() {
                providers.push(read_provider(provider, &format!("{at}[{p}]"))?);
            }
        }
        Ok(EncryptionKeys { providers })
    }

    /// Decrypt a value stored at `etcd_key` (AES-GCM authenticates the key: a value copied
    /// to another key does not decrypt). The plaintext is the stored value the API server
    /// encrypted: `k8s\0` protobuf, JSON or CBOR.
    pub fn decrypt(&self, etcd_key: &[u8], value: &[u8]) -> Result<Vec<u8>, DecryptError> {
        let rest = value.strip_prefix(ENCRYPTED_PREFIX).ok_or_else(|| unknown(value))?;
        for (prefix, version) in [(&b"kms:v1:"[..], KmsVersion::V1), (b"kms:v2:", KmsVersion::V2)] {
            if let Some(named) = rest.strip_prefix(prefix) {
                let name = self
                    .kms_names(version)
                    .find(|name| named.starts_with(name.as_bytes()) && named.get(name.len()) == Some(&b':'))
                    .map_or_else(|| EncryptedWith::read(value).unwrap_or_default().key_name, str::to_string);
                return Err(DecryptError::Kms { version: version.to_string(), name });
            }
        }
        let (cipher, named) = [Cipher::AesCbc, Cipher::AesGcm, Cipher::Secretbox]
            .into_iter()
            .find_map(|cipher| Some((cipher, rest.strip_prefix(cipher.name().as_bytes())?.strip_prefix(b":v1:")?)))
            .ok_or_else(|| unknown(value))?;
        let mut tried = None;
        for key in self.keys(cipher) {
            let Some(payload) = named.strip_prefix(key.name.as_bytes()).and_then(|p| p.strip_prefix(b":")) else {
                continue;
            };
            match open(cipher, &key.secret, etcd_key, payload) {
                Ok(plain) if looks_stored(&plain) => return Ok(plain),
                // The first failure in the file's order is reported, as the key the API
                // server would have tried first.
                Ok(_) => {
                    _ = tried.get_or_insert((&key.name, "the result is not a stored Kubernetes value (wrong key?)"))
                }
                Err(reason) => _ = tried.get_or_insert((&key.name, reason)),
            }
        }
        match tried {
            Some((name, reason)) => Err(DecryptError::Failed {
                provider: cipher.name().into(),
                key_name: name.clone(),
                reason: reason.into(),
            }),
            None => Err(DecryptError::NoKey {
                provider: cipher.name().into(),
                key_name: EncryptedWith::read(value).unwrap_or_default().key_name,
            }),
        }
    }

    fn keys(&self, cipher: Cipher) -> impl Iterator<Item = &NamedKey> {
        self.providers.iter().flat_map(move |p| match (p, cipher) {
            (Provider::AesCbc(keys), Cipher::AesCbc)
            | (Provider::AesGcm(keys), Cipher::AesGcm)
            | (Provider::Secretbox(keys), Cipher::Secretbox) => keys.as_slice(),
            _ => &[],
        })
    }

    fn kms_names(&self, version: KmsVersion) -> impl Iterator<Item = &str> {
        self.providers.iter().filter_map(move |p| match p {
            Provider::Kms { version: v, name } if *v == version => Some(name.as_str()),
            _ => None,
        })
    }
}

fn read_provider(provider: &Value, at: &str) -> Result<Provider, EncryptionConfigError> {
    let map = provider.as_object().ok_or_else(|| config_error(at, "not a map"))?;
    let [(kind, body)] = map.iter().collect::<Vec<_>>()[..] else {
        return Err(config_error(at, "a provider names exactly one type"));
    };
    let at = format!("{at}.{kind}");
    let cipher = match kind.as_str() {
        "aescbc" => Cipher::AesCbc,
        "aesgcm" => Cipher::AesGcm,
        "secretbox" => Cipher::Secretbox,
        "identity" => return Ok(Provider::Identity),
        "kms" => {
            let name = body.get("name").and_then(Value::as_str).ok_or_else(|| config_error(&at, "no name"))?;
            let version = match body.get("apiVersion").and_then(Value::as_str).unwrap_or("v1") {
                "v1" => KmsVersion::V1,
                "v2" => KmsVersion::V2,
                other => {
                    return Err(config_error(format!("{at}.apiVersion"), format!("unknown KMS version {other:?}")))
                }
            };
            return Ok(Provider::Kms { version, name: name.to_string() });
        }
        other => return Err(config_error(at.clone(), format!("unknown provider type {other:?}"))),
    };
    let keys = body.get("keys").and_then(Value::as_array).ok_or_else(|| config_error(&at, "no keys"))?;
    let mut named = Vec::with_capacity(keys.len());
    for (k, key) in keys.iter().enumerate() {
        let at = format!("{at}.keys[{k}]");
        let name = key.get("name").and_then(Value::as_str).filter(|n| !n.is_empty());
        let name = name.ok_or_else(|| config_error(&at, "no name"))?;
        let secret = key.get("secret").and_then(Value::as_str).ok_or_else(|| config_error(&at, "no secret"))?;
        // The secret itself is never quoted back.
        let secret = Zeroizing::new(
            STANDARD
                .decode_to_vec(secret.trim())
                .map_err(|_| config_error(format!("{at}.secret"), "not valid base64"))?,
        );
        if !cipher.key_sizes().contains(&secret.len()) {
            return Err(config_error(
                format!("{at}.secret"),
                format!("{} bytes; {} takes {:?}", secret.len(), cipher.name(), cipher.key_sizes()),
            ));
        }
        named.push(NamedKey { name: name.to_string(), secret });
    }
    Ok(match cipher {
        Cipher::AesCbc => Provider::AesCbc(named),
        Cipher::AesGcm => Provider::AesGcm(named),
        Cipher::Secretbox => Provider::Secretbox(named),
    })
}

/// Decrypt one payload (what follows `…:<key name>:`).
fn open(cipher: Cipher, key: &[u8], etcd_key: &[u8], payload: &[u8]) -> Result<Vec<u8>, &'static str> {
    match cipher {
        // IV (16) || AES-CBC(PKCS#7-padded plaintext); no MAC.
        Cipher::AesCbc => {
            let (iv, data) = payload.split_at_checked(16).ok_or("shorter than its IV")?;
            if data.is_empty() || data.len() % 16 != 0 {
                return Err("ciphertext is not a whole number of blocks");
            }
            let unpadded = match key.len() {
                16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                    .map(|d| d.decrypt_padded_vec_mut::<Pkcs7>(data)),
                24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
                    .map(|d| d.decrypt_padded_vec_mut::<Pkcs7>(data)),
                _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                    .map(|d| d.decrypt_padded_vec_mut::<Pkcs7>(data)),
            };
            unpadded.map_err(|_| "bad key size")?.map_err(|_| "bad padding (wrong key or damaged value)")
        }
        // nonce (12) || ciphertext || tag (16), the etcd key as authenticated data.
        Cipher::AesGcm => {
            let (nonce, data) = payload.split_at_checked(12).ok_or("shorter than its nonce")?;
            let nonce = aes_gcm::Nonce::from_slice(nonce);
            let sealed = Payload { msg: data, aad: etcd_key };
            let opened = match key.len() {
                16 => Aes128Gcm::new_from_slice(key).map(|c| c.decrypt(nonce, sealed)),
                24 => AesGcm::<aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(key)
                    .map(|c| c.decrypt(nonce, sealed)),
                _ => Aes256Gcm::new_from_slice(key).map(|c| c.decrypt(nonce, sealed)),
            };
            opened.map_err(|_| "bad key size")?.map_err(|_| {
                "authentication failed (wrong key, damaged value, or a value copied from another etcd key)"
            })
        }
        // nonce (24) || Poly1305 tag (16) || XSalsa20 ciphertext.
        Cipher::Secretbox => {
            let (nonce, sealed) = payload.split_at_checked(24).ok_or("shorter than its nonce")?;
            let boxed = crypto_secretbox::XSalsa20Poly1305::new_from_slice(key).map_err(|_| "bad key size")?;
            boxed
                .decrypt(crypto_secretbox::Nonce::from_slice(nonce), sealed)
                .map_err(|_| "authentication failed (wrong key or damaged value)")
        }
    }
}

/// What the API server encrypts: a stored value, protobuf (`k8s\0`), JSON or CBOR (the
/// self-describe tag). AES-CBC has no MAC, so this is what tells a wrong key.
fn looks_stored(plain: &[u8]) -> bool {
    plain.starts_with(b"k8s\0") || plain.starts_with(b"{") || plain.starts_with(&[0xd9, 0xd9, 0xf7])
}

fn unknown(value: &[u8]) -> DecryptError {
    DecryptError::UnknownProvider { prefix: escape_prefix(&value[..value.len().min(40)], 40) }
}

#[cfg(test)]
mod tests;
