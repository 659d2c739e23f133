//! Web Push as plain functions: a message encrypted for one browser (RFC 8291, the `aes128gcm`
//! content coding of RFC 8188) and the VAPID authorization that tells the push service who sends
//! it (RFC 8292). No HTTP here: the delivery worker sends what these make.

use aes_gcm::Aes128Gcm;
use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use sha2::Sha256;

/// The record size announced in the header. One record holds the whole message.
pub const RECORD_SIZE: u32 = 4096;
/// A browser's key (`p256dh`): an uncompressed P-256 point.
pub const P256DH_LEN: usize = 65;
/// A browser's authentication secret (`auth`).
pub const AUTH_LEN: usize = 16;
/// The longest message push services must take (RFC 8030 §7.2), header and tag included.
const MAX_BODY: usize = 4096;
/// salt (16), record size (4), key id length (1), key id (65).
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    #[error("the subscription's p256dh is not an uncompressed P-256 point")]
    BadKey,
    #[error("the subscription's auth secret is not 16 bytes")]
    BadAuth,
    #[error("the message is too long for one push")]
    TooLong,
    #[error("the VAPID private key is not a P-256 scalar")]
    BadVapidKey,
}

/// Decodes base64url, padded or not, as browsers and operators write it.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A browser's public key, checked to be a point on the curve.
pub fn browser_key(p256dh: &[u8]) -> Result<PublicKey, PushError> {
    if p256dh.len() != P256DH_LEN || p256dh[0] != 4 {
        return Err(PushError::BadKey);
    }
    PublicKey::from_sec1_bytes(p256dh).map_err(|_| PushError::BadKey)
}

/// A fresh P-256 key: 32 random bytes, drawn again in the rare case they are not a scalar.
fn random_key() -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        if let Ok(key) = SecretKey::from_slice(&bytes) {
            return key;
        }
    }
}

/// Encrypts `plaintext` for the browser whose key is `p256dh` and whose secret is `auth`, with a
/// fresh key pair and salt: the body of a push message.
pub fn encrypt(plaintext: &[u8], p256dh: &[u8], auth: &[u8]) -> Result<Vec<u8>, PushError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    encrypt_with(plaintext, p256dh, auth, &random_key(), salt)
}

/// RFC 8291 §3.4, with the sender's (application server's) key and salt given.
pub fn encrypt_with(
    plaintext: &[u8],
    p256dh: &[u8],
    auth: &[u8],
    sender: &SecretKey,
    salt: [u8; 16],
) -> Result<Vec<u8>, PushError> {
    let browser = browser_key(p256dh)?;
    if auth.len() != AUTH_LEN {
        return Err(PushError::BadAuth);
    }
    if HEADER_LEN + plaintext.len() + 1 + TAG_LEN > MAX_BODY {
        return Err(PushError::TooLong);
    }
    let sender_public = sender.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), browser.as_affine());
    // The input keying material: the ECDH secret mixed with the browser's auth secret.
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(p256dh);
    key_info.extend_from_slice(sender_public.as_bytes());
    let mut ikm = [0u8; 32];
    expand(Some(auth), shared.raw_secret_bytes(), &key_info, &mut ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    expand(
        Some(&salt),
        &ikm,
        b"Content-Encoding: aes128gcm\0",
        &mut cek,
    );
    expand(Some(&salt), &ikm, b"Content-Encoding: nonce\0", &mut nonce);
    // One record, the last: its padding delimiter is 2.
    let mut record = plaintext.to_vec();
    record.push(2);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|_| PushError::BadKey)?;
    let sealed = cipher
        .encrypt(&nonce.into(), record.as_slice())
        .map_err(|_| PushError::TooLong)?;
    let mut body = Vec::with_capacity(HEADER_LEN + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(sender_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// HKDF-SHA256: extract with `salt`, expand with `info` into `out` (at most 32 bytes here, so it
/// can't fail).
fn expand(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], out: &mut [u8]) {
    let hk = Hkdf::<Sha256>::new(salt, ikm);
    if hk.expand(info, out).is_err() {
        unreachable!("HKDF-SHA256 expands to 32 bytes and more");
    }
}

pub const MAX_ENDPOINT_CHARS: usize = 2000;

/// A push endpoint: an absolute https URL with a host on the public internet (http too, and
/// private addresses, only where `targets` allows private addresses: local testing). The same
/// rules as a webhook's, and like a webhook's, a name is checked again on every address it
/// resolves to when a message is sent.
pub fn check_endpoint(
    invalid: &mut super::Invalid,
    field: &str,
    endpoint: &str,
    targets: super::targets::Targets,
) {
    if endpoint.chars().count() > MAX_ENDPOINT_CHARS {
        invalid.add(
            field,
            format!("must be at most {MAX_ENDPOINT_CHARS} characters"),
        );
        return;
    }
    let Ok(url) = url::Url::parse(endpoint) else {
        invalid.add(field, "must be an absolute https URL");
        return;
    };
    let scheme_ok = targets.allows_scheme(url.scheme());
    if !scheme_ok {
        invalid.add(field, "must be an https URL");
    } else if !url.username().is_empty() || url.password().is_some() {
        invalid.add(field, "must not hold a user name or password");
    } else if !url.host().is_some_and(|h| targets.allows_host(&h)) {
        invalid.add(field, "must be on the public internet");
    }
}

/// The browser's keys, decoded and checked: `p256dh` a P-256 point, `auth` 16 bytes.
pub fn check_keys(
    invalid: &mut super::Invalid,
    field: &str,
    p256dh: &str,
    auth: &str,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let key = decode(p256dh).filter(|k| browser_key(k).is_ok());
    let secret = decode(auth).filter(|a| a.len() == AUTH_LEN);
    invalid.check(
        key.is_some(),
        &format!("{field}.p256dh"),
        "must be base64url of an uncompressed P-256 point (65 bytes)",
    );
    invalid.check(
        secret.is_some(),
        &format!("{field}.auth"),
        "must be base64url of 16 bytes",
    );
    Some((key?, secret?))
}

/// The application server's VAPID identity: its key, and a contact for the push service.
#[derive(Clone)]
pub struct Vapid {
    key: SigningKey,
    subject: String,
}

/// Never the key, not even in a debug print.
impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key())
            .field("subject", &self.subject)
            .finish()
    }
}

/// How long a VAPID token is good for: RFC 8292 allows at most 24 hours.
pub const VAPID_TOKEN_LIFETIME_SECS: i64 = 12 * 3600;

impl Vapid {
    /// The identity of a base64url raw P-256 scalar (32 bytes) and a `mailto:` or `https:`
    /// subject.
    pub fn new(private_key: &str, subject: &str) -> Result<Vapid, String> {
        let key = decode(private_key.trim())
            .and_then(|b| SigningKey::from_slice(&b).ok())
            .ok_or_else(|| PushError::BadVapidKey.to_string())?;
        if !(subject.starts_with("mailto:") || subject.starts_with("https:")) {
            return Err("the VAPID subject must be a mailto: or https: URL".into());
        }
        Ok(Vapid {
            key,
            subject: subject.to_string(),
        })
    }

    /// A new random identity (the demo's).
    pub fn generate(subject: &str) -> Vapid {
        Vapid {
            key: SigningKey::from(random_key()),
            subject: subject.to_string(),
        }
    }

    /// The private key, base64url, to keep (the demo keeps it beside its data).
    pub fn private_key(&self) -> String {
        encode(&self.key.to_bytes())
    }

    /// The public key, base64url of the uncompressed point: the `applicationServerKey` a browser
    /// subscribes with, and the `k` of the authorization.
    pub fn public_key(&self) -> String {
        encode(self.key.verifying_key().to_encoded_point(false).as_bytes())
    }

    /// The `Authorization` header for a message to `endpoint`'s push service at `now` (Unix
    /// seconds): `vapid t=<ES256 JWT>, k=<public key>`. The token's audience is the endpoint's
    /// origin.
    pub fn authorization(&self, endpoint: &url::Url, now: i64) -> String {
        let header = encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": endpoint.origin().ascii_serialization(),
            "exp": now + VAPID_TOKEN_LIFETIME_SECS,
            "sub": self.subject,
        });
        let signing_input = format!("{header}.{}", encode(claims.to_string().as_bytes()));
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        let token = format!("{signing_input}.{}", encode(&signature.to_bytes()));
        format!("vapid t={token}, k={}", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        decode(s).unwrap()
    }

    /// RFC 8291, Appendix A: the message, keys and salt given there make exactly its body.
    #[test]
    fn rfc_8291_appendix_a() {
        let sender =
            SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let p256dh = b64(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        );
        let auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(
            b"When I grow up, I want to be a watermelon",
            &p256dh,
            &auth,
            &sender,
            salt,
        )
        .unwrap();
        assert_eq!(
            encode(&body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn bad_browser_keys_and_long_messages_are_refused() {
        let p256dh = b64(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        );
        let auth = [7u8; 16];
        assert!(encrypt(b"hi", &p256dh, &auth).is_ok());
        let mut off_curve = p256dh.clone();
        off_curve[64] ^= 1;
        assert_eq!(encrypt(b"hi", &off_curve, &auth), Err(PushError::BadKey));
        assert_eq!(encrypt(b"hi", &p256dh[..33], &auth), Err(PushError::BadKey));
        assert_eq!(
            encrypt(b"hi", &p256dh, &auth[..15]),
            Err(PushError::BadAuth)
        );
        let longest = vec![b'x'; MAX_BODY - HEADER_LEN - 1 - TAG_LEN];
        assert_eq!(encrypt(&longest, &p256dh, &auth).unwrap().len(), MAX_BODY);
        let longer = vec![b'x'; longest.len() + 1];
        assert_eq!(encrypt(&longer, &p256dh, &auth), Err(PushError::TooLong));
    }

    #[test]
    fn the_vapid_token_is_signed_for_the_push_services_origin() {
        let vapid = Vapid::generate("mailto:ops@clinic.example");
        let again = Vapid::new(&vapid.private_key(), "mailto:ops@clinic.example").unwrap();
        assert_eq!(again.public_key(), vapid.public_key());
        let endpoint = url::Url::parse("https://push.example.net:8443/wpush/v2/abc?x=1").unwrap();
        let header = vapid.authorization(&endpoint, 1_800_000_000);
        let (t, k) = header
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .unwrap();
        assert_eq!(k, vapid.public_key());
        let (signed, signature) = t.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&b64(k)).unwrap();
        let signature = Signature::from_slice(&b64(signature)).unwrap();
        assert!(key.verify(signed.as_bytes(), &signature).is_ok());
        let claims: serde_json::Value =
            serde_json::from_slice(&b64(signed.split_once('.').unwrap().1)).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1_800_000_000 + VAPID_TOKEN_LIFETIME_SECS);
        assert_eq!(claims["sub"], "mailto:ops@clinic.example");
    }

    #[test]
    fn endpoints_are_https_on_the_public_internet() {
        use crate::domain::Invalid;
        use crate::domain::targets::Targets;
        let public = Targets::default();
        let private = Targets {
            allow_private: true,
        };
        let check = |url: &str, targets| {
            let mut invalid = Invalid::default();
            check_endpoint(&mut invalid, "endpoint", url, targets);
            invalid.0.is_empty()
        };
        assert!(check(
            "https://fcm.googleapis.com/fcm/send/abc:APA91b-x_y",
            public
        ));
        assert!(!check("http://fcm.googleapis.com/fcm/send/abc", public));
        assert!(check("http://127.0.0.1:9000/push/1", private));
        assert!(!check("https://127.0.0.1:9000/push/1", public));
        assert!(!check("https://10.0.0.8/push/1", public));
        assert!(!check("https://localhost/push/1", public));
        assert!(!check("https://user:pw@push.example.net/1", public));
        assert!(!check("ftp://push.example.net/1", private));
        assert!(!check("/relative", public));
        let long = format!("https://push.example.net/{}", "a".repeat(2000));
        assert!(!check(&long, public));
    }

    #[test]
    fn keys_are_decoded_and_checked() {
        use crate::domain::Invalid;
        let p256dh = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let mut invalid = Invalid::default();
        let keys = check_keys(&mut invalid, "keys", p256dh, "BTBZMqHH6r4Tts7J_aSIgg==");
        assert_eq!(keys.map(|(k, a)| (k.len(), a.len())), Some((65, 16)));
        assert!(invalid.0.is_empty());
        let keys = check_keys(&mut invalid, "keys", &p256dh[..86], "BTBZMqHH6r4Tts7J_aSI");
        assert!(keys.is_none());
        let fields: Vec<_> = invalid.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["keys.p256dh", "keys.auth"]);
    }

    #[test]
    fn vapid_settings_are_checked_and_the_key_is_never_printed() {
        let vapid = Vapid::generate("mailto:ops@clinic.example");
        let private = vapid.private_key();
        assert!(!format!("{vapid:?}").contains(&private));
        assert!(Vapid::new(&private, "ops@clinic.example").is_err());
        assert!(Vapid::new(&private, "https://clinic.example/contact").is_ok());
        assert!(Vapid::new("not-a-key", "mailto:ops@clinic.example").is_err());
        assert!(Vapid::new(&encode(&[0u8; 32]), "mailto:ops@clinic.example").is_err());
    }
}
