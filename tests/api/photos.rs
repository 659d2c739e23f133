//! Photos with a check-in: what is stored has none of the upload's metadata and is upright (checked
//! by Pillow, tests/photos/check.py), what is refused leaves no row and no object, only the clinic's
//! staff and the patient see a photo, every read is audited, and the consents are recorded. Run
//! against the default folder store, and by .ci/photos against an S3-compatible server too.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, Rgb, RgbImage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// Pillow's virtualenv (tests/photos/install makes it), or None where it is missing and the check
/// may be skipped (only outside CI: AFTERCARE_PHOTO_TEST=required makes it a failure).
fn pillow() -> Option<std::path::PathBuf> {
    let home = std::env::var("HOME").unwrap_or_default();
    let python = std::path::Path::new(&home).join(".cache/aftercare/photos-venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    if std::env::var("AFTERCARE_PHOTO_TEST").as_deref() == Ok("required") {
        panic!("{} is missing: run tests/photos/install", python.display());
    }
    eprintln!("skipping Pillow's check: run tests/photos/install to set it up");
    None
}

/// What Pillow finds in the JPEG.
async fn read_with_pillow(jpeg: Vec<u8>) -> Option<Value> {
    let python = pillow()?;
    let out = tokio::task::spawn_blocking(move || {
        let path =
            std::env::temp_dir().join(format!("aftercare-photo-{}.jpg", uuid::Uuid::new_v4()));
        std::fs::write(&path, jpeg).expect("write the photo");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/photos/check.py");
        let out = std::process::Command::new(python)
            .arg(script)
            .arg(&path)
            .output()
            .expect("run Pillow");
        std::fs::remove_file(&path).ok();
        out
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("Pillow's JSON"))
}

/// A colour profile's bytes, as a JPEG's APP2 segments carry them (no reader here checks them).
fn profile() -> Vec<u8> {
    let mut icc = vec![0u8; 256];
    icc[..4].copy_from_slice(&256u32.to_be_bytes());
    icc[36..40].copy_from_slice(b"acsp");
    icc[128..150].copy_from_slice(b"Aftercare test profile");
    icc
}

/// An EXIF segment (APP1) with a camera model, a GPS position and `orientation`.
fn exif(orientation: u16) -> Vec<u8> {
    let mut t: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value);
    };
    // IFD0 at 8: three entries (12 bytes each), then the next IFD's offset: it ends at 50.
    t.extend(3u16.to_le_bytes());
    entry(&mut t, 0x0110, 2, 11, 50u32.to_le_bytes()); // Model, at 50
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]); // Orientation
    entry(&mut t, 0x8825, 4, 1, 62u32.to_le_bytes()); // the GPS IFD, at 62
    t.extend(0u32.to_le_bytes());
    t.extend(b"PhoneCam X\0\0"); // 50..62
    // The GPS IFD at 62: two entries, ending at 92, then the latitude's three rationals.
    t.extend(2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0"); // GPSLatitudeRef
    entry(&mut t, 0x0002, 5, 3, 92u32.to_le_bytes()); // GPSLatitude, at 92
    t.extend(0u32.to_le_bytes());
    for (n, d) in [(52u32, 1u32), (31, 1), (0, 1)] {
        t.extend(n.to_le_bytes());
        t.extend(d.to_le_bytes());
    }
    let mut body = b"Exif\0\0".to_vec();
    body.extend(t);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend(((body.len() + 2) as u16).to_be_bytes());
    segment.extend(body);
    segment
}

/// A JPEG as a phone held sideways stores it: `width` by `height`, its left half red and its
/// right half blue, with a colour profile and an EXIF segment saying to turn it a quarter clockwise
/// (orientation 6): upright, it is taller than wide, red on top and blue below.
pub fn sideways_jpeg(width: u32, height: u32) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    });
    let mut plain = vec![];
    let mut encoder = JpegEncoder::new_with_quality(&mut plain, 95);
    encoder.set_icc_profile(profile()).unwrap();
    encoder.encode_image(&pixels).unwrap();
    // The EXIF segment right after the start of the image, where cameras put it.
    let mut jpeg = plain[..2].to_vec();
    jpeg.extend(exif(6));
    jpeg.extend(&plain[2..]);
    jpeg
}

/// A few bytes that claim a 50,000 x 50,000 PNG: a decompression bomb's header.
fn png_bomb() -> Vec<u8> {
    fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        png.extend((data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend(data);
        png.extend(&crc_input);
        png.extend(crc32(&crc_input).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = vec![];
    ihdr.extend(50_000u32.to_be_bytes());
    ihdr.extend(50_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut png, b"IHDR", &ihdr);
    // A zlib stream of one stored block of 1,024 zeros: the start of the first rows.
    let zeros = [0u8; 1024];
    let mut idat = vec![0x78, 0x01, 0x01];
    idat.extend(1024u16.to_le_bytes());
    idat.extend((!1024u16).to_le_bytes());
    idat.extend(zeros);
    idat.extend(adler32(&zeros).to_be_bytes());
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// Posts `bytes` as a photo of the check-in, declared as `declared`, with the query's consents.
pub async fn upload(
    app: &TestApp,
    token: &str,
    check_in: &str,
    query: &str,
    declared: &str,
    bytes: Vec<u8>,
) -> Resp {
    let res = app
        .client
        .post(format!(
            "{}/v1/check-ins/{check_in}/photos?{query}",
            app.base
        ))
        .bearer_auth(token)
        .header("content-type", declared)
        .body(bytes)
        .send()
        .await
        .expect("upload");
    into_resp(res).await
}

async fn get_bytes(app: &TestApp, path: &str, token: &str) -> (u16, Vec<u8>) {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

/// The scenario's first patient's check-in, now: its id.
async fn check_in(app: &TestApp, s: &Scenario) -> String {
    let p = &s.patients[0];
    let c = CheckIn::new(&p.treatment, chrono::Utc::now(), json!({"redness": 2}));
    id_of(app.check_in(&p.token, &c).await.ok(201))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(app: &TestApp, sql: &str, bind: &str) -> i64 {
    let mut conn = app.db();
    diesel::sql_query(sql)
        .bind::<Text, _>(bind)
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
}

/// The clinic's photo rows, and its objects in the store.
async fn stored(app: &TestApp, s: &Scenario) -> (i64, usize) {
    let clinic = s.clinic.id.to_string();
    let rows = count(
        app,
        "SELECT count(*) AS n FROM photos WHERE clinic_id::text = $1",
        &clinic,
    );
    let objects = app.photos.keys(&format!("photos/{clinic}")).await.unwrap();
    (rows, objects.len())
}

#[tokio::test]
async fn a_photo_is_stored_upright_without_its_metadata_and_with_its_colour_profile() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = check_in(&app, &s).await;
    let sent = sideways_jpeg(64, 32);
    // Declared as anything: the bytes say what it is.
    let r = upload(
        &app,
        &p.token,
        &check_in,
        "clinical_use=true",
        "application/octet-stream",
        sent,
    )
    .await;
    let photo = r.ok(201).clone();
    assert_eq!(r.header("location"), Some(photo["url"].as_str().unwrap()));
    assert_eq!(photo["content_type"], "image/jpeg");
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(32), Some(64))
    );
    assert_eq!(photo["day"], 2);
    assert_eq!(photo["consent"]["before_after"], false);
    assert!(photo["review_flag"].is_null());
    assert_eq!(stored(&app, &s).await, (1, 2));

    let (status, jpeg) = get_bytes(&app, photo["url"].as_str().unwrap(), &s.clinician).await;
    assert_eq!(status, 200);
    assert_eq!(jpeg.len() as i64, photo["bytes"].as_i64().unwrap());
    let (status, thumbnail) =
        get_bytes(&app, photo["thumbnail_url"].as_str().unwrap(), &p.token).await;
    assert_eq!(status, 200);
    let Some(seen) = read_with_pillow(jpeg).await else {
        return;
    };
    assert_eq!(seen["format"], "JPEG");
    assert_eq!(seen["size"], json!([32, 64]), "turned upright: {seen}");
    assert_eq!(seen["exif_tags"], json!([]), "no EXIF at all: {seen}");
    assert_eq!(seen["gps"], false);
    let segments: Vec<&str> = seen["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    // Of the application segments only JFIF's (APP0) and the colour profile's (APP2); no comment.
    for segment in &segments {
        let marker = u8::from_str_radix(segment, 16).unwrap();
        assert!(
            !(0xE1..=0xEF).contains(&marker) || marker == 0xE2,
            "{segment} in {segments:?}"
        );
        assert_ne!(marker, 0xFE, "a comment");
    }
    assert_eq!(
        seen["icc_sha256"],
        hex::encode(Sha256::digest(profile())),
        "the colour profile is kept"
    );
    let (top, bottom) = (&seen["top"], &seen["bottom"]);
    assert!(
        top[0].as_i64() > Some(150) && top[2].as_i64() < Some(100),
        "red on top: {seen}"
    );
    assert!(
        bottom[2].as_i64() > Some(150) && bottom[0].as_i64() < Some(100),
        "blue below: {seen}"
    );
    let thumb = read_with_pillow(thumbnail).await.unwrap();
    assert_eq!(thumb["exif_tags"], json!([]));
    assert_eq!(
        thumb["size"],
        json!([32, 64]),
        "a small photo is its own thumbnail"
    );
}

#[tokio::test]
async fn what_is_not_a_photo_we_take_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = check_in(&app, &s).await;
    let whole = sideways_jpeg(400, 300);
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#;
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let mut huge = whole.clone();
    huge.resize(10 * 1024 * 1024 + 1, 0);
    let cases: Vec<(&str, &str, Vec<u8>, u16)> = vec![
        ("a 50,000 x 50,000 PNG bomb", "image/png", png_bomb(), 422),
        (
            "a truncated JPEG",
            "image/jpeg",
            whole[..whole.len() / 2].to_vec(),
            422,
        ),
        ("an SVG", "image/svg+xml", svg.to_vec(), 415),
        ("a PDF renamed .jpg", "image/jpeg", pdf.to_vec(), 415),
        ("an empty body", "image/jpeg", vec![], 415),
        ("over 10 MB", "image/jpeg", huge, 413),
    ];
    for (what, declared, bytes, status) in cases {
        let r = upload(
            &app,
            &p.token,
            &check_in,
            "clinical_use=true",
            declared,
            bytes,
        )
        .await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{what}"
        );
        assert_eq!(r.body["status"], status, "{what}");
        assert_eq!(stored(&app, &s).await, (0, 0), "{what} left something");
    }
    // The PNG bomb is refused from its header, within the request's first moments.
    let started = std::time::Instant::now();
    upload(
        &app,
        &p.token,
        &check_in,
        "clinical_use=true",
        "image/png",
        png_bomb(),
    )
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // Without consent to its clinical use, nothing is sent.
    for query in ["clinical_use=false", "clinical_use=false&before_after=true"] {
        let r = upload(
            &app,
            &p.token,
            &check_in,
            query,
            "image/jpeg",
            whole.clone(),
        )
        .await;
        assert_eq!(r.error_fields(), ["clinical_use"], "{query}");
    }
    let r = upload(&app, &p.token, &check_in, "", "image/jpeg", whole.clone()).await;
    assert_eq!(r.error_fields(), ["clinical_use"]);
    assert_eq!(stored(&app, &s).await, (0, 0));
}

#[tokio::test]
async fn only_the_clinics_staff_and_the_patient_see_a_photo_and_every_read_is_audited() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let other = app.scenario("Other").await;
    let p = &s.patients[0];
    let check_in = check_in(&app, &s).await;
    let r = upload(
        &app,
        &p.token,
        &check_in,
        "clinical_use=true",
        "image/jpeg",
        sideways_jpeg(64, 32),
    )
    .await;
    let photo = r.ok(201).clone();
    let url = photo["url"].as_str().unwrap();
    let thumbnail = photo["thumbnail_url"].as_str().unwrap();
    let list = format!("/v1/patients/{}/photos", p.id);

    for token in [&s.clinician, &s.clinic.admin, &p.token] {
        assert_eq!(get_bytes(&app, url, token).await.0, 200);
        assert_eq!(get_bytes(&app, thumbnail, token).await.0, 200);
        let items = app.get(&list, token).await;
        assert_eq!(items.ok(200)["items"][0]["id"], photo["id"]);
    }
    let strangers = [
        ("another patient", s.patients[1].token.as_str()),
        ("another clinic's clinician", other.clinician.as_str()),
        ("another clinic's admin", other.clinic.admin.as_str()),
        ("another clinic's patient", other.patients[0].token.as_str()),
    ];
    for (who, token) in strangers {
        for path in [url, thumbnail, list.as_str()] {
            assert_eq!(get_bytes(&app, path, token).await.0, 404, "{who}: {path}");
        }
    }
    // Nor may another patient add a photo to this check-in.
    let r = upload(
        &app,
        &s.patients[1].token,
        &check_in,
        "clinical_use=true",
        "image/jpeg",
        sideways_jpeg(64, 32),
    )
    .await;
    r.problem(404);
    assert_eq!(stored(&app, &s).await, (1, 2));

    // Three reads of the photo and three of its thumbnail by those allowed, each under the patient.
    let reads = |resource: &str| {
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM audit_events WHERE resource_type = '{resource}' \
                 AND action = 'read' AND outcome = 'success' AND patient_id::text = $1"
            ),
            &p.id,
        )
    };
    assert_eq!(reads("photo"), 3);
    assert_eq!(reads("photo_thumbnail"), 3);
    let created = count(
        &app,
        "SELECT count(*) AS n FROM audit_events WHERE resource_type = 'photo' AND action = 'create' \
         AND outcome = 'success' AND patient_id::text = $1",
        &p.id,
    );
    assert_eq!(created, 1);
}

#[tokio::test]
async fn consents_are_recorded_and_a_clinician_flags_a_photo_for_review() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = check_in(&app, &s).await;
    let r = upload(
        &app,
        &p.token,
        &check_in,
        "clinical_use=true&before_after=true",
        "image/jpeg",
        sideways_jpeg(64, 32),
    )
    .await;
    let photo = r.ok(201).clone();
    assert_eq!(photo["consent"]["before_after"], true);
    let given = photo["consent"]["before_after_at"].clone();
    assert!(given.is_string());
    let consent = format!("{}/before-after-consent", photo["url"].as_str().unwrap());

    let withdrawn = app
        .request(reqwest::Method::DELETE, &consent, Some(&p.token), None)
        .await;
    let withdrawn = withdrawn.ok(200).clone();
    assert_eq!(withdrawn["consent"]["before_after"], false);
    assert!(withdrawn["consent"]["before_after_at"].is_null());
    assert!(withdrawn["consent"]["before_after_withdrawn_at"].is_string());
    assert_eq!(
        withdrawn["consent"]["clinical_use_at"],
        photo["consent"]["clinical_use_at"]
    );
    let again = app
        .request(reqwest::Method::PUT, &consent, Some(&p.token), None)
        .await;
    assert_eq!(again.ok(200)["consent"]["before_after"], true);
    // The patient's to give: not the clinic's, nor another patient's.
    for token in [&s.clinician, &s.clinic.admin] {
        let r = app
            .request(reqwest::Method::DELETE, &consent, Some(token), None)
            .await;
        r.problem(403);
    }
    let r = app
        .request(
            reqwest::Method::DELETE,
            &consent,
            Some(&s.patients[1].token),
            None,
        )
        .await;
    r.problem(404);
    let changes = count(
        &app,
        "SELECT count(*) AS n FROM audit_events WHERE resource_type = 'photo_consent' \
         AND outcome = 'success' AND patient_id::text = $1",
        &p.id,
    );
    assert_eq!(changes, 2);

    let flag = format!("{}/review-flag", photo["url"].as_str().unwrap());
    let me = app.get("/v1/me", &s.clinician).await.ok(200)["user_id"].clone();
    let flagged = app
        .request(reqwest::Method::PUT, &flag, Some(&s.clinician), None)
        .await;
    assert_eq!(flagged.ok(200)["review_flag"]["by"], me);
    app.request(reqwest::Method::PUT, &flag, Some(&p.token), None)
        .await
        .problem(403);
    let listed = app
        .get(&format!("/v1/patients/{}/photos", p.id), &s.clinic.admin)
        .await;
    assert_eq!(listed.ok(200)["items"][0]["review_flag"]["by"], me);
    let cleared = app
        .request(reqwest::Method::DELETE, &flag, Some(&s.clinic.admin), None)
        .await;
    assert!(cleared.ok(200)["review_flag"].is_null());
}

#[tokio::test]
async fn an_erased_patients_photos_are_gone_from_the_store() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = check_in(&app, &s).await;
    for _ in 0..2 {
        let r = upload(
            &app,
            &p.token,
            &check_in,
            "clinical_use=true",
            "image/jpeg",
            sideways_jpeg(64, 32),
        )
        .await;
        r.ok(201);
    }
    let export = app
        .get(&format!("/v1/patients/{}/export", p.id), &p.token)
        .await;
    let exported = export.ok(200)["photos"].as_array().unwrap().clone();
    assert_eq!(exported.len(), 2);
    assert!(
        exported[0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("/v1/check-ins/{check_in}/photos/"))
    );
    assert_eq!(stored(&app, &s).await, (2, 4));
    let r = app
        .post(
            &format!("/v1/patients/{}/erasure", p.id),
            &s.clinic.admin,
            json!({"reason": "The patient's written request"}),
        )
        .await;
    r.ok(200);
    assert_eq!(stored(&app, &s).await, (0, 0));
}

#[tokio::test]
async fn a_large_photo_gets_a_thumbnail_of_320_pixels() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let check_in = check_in(&app, &s).await;
    let r = upload(
        &app,
        &p.token,
        &check_in,
        "clinical_use=true",
        "image/jpeg",
        sideways_jpeg(1000, 500),
    )
    .await;
    let photo = r.ok(201).clone();
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(500), Some(1000))
    );
    let (_, thumbnail) = get_bytes(&app, photo["thumbnail_url"].as_str().unwrap(), &p.token).await;
    let size = image::ImageReader::new(std::io::Cursor::new(thumbnail))
        .with_guessed_format()
        .unwrap()
        .into_dimensions()
        .unwrap();
    assert_eq!(size, (160, 320));
}

#[tokio::test]
async fn a_webhook_hears_of_a_photo_by_its_ids_alone() {
    let app = spawn_app().await;
    let s = app.scenario("Lumen").await;
    let p = &s.patients[0];
    let hook =
        json!({"url": "https://hooks.clinic.example/aftercare", "events": ["photo.received"]});
    app.post("/v1/webhooks", &s.clinic.admin, hook)
        .await
        .ok(201);
    let check_in = check_in(&app, &s).await;
    let r = upload(
        &app,
        &p.token,
        &check_in,
        "clinical_use=true",
        "image/jpeg",
        sideways_jpeg(64, 32),
    )
    .await;
    let photo = r.ok(201).clone();

    #[derive(QueryableByName)]
    struct Payload {
        #[diesel(sql_type = Text)]
        payload: String,
    }
    let mut conn = app.db();
    let events: Vec<Payload> = diesel::sql_query(
        "SELECT payload::text AS payload FROM webhook_events WHERE type = 'photo.received'",
    )
    .load(&mut conn)
    .unwrap();
    assert_eq!(events.len(), 1);
    let payload: Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(payload["type"], "photo.received");
    assert_eq!(
        payload["data"],
        json!({"id": photo["id"], "check_in_id": check_in, "patient_id": p.id, "treatment_id": p.treatment})
    );
}
