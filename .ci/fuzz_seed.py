#!/usr/bin/env python3
"""Seeds a fresh Aftercare server for the contract fuzzing of `.ci/fuzz`, and hands out access tokens.

    fuzz_seed.py seed API ADMIN_EMAIL ADMIN_PASSWORD   adds a clinician, a protocol, two patients with
                                                       a treatment each (a few days ago), and enrolls
                                                       one of them, who checks in; prints the ids the
                                                       fuzzer is given, as shell assignments
    fuzz_seed.py times                                 prints now, yesterday and today's date in the
                                                       clinic's time zone, as shell assignments
    fuzz_seed.py token API ROLE                        prints a fresh access token for admin,
                                                       clinician or patient

Only the standard library, so it runs before (and without) the fuzzer's virtualenv.
"""

import json
import time
import os
import shlex
import sys
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

TIMEZONE = "Europe/Berlin"
CLINICIAN = {"email": "dr.fuzz@fuzz.example", "password": "a-long-fuzzing-passphrase"}
STATE = "fuzz-seed.json"


def call(api, method, path, body=None, token=None, expect=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(api + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    for _ in range(5):
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                status, text = res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
            # An account the fuzzer tried too often waits a little, as any client would.
            if status == 429:
                time.sleep(int(e.headers.get("retry-after", "1")))
                continue
        break
    if status not in expect:
        sys.exit(f"seeding failed: {method} {path} answered {status}: {text}")
    return json.loads(text) if text else None


def login(api, email, password):
    return call(api, "POST", "/v1/auth/login", {"email": email, "password": password})["access_token"]


def enroll(api, doc, patient_id):
    code = call(api, "POST", f"/v1/patients/{patient_id}/enrollment-codes", token=doc)["code"]
    return call(api, "POST", "/v1/auth/enroll", {"code": code})


def seed(api, admin_email, admin_password, state_dir):
    admin = login(api, admin_email, admin_password)
    clinician = call(api, "POST", "/v1/staff",
                     {**CLINICIAN, "role": "clinician", "name": "Dr. Fuzz"}, admin)
    doc = login(api, CLINICIAN["email"], CLINICIAN["password"])
    protocol = call(api, "POST", "/v1/protocols", {
        "name": "Face 1.0 mm", "procedure": "microneedling", "needle_depth_mm": 1.0,
        "areas": ["face"], "sessions_planned": 3, "interval_days": 28,
        "aftercare_instructions": "SPF 50, no make-up for 24 hours.",
    }, doc)
    screening = {c: False for c in (
        "active_acne", "skin_infection", "eczema_psoriasis", "keloid_history",
        "bleeding_disorder", "pregnancy", "skin_allergy", "diabetes")}
    now = datetime.now(timezone.utc)
    today = now.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
    made = {"FUZZ_CLINICIAN_ID": clinician["id"], "FUZZ_PROTOCOL_ID": protocol["id"]}
    for ref in ("FUZZ-0001", "FUZZ-0002"):
        patient = call(api, "POST", "/v1/patients",
                       {"external_ref": ref, "fitzpatrick_type": 3, "concerns": ["acne_scars"]}, doc)
        treatment = call(api, "POST", f"/v1/patients/{patient['id']}/treatments", {
            "protocol_id": protocol["id"], "performed_at": (now - timedelta(days=3)).isoformat(),
            "contraindications": screening, "notes": "Tolerated well.",
        }, doc)
        made["FUZZ_PATIENT_ID"], made["FUZZ_TREATMENT_ID"] = patient["id"], treatment["id"]
    # The second patient is enrolled, checks in (raising urgent alerts), has a complication and
    # an outcome recorded: the resources whose ids the fuzzer is given.
    me = enroll(api, doc, made["FUZZ_PATIENT_ID"])["access_token"]
    check_in = call(api, "POST", "/v1/check-ins", {
        "id": str(uuid.uuid4()), "treatment_id": made["FUZZ_TREATMENT_ID"],
        "recorded_at": now.isoformat(), "scores": {"redness": 2, "swelling": 1, "infection": 1, "fever": 1},
        "aftercare": {"sunscreen": True}, "note": "a little warm",
    }, me)
    made["FUZZ_CHECK_IN_ID"] = check_in["id"]
    made["FUZZ_ALERT_ID"] = check_in["alerts"][0]["id"]
    treatment_path = f"/v1/treatments/{made['FUZZ_TREATMENT_ID']}"
    made["FUZZ_EVENT_ID"] = call(api, "POST", f"{treatment_path}/adverse-events", {
        "term": "erythema", "grade": 1, "serious": False, "onset_date": today, "outcome": "recovering",
    }, doc)["id"]
    made["FUZZ_OUTCOME_ID"] = call(api, "POST", f"{treatment_path}/outcomes",
                                   {"assessed_on": today, "gais": 1, "satisfaction": 7}, doc)["id"]
    # What the fuzzer may end for good: a patient to erase and a staff member to deactivate, so
    # that the seeded patient and clinician stay for the other roles' runs.
    made["FUZZ_ERASABLE_PATIENT_ID"] = call(api, "POST", "/v1/patients",
                                            {"external_ref": "FUZZ-0003"}, doc)["id"]
    made["FUZZ_SPARE_STAFF_ID"] = call(api, "POST", "/v1/staff", {
        "email": "spare@fuzz.aftercare.test", "password": CLINICIAN["password"],
        "role": "clinician", "name": "Dr. Spare"}, admin)["id"]
    # Cursors are opaque: only one the API gave out is valid. The lists ordered by time take any
    # of theirs.
    made["FUZZ_CURSOR"] = call(api, "GET", "/v1/patients?limit=1", token=doc)["next_cursor"]
    # The alert queue orders by level first, and its cursors say so.
    made["FUZZ_ALERT_CURSOR"] = call(api, "GET", "/v1/alerts?limit=1", token=doc)["next_cursor"]
    state = {"admin": [admin_email, admin_password], "patient_id": made["FUZZ_PATIENT_ID"]}
    Path(state_dir, STATE).write_text(json.dumps(state))
    for name, value in made.items():
        print(f"export {name}={shlex.quote(value)}")


def times():
    """The times a body must fall within, as of now: printed before each run of the fuzzer."""
    now = datetime.now(timezone.utc)
    values = {
        "FUZZ_NOW": now.isoformat(),
        "FUZZ_YESTERDAY": (now - timedelta(days=1)).isoformat(),
        "FUZZ_TODAY": now.astimezone(ZoneInfo(TIMEZONE)).date().isoformat(),
    }
    for name, value in values.items():
        print(f"export {name}={shlex.quote(value)}")


def token(api, role, state_dir):
    state = json.loads(Path(state_dir, STATE).read_text())
    if role == "admin":
        return login(api, *state["admin"])
    doc = login(api, CLINICIAN["email"], CLINICIAN["password"])
    if role == "clinician":
        return doc
    if role == "patient":
        # A new enrollment signs the same patient in again: a token for 15 minutes from now.
        return enroll(api, doc, state["patient_id"])["access_token"]
    sys.exit(f"unknown role {role!r}")


def main(argv):
    # What was made, and the admin's credentials, are kept in $FUZZ_STATE_DIR between the commands.
    state_dir = os.environ.get("FUZZ_STATE_DIR", ".")
    if len(argv) == 4 and argv[0] == "seed":
        seed(argv[1], argv[2], argv[3], state_dir)
    elif len(argv) == 3 and argv[0] == "token":
        print(token(argv[1], argv[2], state_dir))
    elif argv == ["times"]:
        times()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
