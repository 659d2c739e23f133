//! Tokens and passwords: the unit tests of `web::auth`.

use super::*;

fn keys(secret: &str, previous: Option<&str>) -> Keys {
    Keys::new(&JwtSettings {
        secret: secret.into(),
        previous_secret: previous.map(Into::into),
    })
}

#[test]
fn a_device_token_is_good_for_its_account_until_it_expires_and_not_when_tampered() {
    let now = Utc::now();
    let k = keys("device-secret-device-secret-12345", None);
    let token = k.device_token("a|b@x.example", "dev1", now + Duration::days(1));
    let good = k.device_of(&token, now).unwrap();
    assert_eq!(
        (good.account.as_str(), good.device.as_str()),
        ("a|b@x.example", "dev1")
    );
    assert!(k.device_of(&token, now + Duration::days(2)).is_none());
    let (payload, mac) = token.split_once('.').unwrap();
    let forged = URL_SAFE_NO_PAD.encode(format!("{}|dev1|c@x.example", now.timestamp() + 99));
    assert!(k.device_of(&format!("{forged}.{mac}"), now).is_none());
    assert!(
        k.device_of(&format!("{payload}.{}", &mac[1..]), now)
            .is_none()
    );
    assert!(k.device_of("garbage", now).is_none());
    // Another secret's token is refused; the previous secret's is accepted after a rotation.
    let other = keys("another-secret-another-secret-678", None);
    assert!(other.device_of(&token, now).is_none());
    let rotated = keys(
        "another-secret-another-secret-678",
        Some("device-secret-device-secret-12345"),
    );
    assert!(rotated.device_of(&token, now).is_some());
}

#[test]
fn a_token_verifies_under_its_key_and_the_next_one() {
    let old = keys("old-secret-old-secret-old-secret-1", None);
    let token = old
        .issue(Uuid::new_v4(), Role::Clinician, Uuid::new_v4(), Utc::now())
        .unwrap();
    assert!(old.verify(&token).is_ok());
    let rotated = keys(
        "new-secret-new-secret-new-secret-2",
        Some("old-secret-old-secret-old-secret-1"),
    );
    assert!(rotated.verify(&token).is_ok());
    let forgotten = keys("new-secret-new-secret-new-secret-2", None);
    assert!(forgotten.verify(&token).is_err());
}

#[test]
fn a_system_token_works_only_where_system_tokens_do() {
    let keys = keys("a-secret-a-secret-a-secret-a-secret-1", None);
    let (client, clinic) = (Uuid::new_v4(), Uuid::new_v4());
    let system = keys
        .sign(&SystemClaims::new(
            client,
            clinic,
            "system/*.read",
            Utc::now(),
            300,
        ))
        .unwrap();
    assert_eq!(keys.verify_as::<SystemClaims>(&system).unwrap().sub, client);
    assert!(keys.verify(&system).is_err());
    let staff = keys
        .issue(Uuid::new_v4(), Role::Admin, clinic, Utc::now())
        .unwrap();
    assert!(keys.verify_as::<SystemClaims>(&staff).is_none());
}

#[test]
fn an_app_token_works_only_where_app_tokens_do() {
    let keys = keys("a-secret-a-secret-a-secret-a-secret-1", None);
    let now = Utc::now().timestamp();
    let claims = AppClaims {
        sub: Uuid::new_v4(),
        role: Role::Patient,
        clinic: Uuid::new_v4(),
        app: Uuid::new_v4(),
        jti: Uuid::new_v4(),
        patient: None,
        scope: "patient/*.rs".into(),
        iss: ISSUER.into(),
        aud: APP_AUDIENCE.into(),
        iat: now,
        nbf: now,
        exp: now + 60,
    };
    let app = keys.sign(&claims).unwrap();
    assert_eq!(keys.verify_as::<AppClaims>(&app).unwrap().jti, claims.jti);
    assert!(keys.verify(&app).is_err());
    assert!(keys.verify_as::<SystemClaims>(&app).is_none());
    // Signed for another audience, the same claims are no app token.
    let elsewhere = keys
        .sign(&AppClaims {
            aud: SYSTEM_AUDIENCE.into(),
            ..claims
        })
        .unwrap();
    assert!(keys.verify_as::<AppClaims>(&elsewhere).is_none());
}

#[test]
fn enrollment_codes_are_readable_and_normalize() {
    let code = new_enrollment_code();
    assert_eq!(code.len(), 14);
    let typed = code.to_lowercase().replace('-', " ");
    assert_eq!(normalize_enrollment_code(&typed), code.replace('-', ""));
}

#[test]
fn unknown_users_never_verify() {
    assert!(!verify_password("anything", None));
    let hash = hash_password("correct horse battery").unwrap();
    assert!(verify_password("correct horse battery", Some(&hash)));
    assert!(!verify_password("wrong horse battery", Some(&hash)));
}
