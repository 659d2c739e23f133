//! Photos as FHIR R4: each a `Media` of its patient, part of the check-in it came with and of the
//! treatment that follows, whose content is a URL to a `Binary` (never the bytes inline), and the
//! `Binary` itself. Plain functions from the photo's row.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use uuid::Uuid;

use super::datatypes::{coding, instant, meta, reference};
use crate::db::photos::Photo;

/// FHIR's media types (image, video, audio).
const MEDIA_TYPE: &str = "http://terminology.hl7.org/CodeSystem/media-type";

/// Where a photo's bytes are read: its Binary under the FHIR base `base` (absolute, as an
/// Attachment's URL is best given, and as validators want it).
pub fn binary_url(base: &str, photo: Uuid) -> String {
    format!("{base}/Binary/{photo}")
}

/// A photo as a Media: taken (uploaded) by its patient, part of the check-in it was sent with (a
/// QuestionnaireResponse) and of the treatment (a Procedure), its content a JPEG read as a Binary.
/// When it was taken is not known (the photo's metadata is dropped on upload): `created` is when
/// the server received it.
pub fn media(base: &str, p: &Photo, treatment: Uuid) -> Value {
    json!({
        "resourceType": "Media",
        "id": p.id.to_string(),
        "meta": meta(p.created_at),
        "partOf": [
            reference("QuestionnaireResponse", p.check_in_id),
            reference("Procedure", treatment),
        ],
        "status": "completed",
        "type": {"coding": [coding(MEDIA_TYPE, "image", Some("Image"))], "text": "Photo"},
        "subject": reference("Patient", p.patient_id),
        "createdDateTime": instant(p.created_at),
        "issued": instant(p.created_at),
        "operator": reference("Patient", p.patient_id),
        "height": p.height,
        "width": p.width,
        "content": {
            "contentType": p.content_type,
            "url": binary_url(base, p.id),
            "size": p.bytes,
            "title": format!("Photo of {}", p.created_at.date_naive()),
            "creation": instant(p.created_at),
        },
    })
}

/// A photo's bytes as a Binary resource (for a client that asks for FHIR's JSON), under the
/// patient's security context.
pub fn binary(p: &Photo, bytes: &[u8]) -> Value {
    json!({
        "resourceType": "Binary",
        "id": p.id.to_string(),
        "meta": meta(p.created_at),
        "contentType": p.content_type,
        "securityContext": reference("Patient", p.patient_id),
        "data": STANDARD.encode(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{CheckInId, PatientId};
    use chrono::Utc;

    fn photo() -> Photo {
        Photo {
            id: Uuid::new_v4(),
            patient_id: PatientId::new_v4(),
            check_in_id: CheckInId::new_v4(),
            storage_key: "k".into(),
            thumbnail_key: "t".into(),
            content_type: "image/jpeg".into(),
            width: 2048,
            height: 1536,
            bytes: 654_321,
            clinical_use_consented_at: Utc::now(),
            before_after_consented_at: None,
            before_after_withdrawn_at: None,
            flagged_by: None,
            flagged_at: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_media_points_at_its_binary_and_never_holds_the_bytes() {
        let p = photo();
        let treatment = Uuid::new_v4();
        let m = media("https://x.test/fhir/R4", &p, treatment);
        assert_eq!(
            m["content"]["url"],
            format!("https://x.test/fhir/R4/Binary/{}", p.id)
        );
        assert!(m["content"].get("data").is_none());
        assert_eq!(m["content"]["size"], 654_321);
        assert_eq!(m["content"]["contentType"], "image/jpeg");
        assert_eq!(m["type"]["coding"][0]["code"], "image");
        assert_eq!(
            m["partOf"][1]["reference"],
            format!("Procedure/{treatment}")
        );
        assert_eq!(
            m["partOf"][0]["reference"],
            format!("QuestionnaireResponse/{}", p.check_in_id)
        );
        assert_eq!(
            (m["width"].clone(), m["height"].clone()),
            (json!(2048), json!(1536))
        );
    }

    #[test]
    fn a_binary_holds_the_bytes_in_base64() {
        let p = photo();
        let b = binary(&p, b"\xff\xd8\xff");
        assert_eq!(b["data"], "/9j/");
        assert_eq!(b["contentType"], "image/jpeg");
    }
}
