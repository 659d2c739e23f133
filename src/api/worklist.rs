//! The worklist: what the clinic has to do next, one card per treatment with its open alerts and
//! the notes nobody has read, urgent first and then the longest waiting; a clinician takes a card
//! and marks notes read. Beside it, the patients due to check in today who haven't.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::alerts::{Alert, with_evidence};
use crate::db::{self, Pool};
use crate::domain::alerts::Level;
use crate::domain::ids::{AlertId, CheckInId, StaffId, TreatmentId};
use crate::domain::worklist::card_order;
use crate::error::ApiError;
use crate::read_model::Store;
use crate::read_model::due::due_today;
use crate::services::worklist;
use crate::web::auth::Caller;

/// The patient a card or a due check-in is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardPatient {
    pub id: Uuid,
    pub external_ref: String,
    pub display_name: Option<String>,
    /// The number to call, when the clinic has one.
    pub contact_phone: Option<String>,
}

/// A check-in's note that no clinician has marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadNote {
    pub check_in_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    /// Days since the treatment.
    pub day: i32,
    pub note: String,
}

/// Who took a card.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignee {
    pub staff_id: Uuid,
    pub name: String,
    pub assigned_at: DateTime<Utc>,
}

/// One treatment that needs the clinic: its open alerts and unread notes together.
#[derive(Debug, Serialize, ToSchema)]
pub struct Card {
    pub treatment_id: Uuid,
    pub protocol_id: Uuid,
    pub performed_at: DateTime<Utc>,
    pub patient: CardPatient,
    /// The most pressing level of the card's alerts; null when it holds only notes.
    pub level: Option<Level>,
    /// When the patient reported the oldest thing on the card nobody has handled: the check-in
    /// behind an alert or a note (or, for missed check-ins, when the alert was raised).
    pub reported_at: DateTime<Utc>,
    /// That report's day since the treatment.
    pub reported_day: i32,
    /// The open and acknowledged alerts, most pressing first, each with its latest evidence.
    pub alerts: Vec<Alert>,
    pub unread_notes: Vec<UnreadNote>,
    /// Null while nobody has taken the card.
    pub assignee: Option<Assignee>,
}

/// A treatment with a check-in due today and none made yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueToday {
    pub treatment_id: Uuid,
    pub protocol_id: Uuid,
    pub patient: CardPatient,
    /// Today's day since the treatment.
    pub day: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Worklist {
    /// The clinic's time zone, in which a clinic reads the times.
    pub timezone: String,
    /// Urgent first, then high, then normal and notes alone; within a level, the longest waiting
    /// first. At most 1,000 alerts and 1,000 notes are read.
    pub cards: Vec<Card>,
    /// Due to check in today and not checked in yet, by day since treatment.
    pub due_today: Vec<DueToday>,
}

/// A card being put together.
#[derive(Default)]
struct Draft {
    alerts: Vec<(db::alerts::Alert, DateTime<Utc>)>,
    notes: Vec<db::worklist::UnreadNote>,
}

/// The clinic's worklist: one card per treatment with open alerts or unread notes, and the
/// patients due to check in today who haven't.
#[utoipa::path(
    tag = "worklist",
    security(("bearer" = [])),
    responses((status = 200, description = "The worklist", body = Worklist))
)]
#[get("/v1/worklist")]
pub async fn get(
    pool: web::Data<Pool>,
    store: web::Data<Store>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<Worklist>, ApiError> {
    let store = store.into_inner();
    let tenant = caller.tenant;
    let (timezone, drafts, evidence, facts, assignees, due) = db::run(&pool, move |conn| {
        let clinic = db::clinics::get(conn, tenant)?;
        let alerts = db::worklist::open_alerts(conn, tenant)?;
        let ids: Vec<AlertId> = alerts.iter().map(|a| a.id).collect();
        let reported: HashMap<AlertId, DateTime<Utc>> = db::worklist::reported_at(conn, &ids)?
            .into_iter()
            .filter_map(|(id, at)| Some((id, at?)))
            .collect();
        let evidence = db::alerts::latest_evidence(conn, tenant, &ids)?;
        let mut drafts: BTreeMap<TreatmentId, Draft> = BTreeMap::new();
        for a in alerts {
            let at = reported.get(&a.id).copied().unwrap_or(a.raised_at);
            drafts
                .entry(a.treatment_id)
                .or_default()
                .alerts
                .push((a, at));
        }
        for n in db::worklist::unread_notes(conn, tenant)? {
            drafts.entry(n.treatment_id).or_default().notes.push(n);
        }
        let due = due_today(conn, &store, tenant, Utc::now())?;
        let treatments: Vec<TreatmentId> = drafts
            .keys()
            .copied()
            .chain(due.iter().map(|d| TreatmentId::from(d.treatment_id)))
            .collect();
        let facts = db::worklist::card_facts(conn, tenant, &treatments)?;
        let assignees = db::worklist::assignments(conn, tenant, &treatments)?;
        Ok::<_, ApiError>((clinic.timezone, drafts, evidence, facts, assignees, due))
    })
    .await?;

    let facts: HashMap<TreatmentId, db::worklist::CardFacts> =
        facts.into_iter().map(|f| (f.treatment_id, f)).collect();
    let mut assignees: HashMap<TreatmentId, Assignee> = assignees
        .into_iter()
        .map(|a| {
            let who = Assignee {
                staff_id: a.staff_id.uuid(),
                name: a.name,
                assigned_at: a.assigned_at,
            };
            (a.treatment_id, who)
        })
        .collect();
    let mut cards: Vec<Card> = drafts
        .into_iter()
        .filter_map(|(id, draft)| {
            let f = facts.get(&id)?;
            Some(draft.into_card(f, &evidence, assignees.remove(&id)))
        })
        .collect();
    cards.sort_by_key(|c| card_order(c.level, c.reported_at));
    let mut due_today: Vec<DueToday> = due
        .into_iter()
        .filter_map(|d| {
            let f = facts.get(&TreatmentId::from(d.treatment_id))?;
            Some(DueToday {
                treatment_id: d.treatment_id,
                protocol_id: d.protocol_id,
                patient: patient(f),
                day: d.day as i32,
            })
        })
        .collect();
    due_today.sort_by_key(|d| (d.day, d.patient.external_ref.clone()));
    let shown = cards.iter().map(|c| c.patient.id);
    crate::api::trail::shown(&req, shown.chain(due_today.iter().map(|d| d.patient.id)));
    Ok(web::Json(Worklist {
        timezone,
        cards,
        due_today,
    }))
}

fn patient(f: &db::worklist::CardFacts) -> CardPatient {
    CardPatient {
        id: f.patient_id.uuid(),
        external_ref: f.external_ref.clone(),
        display_name: f.display_name.clone(),
        contact_phone: f.contact_phone.clone(),
    }
}

impl Draft {
    fn into_card(
        self,
        f: &db::worklist::CardFacts,
        evidence: &[db::alerts::Evidence],
        assignee: Option<Assignee>,
    ) -> Card {
        let level = self.alerts.iter().map(|(a, _)| a.level).min();
        // The oldest report nobody handled, and its day since the treatment.
        let from_alerts = self.alerts.iter().map(|(a, at)| (*at, a.day));
        let from_notes = self.notes.iter().map(|n| (n.recorded_at, n.day));
        let (reported_at, reported_day) = from_alerts
            .chain(from_notes)
            .min()
            .unwrap_or((f.performed_at, 0));
        let alerts = self
            .alerts
            .into_iter()
            .map(|(a, _)| {
                let latest = evidence
                    .iter()
                    .filter(|e| e.alert_id == a.id)
                    .cloned()
                    .collect();
                with_evidence(a, latest)
            })
            .collect();
        let unread_notes = self
            .notes
            .into_iter()
            .map(|n| UnreadNote {
                check_in_id: n.check_in_id.uuid(),
                recorded_at: n.recorded_at,
                day: n.day,
                note: n.note.unwrap_or_default(),
            })
            .collect();
        Card {
            treatment_id: f.treatment_id.uuid(),
            protocol_id: f.protocol_id.uuid(),
            performed_at: f.performed_at,
            patient: patient(f),
            level,
            reported_at,
            reported_day,
            alerts,
            unread_notes,
            assignee,
        }
    }
}

/// A note marked read: by whom and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteRead {
    pub check_in_id: Uuid,
    pub read_by: Uuid,
    pub read_at: DateTime<Utc>,
}

/// Mark a check-in's note read: it leaves the worklist. Marking it again changes nothing (the
/// first reader stays).
#[utoipa::path(
    tag = "worklist",
    params(("id" = Uuid, Path, description = "The check-in")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The note, read", body = NoteRead),
        (status = 404, description = "No check-in of the clinic with a note has this id", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/check-ins/{id}/note-read")]
pub async fn mark_note_read(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<NoteRead>, ApiError> {
    let staff_id = StaffId::from(caller.id);
    let id = id.into_inner();
    let (read_by, read_at) = db::run(&pool, move |conn| {
        worklist::mark_note_read(conn, caller.tenant, CheckInId::from(id), staff_id)
    })
    .await?;
    Ok(web::Json(NoteRead {
        check_in_id: id,
        read_by: read_by.uuid(),
        read_at,
    }))
}

/// Take a treatment's card ("assigned to me"): the others see who has it. Taking a card someone
/// else has takes it over.
#[utoipa::path(
    tag = "worklist",
    params(("id" = Uuid, Path, description = "The treatment")),
    security(("bearer" = [])),
    responses((status = 200, description = "The card's assignee: you", body = Assignee))
)]
#[put("/v1/treatments/{id}/assignee")]
pub async fn take(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Assignee>, ApiError> {
    let staff_id = StaffId::from(caller.id);
    let id = id.into_inner();
    let assignee = db::run(&pool, move |conn| {
        worklist::take(conn, caller.tenant, TreatmentId::from(id), staff_id)
    })
    .await?;
    Ok(web::Json(Assignee {
        staff_id: assignee.staff_id.uuid(),
        name: assignee.name,
        assigned_at: assignee.assigned_at,
    }))
}

/// Put a treatment's card back for anyone to take.
#[utoipa::path(
    tag = "worklist",
    params(("id" = Uuid, Path, description = "The treatment")),
    security(("bearer" = [])),
    responses((status = 204, description = "Nobody has the card now"))
)]
#[delete("/v1/treatments/{id}/assignee")]
pub async fn release(
    pool: web::Data<Pool>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db::run(&pool, move |conn| {
        worklist::release(conn, caller.tenant, TreatmentId::from(id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
