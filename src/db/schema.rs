// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "xid8", schema = "pg_catalog"))]
    pub struct Xid8;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    adverse_events (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        treatment_id -> Uuid,
        term -> Text,
        grade -> Int2,
        serious -> Bool,
        onset_date -> Date,
        outcome -> Text,
        notes -> Nullable<Text>,
        recorded_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        xid -> Xid8,
    }
}

diesel::table! {
    alert_evidence (id) {
        id -> Uuid,
        alert_id -> Uuid,
        check_in_id -> Nullable<Uuid>,
        day -> Int4,
        detail -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    alerts (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        treatment_id -> Uuid,
        rule -> Text,
        level -> Text,
        level_rank -> Int2,
        status -> Text,
        day -> Int4,
        evidence_count -> Int4,
        raised_at -> Timestamptz,
        acknowledged_at -> Nullable<Timestamptz>,
        acknowledged_by -> Nullable<Uuid>,
        resolved_at -> Nullable<Timestamptz>,
        resolved_by -> Nullable<Uuid>,
        resolution_note -> Nullable<Text>,
        resolution_action -> Nullable<Text>,
    }
}

diesel::table! {
    audit_chains (clinic_id) {
        clinic_id -> Uuid,
        seq -> Int8,
        hash -> Bytea,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        at -> Timestamptz,
        actor_id -> Uuid,
        actor_role -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Uuid>,
        patient_id -> Nullable<Uuid>,
        request_id -> Text,
        status -> Int2,
        outcome -> Text,
        seq -> Nullable<Int8>,
        prev_hash -> Nullable<Bytea>,
        hash -> Nullable<Bytea>,
    }
}

diesel::table! {
    card_assignments (treatment_id) {
        treatment_id -> Uuid,
        clinic_id -> Uuid,
        staff_id -> Uuid,
        assigned_at -> Timestamptz,
    }
}

diesel::table! {
    check_in_scores (check_in_id, symptom_code) {
        check_in_id -> Uuid,
        symptom_code -> Text,
        score -> Int2,
        clinic_id -> Uuid,
        treatment_id -> Uuid,
        protocol_id -> Uuid,
        day -> Int4,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    check_ins (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        treatment_id -> Uuid,
        recorded_at -> Timestamptz,
        day -> Int4,
        sunscreen -> Nullable<Bool>,
        sun_exposure -> Nullable<Bool>,
        makeup -> Nullable<Bool>,
        exercise -> Nullable<Bool>,
        hot_shower -> Nullable<Bool>,
        note -> Nullable<Text>,
        received_at -> Timestamptz,
        xid -> Xid8,
    }
}

diesel::table! {
    clinics (id) {
        id -> Uuid,
        name -> Text,
        timezone -> Text,
        created_at -> Timestamptz,
        contact_phone -> Nullable<Text>,
        reminder_hour -> Int2,
        code -> Text,
    }
}

diesel::table! {
    enrollment_codes (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        code_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_by -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    fhir_client_assertions (client_id, jti) {
        client_id -> Uuid,
        jti -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    fhir_clients (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        name -> Text,
        jwks -> Jsonb,
        created_by -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    fhir_export_files (id) {
        id -> Uuid,
        export_id -> Uuid,
        clinic_id -> Uuid,
        resource_type -> Text,
        seq -> Int4,
        count -> Int4,
        body -> Text,
        patients -> Array<Nullable<Uuid>>,
    }
}

diesel::table! {
    fhir_export_marks (clinic_id, transaction_time) {
        clinic_id -> Uuid,
        transaction_time -> Timestamptz,
        snapshot -> Text,
    }
}

diesel::table! {
    fhir_exports (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        requested_by -> Uuid,
        request -> Text,
        group_id -> Nullable<Uuid>,
        types -> Array<Nullable<Text>>,
        since -> Nullable<Timestamptz>,
        status -> Text,
        progress -> Text,
        error -> Nullable<Text>,
        transaction_time -> Timestamptz,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        expires_at -> Timestamptz,
        requester_kind -> Text,
        type_filters -> Array<Nullable<Text>>,
        patients -> Nullable<Array<Nullable<Uuid>>>,
        snapshot -> Text,
        since_snapshot -> Nullable<Text>,
    }
}

diesel::table! {
    note_reads (check_in_id) {
        check_in_id -> Uuid,
        clinic_id -> Uuid,
        read_by -> Uuid,
        read_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    outcomes (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        treatment_id -> Uuid,
        assessed_on -> Date,
        assessor -> Text,
        gais -> Int2,
        satisfaction -> Int2,
        goodman_baron -> Nullable<Int2>,
        notes -> Nullable<Text>,
        recorded_by_staff -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        xid -> Xid8,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        staff_id -> Uuid,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_by -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    patient_erasures (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        reason -> Text,
        erased_by -> Uuid,
        erased_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    patients (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        external_ref -> Text,
        display_name -> Nullable<Text>,
        birth_year -> Nullable<Int4>,
        fitzpatrick_type -> Nullable<Int2>,
        concerns -> Array<Nullable<Text>>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        xid -> Xid8,
        external_ref_key -> Text,
        contact_phone -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    photos (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        check_in_id -> Uuid,
        storage_key -> Text,
        thumbnail_key -> Text,
        content_type -> Text,
        width -> Int4,
        height -> Int4,
        bytes -> Int8,
        clinical_use_consented_at -> Timestamptz,
        before_after_consented_at -> Nullable<Timestamptz>,
        before_after_withdrawn_at -> Nullable<Timestamptz>,
        flagged_by -> Nullable<Uuid>,
        flagged_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        xid -> Xid8,
    }
}

diesel::table! {
    protocols (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        name -> Text,
        procedure -> Text,
        needle_depth_mm -> Float8,
        areas -> Array<Nullable<Text>>,
        sessions_planned -> Int4,
        interval_days -> Int4,
        check_in_days -> Array<Nullable<Int4>>,
        aftercare_instructions -> Text,
        created_at -> Timestamptz,
        photo_days -> Array<Nullable<Int4>>,
    }
}

diesel::table! {
    push_deliveries (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        subscription_id -> Uuid,
        payload -> Jsonb,
        status -> Text,
        failures -> Int4,
        next_attempt_at -> Timestamptz,
        deadline -> Timestamptz,
        last_status -> Nullable<Int2>,
        sent_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    push_subscriptions (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        endpoint -> Text,
        p256dh -> Bytea,
        auth -> Bytea,
        language -> Text,
        session_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        family_id -> Uuid,
        clinic_id -> Uuid,
        staff_id -> Nullable<Uuid>,
        patient_id -> Nullable<Uuid>,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        family_started_at -> Timestamptz,
        client -> Nullable<Text>,
    }
}

diesel::table! {
    reminders (treatment_id, day) {
        treatment_id -> Uuid,
        day -> Int4,
        clinic_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    staff (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        name -> Text,
        created_at -> Timestamptz,
        active -> Bool,
    }
}

diesel::table! {
    symptoms (id) {
        id -> Uuid,
        clinic_id -> Nullable<Uuid>,
        code -> Text,
        label -> Text,
        kind -> Text,
        position -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    treatment_deletions (treatment_id) {
        treatment_id -> Uuid,
        xid -> Xid8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    treatments (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        protocol_id -> Uuid,
        performed_at -> Timestamptz,
        needle_depth_mm -> Float8,
        areas -> Array<Nullable<Text>>,
        session_number -> Int4,
        contraindications -> Jsonb,
        override_reason -> Nullable<Text>,
        notes -> Nullable<Text>,
        created_by -> Uuid,
        created_at -> Timestamptz,
        xid -> Xid8,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Uuid,
        delivery_id -> Uuid,
        attempted_at -> Timestamptz,
        http_status -> Nullable<Int2>,
        error -> Nullable<Text>,
        duration_ms -> Int4,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        webhook_id -> Uuid,
        event_id -> Uuid,
        status -> Text,
        failures -> Int4,
        next_attempt_at -> Timestamptz,
        deadline -> Timestamptz,
        last_status -> Nullable<Int2>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        payload -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        url -> Text,
        events -> Array<Nullable<Text>>,
        secret -> Text,
        active -> Bool,
        created_by -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(alert_evidence -> alerts (alert_id));
diesel::joinable!(alert_evidence -> check_ins (check_in_id));
diesel::joinable!(audit_chains -> clinics (clinic_id));
diesel::joinable!(audit_events -> clinics (clinic_id));
diesel::joinable!(check_in_scores -> check_ins (check_in_id));
diesel::joinable!(fhir_client_assertions -> fhir_clients (client_id));
diesel::joinable!(fhir_clients -> clinics (clinic_id));
diesel::joinable!(fhir_export_files -> clinics (clinic_id));
diesel::joinable!(fhir_export_files -> fhir_exports (export_id));
diesel::joinable!(fhir_export_marks -> clinics (clinic_id));
diesel::joinable!(fhir_exports -> clinics (clinic_id));
diesel::joinable!(note_reads -> check_ins (check_in_id));
diesel::joinable!(password_resets -> clinics (clinic_id));
diesel::joinable!(patient_erasures -> clinics (clinic_id));
diesel::joinable!(patients -> clinics (clinic_id));
diesel::joinable!(photos -> check_ins (check_in_id));
diesel::joinable!(photos -> clinics (clinic_id));
diesel::joinable!(protocols -> clinics (clinic_id));
diesel::joinable!(refresh_tokens -> clinics (clinic_id));
diesel::joinable!(staff -> clinics (clinic_id));
diesel::joinable!(symptoms -> clinics (clinic_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(webhook_events -> clinics (clinic_id));
diesel::joinable!(webhooks -> clinics (clinic_id));

diesel::allow_tables_to_appear_in_same_query!(
    adverse_events,
    alert_evidence,
    alerts,
    audit_chains,
    audit_events,
    card_assignments,
    check_in_scores,
    check_ins,
    clinics,
    enrollment_codes,
    fhir_client_assertions,
    fhir_clients,
    fhir_export_files,
    fhir_export_marks,
    fhir_exports,
    note_reads,
    outcomes,
    password_resets,
    patient_erasures,
    patients,
    photos,
    protocols,
    push_deliveries,
    push_subscriptions,
    refresh_tokens,
    reminders,
    staff,
    symptoms,
    treatment_deletions,
    treatments,
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
    webhooks,
);
