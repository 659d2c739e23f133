//! SMART Backend Services: the public keys a system client registers (RS384 or ES384), the rules
//! its signed assertion must meet, and the server's `.well-known/smart-configuration`.

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::{Value, json};

/// How far ahead a client assertion may expire (SMART: no more than five minutes).
pub const MAX_ASSERTION_LIFETIME: i64 = 5 * 60;
/// How long a system access token lasts.
pub const TOKEN_TTL: i64 = 5 * 60;
/// The one scope granted: read everything of the clinic.
pub const SCOPE: &str = "system/*.read";
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Most keys one client holds: enough to roll one over, too few to try an assertion against many.
pub const MAX_KEYS: usize = 5;
/// The shortest RSA modulus accepted (NIST SP 800-57: 2,048 bits through 2030).
pub const MIN_RSA_BITS: usize = 2048;
/// The longest, so that checking a signature stays cheap.
const MAX_RSA_BITS: usize = 8192;

/// A registered public key, with the one algorithm it signs with.
pub struct PublicKey {
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

/// The keys of a JWKS (`{"keys": [...]}`) or of a single JWK: RSA keys of 2,048 bits or more with
/// an odd exponent for RS384, points on P-384 for ES384, public parts only, each with its own
/// `kid`, at most five. Names the first key that is not one of those.
pub fn public_keys(jwks: &Value) -> Result<Vec<PublicKey>, String> {
    let keys: Vec<&Value> = match jwks.get("keys") {
        Some(Value::Array(keys)) => keys.iter().collect(),
        Some(_) => return Err("keys must be a list of JWKs".into()),
        None => vec![jwks],
    };
    if keys.is_empty() {
        return Err("no keys".into());
    }
    if keys.len() > MAX_KEYS {
        return Err(format!("at most {MAX_KEYS} keys"));
    }
    let keys = keys
        .into_iter()
        .enumerate()
        .map(|(i, k)| public_key(k).map_err(|e| format!("key {i}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut kids: Vec<&str> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
    kids.sort_unstable();
    if kids.windows(2).any(|w| w[0] == w[1]) {
        return Err("each key needs a kid of its own".into());
    }
    Ok(keys)
}

fn public_key(jwk: &Value) -> Result<PublicKey, String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if jwk.get("d").is_some() {
        return Err("this is a private key: register the public key only".into());
    }
    // The assertion names its key by kid; it is never tried against each key in turn.
    let kid = match text("kid") {
        Some(kid) if !kid.trim().is_empty() && kid.len() <= 200 => kid.to_string(),
        _ => return Err("a key needs a kid (1-200 characters) for assertions to name".into()),
    };
    let (algorithm, key) = match (text("kty"), text("crv")) {
        (Some("RSA"), _) => {
            let (n, e) = text("n").zip(text("e")).ok_or("an RSA key needs n and e")?;
            check_rsa(n, e)?;
            let key = DecodingKey::from_rsa_components(n, e).map_err(|e| e.to_string())?;
            (Algorithm::RS384, key)
        }
        (Some("EC"), Some("P-384")) => {
            let (x, y) = text("x").zip(text("y")).ok_or("an EC key needs x and y")?;
            check_p384(x, y)?;
            let key = DecodingKey::from_ec_components(x, y).map_err(|e| e.to_string())?;
            (Algorithm::ES384, key)
        }
        _ => return Err("only RSA keys (RS384) and EC keys on P-384 (ES384) are accepted".into()),
    };
    let wanted = if algorithm == Algorithm::RS384 {
        "RS384"
    } else {
        "ES384"
    };
    if text("alg").is_some_and(|alg| alg != wanted) {
        return Err(format!("this key signs with {wanted}"));
    }
    Ok(PublicKey {
        kid: Some(kid),
        algorithm,
        key,
    })
}

fn base64url(field: &str, value: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| format!("{field} is not base64url"))
}

/// A modulus of 2,048 to 8,192 bits and an odd public exponent of at least 3 (an even one has no
/// private key to go with it; 1 signs nothing).
fn check_rsa(n: &str, e: &str) -> Result<(), String> {
    let n = rsa::BigUint::from_bytes_be(&base64url("n", n)?);
    let e_bytes = base64url("e", e)?;
    let odd = e_bytes.last().is_some_and(|b| b & 1 == 1);
    let e = rsa::BigUint::from_bytes_be(&e_bytes);
    let bits = n.bits();
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "an RSA key needs at least {MIN_RSA_BITS} bits, not {bits}"
        ));
    }
    if !odd || e < rsa::BigUint::from(3u8) {
        return Err("an RSA key's exponent must be odd and at least 3".into());
    }
    rsa::RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)
        .map(|_| ())
        .map_err(|e| format!("not an RSA public key: {e}"))
}

/// A point on P-384 (not the point at infinity): a key off the curve leaks the verifier's
/// secrets in some implementations and verifies nothing in any.
fn check_p384(x: &str, y: &str) -> Result<(), String> {
    let (x, y) = (base64url("x", x)?, base64url("y", y)?);
    if x.len() != 48 || y.len() != 48 {
        return Err("a P-384 key's x and y are 48 bytes each".into());
    }
    let mut sec1 = Vec::with_capacity(97);
    sec1.push(4);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    p384::PublicKey::from_sec1_bytes(&sec1)
        .map(|_| ())
        .map_err(|_| "this point is not on P-384".into())
}

/// The claims of a client assertion that the signature check does not cover.
#[derive(Debug, Deserialize)]
pub struct Assertion {
    pub exp: i64,
    pub jti: Option<String>,
}

/// An assertion must expire within five minutes (and a minute of clock skew) and name a `jti`.
pub fn check_assertion(a: &Assertion, now: i64) -> Result<&str, &'static str> {
    if a.exp > now + MAX_ASSERTION_LIFETIME + 60 {
        return Err("the assertion must expire within 5 minutes");
    }
    match a.jti.as_deref() {
        Some(jti) if !jti.is_empty() && jti.len() <= 200 => Ok(jti),
        _ => Err("the assertion needs a jti of 1-200 characters"),
    }
}

/// Checks a client's signed assertion against its registered keys: signed with RS384 or ES384 by
/// the key its header names by `kid`, `iss` and `sub` the client, `aud` the token endpoint, not
/// expired. Its claims (the caller checks the lifetime and `jti`), or why not.
pub fn verify_assertion(
    assertion: &str,
    client: uuid::Uuid,
    jwks: &Value,
    token_url: &str,
) -> Result<Assertion, &'static str> {
    let header =
        jsonwebtoken::decode_header(assertion).map_err(|_| "the assertion is not a JWT")?;
    if ![Algorithm::RS384, Algorithm::ES384].contains(&header.alg) {
        return Err("the assertion must be signed with RS384 or ES384");
    }
    // One key is tried: the one the assertion names.
    let kid = header
        .kid
        .filter(|k| !k.is_empty())
        .ok_or("the assertion's header must name its key's kid")?;
    // Keys registered before the rules of registration tightened are refused until replaced.
    let keys = public_keys(jwks)
        .map_err(|_| "the client's registered keys are no longer accepted: register new ones")?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[token_url]);
    validation.set_issuer(&[client]);
    validation.sub = Some(client.to_string());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = 30;
    let key = keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid.as_str()) && k.algorithm == header.alg)
        .ok_or("the client has no key of this kid for this algorithm")?;
    jsonwebtoken::decode::<Assertion>(assertion, &key.key, &validation)
        .map(|data| data.claims)
        .map_err(|_| "the assertion's signature, audience, issuer or expiry is not valid")
}

/// Whether the scopes asked for include what is granted.
pub fn scope_granted(asked: &str) -> bool {
    asked
        .split_whitespace()
        .any(|s| s == SCOPE || s == "system/*.rs")
}

/// `.well-known/smart-configuration` of the FHIR base: SMART Backend Services and App Launch
/// (STU 2). No OpenID Connect (`openid` and `fhirUser` are not granted), so no `issuer` (the
/// specification: "Required if the server's capabilities include `sso-openid-connect`; otherwise,
/// omitted"), and no refresh tokens.
pub fn configuration(base: &str) -> Value {
    json!({
        "authorization_endpoint": format!("{base}/auth/authorize"),
        "token_endpoint": format!("{base}/auth/token"),
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "scopes_supported": [
            "launch", "launch/patient", "patient/*.rs", "patient/*.read", "user/*.rs",
            "user/*.read", SCOPE, "system/*.rs"
        ],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": [
            "launch-ehr", "launch-standalone", "context-ehr-patient",
            "context-standalone-patient", "client-public", "client-confidential-asymmetric",
            "permission-v1", "permission-v2", "permission-patient", "permission-user",
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh P-384 public key as a JWK.
    fn ec_jwk() -> Value {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use p384::elliptic_curve::sec1::ToEncodedPoint;
        let secret = p384::SecretKey::random(&mut p384::elliptic_curve::rand_core::OsRng);
        let point = secret.public_key().to_encoded_point(false);
        let b64 = |b: Option<&p384::FieldBytes>| URL_SAFE_NO_PAD.encode(b.unwrap());
        json!({"kty": "EC", "crv": "P-384", "kid": "k1", "x": b64(point.x()), "y": b64(point.y())})
    }

    #[test]
    fn keys_are_read_from_a_jwks_or_a_single_jwk() {
        let ec = ec_jwk();
        let one = public_keys(&ec).unwrap();
        assert_eq!(one[0].algorithm, Algorithm::ES384);
        let set = public_keys(&json!({"keys": [ec]})).unwrap();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn private_keys_other_curves_and_symmetric_keys_are_refused() {
        let mut private: Value = ec_jwk();
        private["d"] = json!("c2VjcmV0");
        assert!(public_keys(&private).is_err());
        let mut p256: Value = ec_jwk();
        p256["crv"] = json!("P-256");
        assert!(public_keys(&p256).is_err());
        let mut wrong_alg: Value = ec_jwk();
        wrong_alg["alg"] = json!("ES256");
        assert!(public_keys(&wrong_alg).is_err());
        assert!(public_keys(&json!({"kty": "oct", "k": "c2VjcmV0"})).is_err());
        assert!(public_keys(&json!({"keys": []})).is_err());
    }

    #[test]
    fn points_off_the_curve_short_moduli_and_even_exponents_are_refused() {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let mut off = ec_jwk();
        let y = off["y"].as_str().unwrap().to_string();
        let mut y = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(y)
            .unwrap();
        y[47] ^= 1;
        off["y"] = json!(b64(&y));
        assert!(public_keys(&off).err().unwrap().contains("not on P-384"));
        let rsa = |n: &[u8], e: &[u8]| json!({"kty": "RSA", "kid": "r", "n": b64(n), "e": b64(e)});
        let n2048 = [0xc5u8; 256];
        assert!(public_keys(&rsa(&[0xc5; 255], &[1, 0, 1])).is_err());
        assert!(public_keys(&rsa(&n2048, &[1, 0, 0])).is_err());
        assert!(public_keys(&rsa(&n2048, &[1])).is_err());
        assert!(public_keys(&rsa(&n2048, &[1, 0, 1])).is_ok());
        let mut nameless = ec_jwk();
        nameless.as_object_mut().unwrap().remove("kid");
        assert!(public_keys(&nameless).is_err());
        let six: Vec<Value> = (0..6)
            .map(|i| {
                let mut k = ec_jwk();
                k["kid"] = json!(i.to_string());
                k
            })
            .collect();
        assert!(public_keys(&json!({"keys": six[..5]})).is_ok());
        assert!(public_keys(&json!({"keys": six})).is_err());
    }

    #[test]
    fn an_assertion_lives_at_most_five_minutes_and_names_a_jti() {
        let now = 1_800_000_000;
        let ok = Assertion {
            exp: now + 300,
            jti: Some("a".into()),
        };
        assert_eq!(check_assertion(&ok, now), Ok("a"));
        let long = Assertion {
            exp: now + 3600,
            ..ok
        };
        assert!(check_assertion(&long, now).is_err());
        let nameless = Assertion {
            exp: now + 60,
            jti: None,
        };
        assert!(check_assertion(&nameless, now).is_err());
    }

    #[test]
    fn only_system_read_is_granted() {
        assert!(scope_granted("system/*.read"));
        assert!(scope_granted("launch system/*.read"));
        assert!(!scope_granted("system/*.write"));
        assert!(!scope_granted("user/*.read"));
    }
}
