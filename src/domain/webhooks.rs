//! Webhooks as plain rules: the event types, what each event carries, how a delivery is signed, how
//! long a failed one waits, and what an endpoint may be.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::Invalid;
use super::alerts::{Level, Rule};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// A rule raised a new alert (not: a check-in added evidence to an alert already open).
    #[serde(rename = "alert.raised")]
    AlertRaised,
    #[serde(rename = "alert.resolved")]
    AlertResolved,
    #[serde(rename = "check_in.created")]
    CheckInCreated,
    #[serde(rename = "adverse_event.recorded")]
    AdverseEventRecorded,
    /// The patient's data was erased: erase what you hold of them too.
    #[serde(rename = "patient.erased")]
    PatientErased,
    /// A scheduled check-in day has reached the clinic's reminder hour without a check-in: remind
    /// the patient (once per day; the patient's app gets a Web Push reminder at the same moment).
    #[serde(rename = "check_in.due")]
    CheckInDue,
    /// A patient sent a photo with a check-in.
    #[serde(rename = "photo.received")]
    PhotoReceived,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::AlertRaised,
        EventType::AlertResolved,
        EventType::CheckInCreated,
        EventType::AdverseEventRecorded,
        EventType::PatientErased,
        EventType::CheckInDue,
        EventType::PhotoReceived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AlertRaised => "alert.raised",
            EventType::AlertResolved => "alert.resolved",
            EventType::CheckInCreated => "check_in.created",
            EventType::AdverseEventRecorded => "adverse_event.recorded",
            EventType::PatientErased => "patient.erased",
            EventType::CheckInDue => "check_in.due",
            EventType::PhotoReceived => "photo.received",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Where a delivery is: pending until the receiver answers 2xx or its deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet; retried until its deadline.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// No 2xx before the deadline, or the webhook was deactivated. It can be redelivered.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// The `data` of `alert.raised` and `alert.resolved`.
#[derive(Debug, Clone, Serialize)]
pub struct AlertData {
    pub id: Uuid,
    pub rule: Rule,
    pub level: Level,
    pub patient_id: Uuid,
    pub treatment_id: Uuid,
    /// Days since the treatment when it was raised.
    pub day: i32,
}

/// The `data` of `check_in.created`: which check-in, not what it says.
#[derive(Debug, Clone, Serialize)]
pub struct CheckInData {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub treatment_id: Uuid,
    pub day: i32,
    pub recorded_at: DateTime<Utc>,
}

/// The `data` of `adverse_event.recorded`: the grade, not the clinician's words.
#[derive(Debug, Clone, Serialize)]
pub struct AdverseEventData {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub treatment_id: Uuid,
    /// CTCAE grade 1-5.
    pub grade: i16,
    pub serious: bool,
}

/// The `data` of `patient.erased`: the id alone.
#[derive(Debug, Clone, Serialize)]
pub struct PatientData {
    pub patient_id: Uuid,
}

/// The `data` of `check_in.due`: whose check-in is due, for which day.
#[derive(Debug, Clone, Serialize)]
pub struct CheckInDueData {
    pub patient_id: Uuid,
    pub treatment_id: Uuid,
    /// Days since the treatment.
    pub day: i32,
    /// That day's date in the clinic's time zone.
    pub date: chrono::NaiveDate,
}

/// The `data` of `photo.received`: ids, never the photo; read it through the API.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoData {
    pub id: Uuid,
    pub check_in_id: Uuid,
    pub patient_id: Uuid,
    pub treatment_id: Uuid,
}

/// Something a webhook can hear of. Ids and codes only: a receiver that needs more asks the API.
#[derive(Debug, Clone)]
pub enum Event {
    AlertRaised(AlertData),
    AlertResolved(AlertData),
    CheckInCreated(CheckInData),
    AdverseEventRecorded(AdverseEventData),
    PatientErased(PatientData),
    CheckInDue(CheckInDueData),
    PhotoReceived(PhotoData),
}

/// The body of every delivery.
#[derive(Debug, Serialize)]
pub struct WebhookPayload {
    /// The event's id: the same in every attempt and redelivery, so receivers deduplicate on it.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub created_at: DateTime<Utc>,
    pub clinic_id: Uuid,
    /// `AlertData`, `CheckInData`, `AdverseEventData`, `PatientData`, `CheckInDueData` or
    /// `PhotoData`, as `type` says.
    pub data: serde_json::Value,
}

impl Event {
    pub fn event_type(&self) -> EventType {
        match self {
            Event::AlertRaised(_) => EventType::AlertRaised,
            Event::AlertResolved(_) => EventType::AlertResolved,
            Event::CheckInCreated(_) => EventType::CheckInCreated,
            Event::AdverseEventRecorded(_) => EventType::AdverseEventRecorded,
            Event::PatientErased(_) => EventType::PatientErased,
            Event::CheckInDue(_) => EventType::CheckInDue,
            Event::PhotoReceived(_) => EventType::PhotoReceived,
        }
    }

    /// The event as a receiver gets it.
    pub fn envelope(
        &self,
        id: Uuid,
        clinic_id: Uuid,
        created_at: DateTime<Utc>,
    ) -> serde_json::Result<WebhookPayload> {
        let data = match self {
            Event::AlertRaised(d) | Event::AlertResolved(d) => serde_json::to_value(d),
            Event::CheckInCreated(d) => serde_json::to_value(d),
            Event::AdverseEventRecorded(d) => serde_json::to_value(d),
            Event::PatientErased(d) => serde_json::to_value(d),
            Event::CheckInDue(d) => serde_json::to_value(d),
            Event::PhotoReceived(d) => serde_json::to_value(d),
        }?;
        Ok(WebhookPayload {
            id,
            event_type: self.event_type(),
            created_at,
            clinic_id,
            data,
        })
    }
}

/// The `Aftercare-Signature` of a body sent at `timestamp` (Unix seconds):
/// `v1=` and the hex HMAC-SHA256, keyed with the secret's UTF-8 bytes, of `"{timestamp}.{body}"`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// How long a delivery waits after its `failures`-th failed attempt in a row: `base`, doubling with
/// each failure, at most `cap`.
pub fn backoff(failures: u32, base: Duration, cap: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    base.saturating_mul(1 << doublings).min(cap)
}

pub const MAX_URL_CHARS: usize = 2000;
pub const MIN_SECRET_CHARS: usize = 16;
pub const MAX_SECRET_CHARS: usize = 200;

/// What a webhook URL may look like, as the OpenAPI document says it (a test keeps the two equal):
/// http or https, a host name or an IPv4 address, an optional port, and a plain path and query.
/// Plain http passes the shape but is refused unless private targets are allowed
/// ([`Targets::allows_scheme`](super::targets::Targets::allows_scheme)).
pub const URL_PATTERN: &str = "^https?://([A-Za-z][A-Za-z0-9-]*(\\.[A-Za-z][A-Za-z0-9-]*)*|((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[A-Za-z0-9._~/?=&-]*)?$";

static URL_SHAPE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(URL_PATTERN).unwrap_or_else(|e| panic!("URL_PATTERN is not a regex: {e}"))
});

pub fn check_url(invalid: &mut Invalid, field: &str, url: &str, targets: super::targets::Targets) {
    if url.chars().count() > MAX_URL_CHARS {
        invalid.add(field, format!("must be at most {MAX_URL_CHARS} characters"));
        return;
    }
    if !URL_SHAPE.is_match(url) {
        invalid.add(
            field,
            "must be an http or https URL with a host name or IPv4 address, a port and a plain path",
        );
        return;
    }
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            if !u.username().is_empty() || u.password().is_some() {
                invalid.add(field, "must not hold credentials");
            } else if !targets.allows_scheme(u.scheme()) {
                invalid.add(
                    field,
                    "must be an https URL: a delivery carries patients' ids, alert rules and \
                     complication grades (plain http only for local testing, with \
                     AFTERCARE_WEBHOOK_ALLOW_PRIVATE)",
                );
            } else if u.host().is_some_and(|h| !targets.allows_host(&h)) {
                invalid.add(
                    field,
                    "must be on the public internet: not loopback, private, link-local, \
                     carrier-grade NAT, multicast, reserved or localhost",
                );
            }
        }
        Ok(_) => invalid.add(field, "must be an http or https URL"),
        Err(_) => invalid.add(field, "must be an absolute http or https URL"),
    }
}

/// Events are a non-empty list of the known types.
pub fn check_events(invalid: &mut Invalid, field: &str, events: &[EventType]) {
    if events.is_empty() {
        invalid.add(field, "must name at least one event type");
    }
}

pub fn check_secret(invalid: &mut Invalid, field: &str, secret: &str) {
    let n = secret.chars().count();
    invalid.check(
        (MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n),
        field,
        "must be 16-200 characters",
    );
    invalid.check(
        !secret.chars().any(super::text::is_schema_space),
        field,
        "must not contain white space",
    );
}

#[cfg(test)]
mod tests {
    use crate::domain::targets::Targets;

    const LOCAL_TESTING: Targets = Targets {
        allow_private: true,
    };

    #[test]
    fn a_secret_has_no_white_space_as_the_document_counts_it() {
        let check = |secret: &str| {
            let mut invalid = Invalid::default();
            check_secret(&mut invalid, "secret", secret);
            invalid.0.len()
        };
        // NEL is no white space to the document's `\S`; a no-break space and a BOM are.
        assert_eq!(check("0123456789abcdef\u{85}"), 0);
        assert_eq!(check("0123456789abcdef\u{a0}"), 1);
        assert_eq!(check("0123456789abcdef\u{feff}"), 1);
        assert_eq!(check("0123456789 abcdef"), 1);
    }

    #[test]
    fn urls_take_the_documented_shape() {
        for ok in [
            "https://hooks.clinic.example/aftercare?x=1",
            "http://127.0.0.1:49152/",
            "http://localhost:8080",
            "http://27.8.222.253:65514",
        ] {
            let mut invalid = Invalid::default();
            check_url(&mut invalid, "url", ok, LOCAL_TESTING);
            assert!(invalid.0.is_empty(), "{ok}");
        }
        for bad in [
            // A leading zero makes an IPv4 part octal (WHATWG URL), and 08 is no octal number.
            "http://27.08.222.253:65514",
            "http://0*",
            "http://",
            "ftp://x.example/",
            "http://1.2.3.4.5/",
            "http://x.example:70000/",
            "https://user:pw@x.example/",
        ] {
            let mut invalid = Invalid::default();
            check_url(&mut invalid, "url", bad, LOCAL_TESTING);
            assert_eq!(invalid.0.len(), 1, "{bad}");
        }
    }

    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // As Python's hmac module computes it.
        assert_eq!(
            signature("whsec-0123456789abcdef", 1_700_000_000, br#"{"id":1}"#),
            "v1=139d89016db745c75bf654476b1450b5650c0885f51ba9dae48257ca45752295"
        );
    }

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let base = Duration::from_secs(30);
        let cap = Duration::from_secs(3600);
        let waits: Vec<u64> = (1..=9).map(|n| backoff(n, base, cap).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(u32::MAX, base, cap), cap);
    }

    #[test]
    fn endpoints_are_https_urls_without_credentials() {
        let check = |url: &str| {
            let mut invalid = Invalid::default();
            check_url(&mut invalid, "url", url, Targets::default());
            invalid.0.len()
        };
        assert_eq!(check("https://hooks.example.com/aftercare?x=1"), 0);
        assert_eq!(check("https://93.184.215.14:9000/"), 0);
        // Plain http, even to a public place, only for local testing.
        assert_eq!(check("http://93.184.215.14:9000/"), 1);
        assert_eq!(check("http://hooks.example.com/aftercare"), 1);
        assert_eq!(check("HTTP://hooks.example.com/aftercare"), 1);
        assert_eq!(check("ftp://example.com/"), 1);
        assert_eq!(check("/relative"), 1);
        assert_eq!(check("https://user:pw@example.com/"), 1);
        assert_eq!(check(&format!("https://e.com/{}", "a".repeat(2000))), 1);
    }

    #[test]
    fn only_public_places_unless_private_ones_are_allowed() {
        let check = |url: &str, targets: Targets| {
            let mut invalid = Invalid::default();
            check_url(&mut invalid, "url", url, targets);
            invalid.0.len()
        };
        for local in [
            "http://127.0.0.1:5432/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.1.2.3/",
            "http://localhost:8080/",
            "http://0.0.0.0/",
        ] {
            assert_eq!(check(local, Targets::default()), 1, "{local}");
            assert_eq!(check(local, LOCAL_TESTING), 0, "{local}");
        }
        // Names other than localhost are checked where they resolve, when a delivery is sent.
        assert_eq!(
            check("https://internal.example:8080/", Targets::default()),
            0
        );
        assert_eq!(check("https://8.8.8.8/", Targets::default()), 0);
        assert_eq!(check("http://8.8.8.8/", LOCAL_TESTING), 0);
    }

    /// IPv6 literals are no webhook URL at all (a name that resolves to one is checked by
    /// `targets::is_public` when sent): the forms that carry an IPv4 address are refused here
    /// whatever it is, and a public IPv4 address beside each passes.
    #[test]
    fn ipv6_literals_that_carry_ipv4_addresses_are_refused() {
        let check = |url: &str| {
            let mut invalid = Invalid::default();
            check_url(&mut invalid, "url", url, Targets::default());
            invalid.0.len()
        };
        for (refused, allowed) in [
            ("https://[64:ff9b:1::a00:1]/in", "https://nat64.example/in"),
            ("https://[64:ff9b::a00:1]/in", "https://8.8.8.8/in"),
            ("https://[::ffff:0:a00:1]/in", "https://11.0.0.1/in"),
            ("https://[::ffff:a00:1]/in", "https://93.184.215.14/in"),
            ("https://[::a00:1]/in", "https://1.1.1.1/in"),
        ] {
            assert_eq!(check(refused), 1, "{refused}");
            assert_eq!(check(allowed), 0, "{allowed}");
        }
    }

    #[test]
    fn event_types_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                serde_json::json!(t.as_str())
            );
        }
        let mut invalid = Invalid::default();
        check_events(&mut invalid, "events", &[EventType::AlertRaised]);
        check_events(&mut invalid, "events", &[]);
        assert_eq!(invalid.0.len(), 1);
    }
}
