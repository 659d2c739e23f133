//! SMART App Launch (STU 2) rules: the scopes an app may ask for (v2 `patient/Observation.rs`,
//! `user/*.rs`, and the v1 `.read` forms as their aliases), what a granted scope lets a token read,
//! and the PKCE (S256) check of a code's verifier.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Who a resource scope speaks for: the patient in context, or the signed-in user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Patient,
    User,
}

/// A read-only resource scope: `{patient|user}/{Type|*}.{rs|r|s}` (or v1 `.read`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceScope {
    pub context: Context,
    /// None for `*`.
    pub resource: Option<String>,
    pub read: bool,
    pub search: bool,
}

/// One scope an app asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `launch`: an EHR launch's context.
    Launch,
    /// `launch/patient`: a standalone launch asking for a patient to be chosen.
    LaunchPatient,
    Resource(ResourceScope),
}

/// Scopes that are known and never granted here (OpenID Connect, refresh tokens): left out of
/// the grant, as SMART lets a server grant less than asked.
pub const NOT_GRANTED: [&str; 5] = [
    "openid",
    "fhirUser",
    "profile",
    "offline_access",
    "online_access",
];

/// The longest scope string accepted.
pub const MAX_SCOPE_LEN: usize = 1000;

/// Reads one scope; None if it is not one this server grants (writes, unknown forms).
pub fn parse_scope(text: &str) -> Option<Scope> {
    match text {
        "launch" => return Some(Scope::Launch),
        "launch/patient" => return Some(Scope::LaunchPatient),
        _ => {}
    }
    let (context, rest) = text.split_once('/')?;
    let context = match context {
        "patient" => Context::Patient,
        "user" => Context::User,
        _ => return None,
    };
    let (resource, permissions) = rest.split_once('.')?;
    let resource = match resource {
        "*" => None,
        r if !r.is_empty() && r.len() <= 64 && r.chars().all(|c| c.is_ascii_alphabetic()) => {
            Some(r.to_string())
        }
        _ => return None,
    };
    let (read, search) = match permissions {
        "read" | "rs" => (true, true),
        "r" => (true, false),
        "s" => (false, true),
        _ => return None,
    };
    Some(Scope::Resource(ResourceScope {
        context,
        resource,
        read,
        search,
    }))
}

/// The v2 form of a scope, as it is granted and shown.
pub fn canonical(scope: &Scope) -> String {
    match scope {
        Scope::Launch => "launch".into(),
        Scope::LaunchPatient => "launch/patient".into(),
        Scope::Resource(r) => {
            let context = match r.context {
                Context::Patient => "patient",
                Context::User => "user",
            };
            let resource = r.resource.as_deref().unwrap_or("*");
            let permissions = match (r.read, r.search) {
                (true, true) => "rs",
                (true, false) => "r",
                _ => "s",
            };
            format!("{context}/{resource}.{permissions}")
        }
    }
}

/// A scope string read: the scopes granted in their v2 form (duplicates dropped), or the first
/// one that is neither grantable nor one of [`NOT_GRANTED`].
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    if text.len() > MAX_SCOPE_LEN {
        return Err(format!("a scope of at most {MAX_SCOPE_LEN} characters"));
    }
    let mut scopes: Vec<Scope> = vec![];
    for word in text.split_whitespace() {
        if NOT_GRANTED.contains(&word) {
            continue;
        }
        let scope =
            parse_scope(word).ok_or_else(|| format!("{word} is not a scope granted here"))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// The scopes joined as a token response gives them.
pub fn join(scopes: &[Scope]) -> String {
    scopes.iter().map(canonical).collect::<Vec<_>>().join(" ")
}

/// Whether `wide` allows everything `narrow` does.
fn covers(wide: &Scope, narrow: &Scope) -> bool {
    match (wide, narrow) {
        (Scope::Resource(w), Scope::Resource(n)) => {
            w.context == n.context
                && (w.resource.is_none() || w.resource == n.resource)
                && (w.read || !n.read)
                && (w.search || !n.search)
        }
        (w, n) => w == n,
    }
}

/// Whether every scope asked for is within one of the allowed ones.
pub fn within(asked: &[Scope], allowed: &[Scope]) -> bool {
    asked.iter().all(|a| allowed.iter().any(|w| covers(w, a)))
}

/// The first scope asked for that no allowed scope covers.
pub fn beyond<'a>(asked: &'a [Scope], allowed: &[Scope]) -> Option<&'a Scope> {
    asked.iter().find(|a| !allowed.iter().any(|w| covers(w, a)))
}

/// Whether the granted scopes let a token read (`search` false) or search (`search` true) a
/// resource type, in the token's context (a patient's, or the user's).
pub fn allows(granted: &[Scope], context: Context, resource: &str, search: bool) -> bool {
    granted.iter().any(|s| match s {
        Scope::Resource(r) => {
            r.context == context
                && r.resource.as_deref().is_none_or(|t| t == resource)
                && if search { r.search } else { r.read }
        }
        _ => false,
    })
}

/// Whether a scope speaks for a patient in context (`patient/...`).
pub fn wants_patient(scopes: &[Scope]) -> bool {
    scopes
        .iter()
        .any(|s| matches!(s, Scope::Resource(r) if r.context == Context::Patient))
}

/// PKCE S256: whether the verifier (43-128 characters, RFC 7636) hashes to the challenge.
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
    well_formed && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

/// A code challenge as S256 makes it: 43 base64url characters.
pub fn challenge_well_formed(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A redirect URI an app may register: absolute https, or http on the loopback (native apps and
/// tests), without a fragment.
pub fn redirect_uri_ok(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    uri.len() <= 500
        && url.fragment().is_none()
        && (url.scheme() == "https" || (url.scheme() == "http" && loopback))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(text: &str) -> Vec<Scope> {
        parse_scopes(text).unwrap()
    }

    #[test]
    fn v1_read_is_an_alias_of_v2_rs() {
        assert_eq!(
            scopes("patient/Observation.read"),
            scopes("patient/Observation.rs")
        );
        assert_eq!(join(&scopes("user/*.read launch")), "user/*.rs launch");
    }

    #[test]
    fn writes_and_unknown_forms_are_refused_and_openid_is_left_out() {
        assert!(parse_scopes("patient/Observation.cruds").is_err());
        assert!(parse_scopes("patient/Observation.write").is_err());
        assert!(parse_scopes("system/*.rs").is_err());
        assert_eq!(
            join(&scopes("openid fhirUser patient/*.rs")),
            "patient/*.rs"
        );
    }

    #[test]
    fn a_scope_is_within_a_wider_one_only() {
        let allowed = scopes("patient/*.rs launch");
        assert!(within(&scopes("patient/Observation.r launch"), &allowed));
        assert!(!within(&scopes("user/Observation.rs"), &allowed));
        let narrow = scopes("patient/Observation.rs");
        assert!(!within(&scopes("patient/Patient.rs"), &narrow));
        assert_eq!(
            beyond(&scopes("patient/Observation.rs patient/*.rs"), &narrow).map(canonical),
            Some("patient/*.rs".into())
        );
    }

    #[test]
    fn what_a_grant_allows() {
        let granted = scopes("patient/Observation.r");
        assert!(allows(&granted, Context::Patient, "Observation", false));
        assert!(!allows(&granted, Context::Patient, "Observation", true));
        assert!(!allows(&granted, Context::Patient, "Patient", false));
        assert!(!allows(&granted, Context::User, "Observation", false));
        assert!(allows(&scopes("user/*.rs"), Context::User, "Patient", true));
    }

    #[test]
    fn pkce_s256_as_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(&verifier.replace('d', "e"), challenge));
        assert!(challenge_well_formed(challenge));
        assert!(!challenge_well_formed(verifier.get(..40).unwrap_or("")));
    }

    #[test]
    fn redirect_uris_are_https_or_loopback() {
        assert!(redirect_uri_ok("https://app.example/cb"));
        assert!(redirect_uri_ok("http://127.0.0.1:8000/cb"));
        assert!(!redirect_uri_ok("http://app.example/cb"));
        assert!(!redirect_uri_ok("https://app.example/cb#x"));
        assert!(!redirect_uri_ok("/cb"));
    }
}
