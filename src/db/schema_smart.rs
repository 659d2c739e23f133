// @generated automatically by Diesel CLI.

diesel::table! {
    smart_app_assertions (app_id, jti) {
        app_id -> Uuid,
        jti -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    smart_approvals (app_id, user_id) {
        app_id -> Uuid,
        user_id -> Uuid,
        scopes -> Text,
        approved_at -> Timestamptz,
    }
}

diesel::table! {
    smart_apps (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        name -> Text,
        redirect_uris -> Array<Nullable<Text>>,
        launch_url -> Nullable<Text>,
        client_type -> Text,
        jwks -> Nullable<Jsonb>,
        scopes -> Text,
        created_by -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    smart_codes (code_hash) {
        code_hash -> Bytea,
        app_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        patient_id -> Nullable<Uuid>,
        scope -> Text,
        redirect_uri -> Text,
        code_challenge -> Text,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    smart_launches (id) {
        id -> Uuid,
        app_id -> Uuid,
        staff_id -> Uuid,
        patient_id -> Uuid,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    smart_tokens (id) {
        id -> Uuid,
        app_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        patient_id -> Nullable<Uuid>,
        scope -> Text,
        code_hash -> Bytea,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(smart_app_assertions -> smart_apps (app_id));
diesel::joinable!(smart_approvals -> smart_apps (app_id));
diesel::joinable!(smart_codes -> smart_apps (app_id));
diesel::joinable!(smart_launches -> smart_apps (app_id));
diesel::joinable!(smart_tokens -> smart_apps (app_id));

diesel::allow_tables_to_appear_in_same_query!(
    smart_app_assertions,
    smart_approvals,
    smart_apps,
    smart_codes,
    smart_launches,
    smart_tokens,
);
