"""The README's flow, through the client that openapi-python-client generates from
openapi/openapi.json: sign in, a protocol, a patient, a treatment, an enrollment code, the patient's
app enrolling and checking in (once, then a batch), the recovery views, two protocols compared, and
the alert queue. `.ci/clients` runs it against a real server, after `mypy --strict`.

    python flow.py API_URL ADMIN_EMAIL ADMIN_PASSWORD
"""

import datetime
import sys
import uuid
from typing import TypeVar

from aftercare_client import AuthenticatedClient, Client
from aftercare_client.api.alerts import alerts_acknowledge, alerts_list
from aftercare_client.api.auth import auth_enroll, auth_login
from aftercare_client.api.check_ins import check_ins_create, check_ins_create_batch
from aftercare_client.api.patients import patients_create, patients_create_enrollment_code
from aftercare_client.api.protocols import protocols_create
from aftercare_client.api.recovery import (
    recovery_compare,
    recovery_patient_recovery,
    recovery_protocol_recovery,
)
from aftercare_client.api.staff import staff_create
from aftercare_client.api.treatments import treatments_create
from aftercare_client.models import (
    AlertStatus,
    Area,
    BatchResult,
    CheckInBatch,
    CheckInReceipt,
    Comparison,
    Concern,
    EnrollmentCode,
    EnrollRequest,
    LoginRequest,
    NewCheckIn,
    NewCheckInScores,
    NewPatient,
    NewProtocol,
    NewStaffRequest,
    NewTreatment,
    NewTreatmentContraindications,
    PageAlert,
    Patient,
    PatientRecovery,
    Procedure,
    Protocol,
    ProtocolRecovery,
    StaffMember,
    StaffRole,
    Alert,
    Tokens,
    Treatment,
)

T = TypeVar("T")


def ok(result: object, kind: type[T]) -> T:
    """The answer, if it is what the operation answers on success; else the flow fails."""
    if not isinstance(result, kind):
        raise SystemExit(f"expected a {kind.__name__}, got {result!r}")
    return result


def sign_in(api: str, email: str, password: str) -> AuthenticatedClient:
    body = LoginRequest(email=email, password=password)
    tokens = ok(auth_login.sync(client=Client(base_url=api), body=body), Tokens)
    return AuthenticatedClient(base_url=api, token=tokens.access_token)


def check_in(treatment: Treatment, at: datetime.datetime, scores: dict[str, int]) -> NewCheckIn:
    return NewCheckIn(
        id=uuid.uuid4(),
        treatment_id=treatment.id,
        recorded_at=at,
        scores=NewCheckInScores.from_dict(scores),
    )


def main(api: str, admin_email: str, admin_password: str) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    admin = sign_in(api, admin_email, admin_password)
    colleague = NewStaffRequest(
        email=f"dr.lee.{uuid.uuid4().hex[:8]}@clinic.example",
        password="maple-orbit-canvas-17",
        role=StaffRole.CLINICIAN,
        name="Dr. Lee",
    )
    ok(staff_create.sync(client=admin, body=colleague), StaffMember)
    doc = sign_in(api, colleague.email, colleague.password)

    protocols = [
        ok(
            protocols_create.sync(
                client=doc,
                body=NewProtocol(
                    name=f"Face {depth} mm {uuid.uuid4().hex[:6]}",
                    procedure=Procedure.MICRONEEDLING,
                    needle_depth_mm=depth,
                    areas=[Area.FACE],
                    sessions_planned=3,
                    interval_days=28,
                ),
            ),
            Protocol,
        )
        for depth in (1.0, 1.5)
    ]
    new_patient = NewPatient(
        external_ref=f"MRN-{uuid.uuid4().hex[:8]}", fitzpatrick_type=3, concerns=[Concern.ACNE_SCARS]
    )
    patient = ok(patients_create.sync(client=doc, body=new_patient), Patient)
    screening = NewTreatmentContraindications(
        active_acne=False,
        skin_infection=False,
        eczema_psoriasis=False,
        keloid_history=False,
        bleeding_disorder=False,
        pregnancy=False,
        skin_allergy=False,
        diabetes=False,
    )
    treatment_body = NewTreatment(
        protocol_id=protocols[0].id,
        performed_at=now - datetime.timedelta(hours=1),
        contraindications=screening,
    )
    treatment = ok(treatments_create.sync(patient.id, client=doc, body=treatment_body), Treatment)

    code = ok(patients_create_enrollment_code.sync(patient.id, client=doc), EnrollmentCode)
    enrolled = auth_enroll.sync(client=Client(base_url=api), body=EnrollRequest(code=code.code))
    me = AuthenticatedClient(base_url=api, token=ok(enrolled, Tokens).access_token)

    first = check_in(treatment, now - datetime.timedelta(minutes=30), {"redness": 2, "swelling": 1})
    receipt = ok(check_ins_create.sync(client=me, body=first), CheckInReceipt)
    assert receipt.id == first.id
    batch = CheckInBatch(
        check_ins=[
            check_in(treatment, now - datetime.timedelta(minutes=20), {"redness": 2}),
            check_in(treatment, now - datetime.timedelta(minutes=10), {"infection": 1}),
        ]
    )
    results = ok(check_ins_create_batch.sync(client=me, body=batch), BatchResult).results
    assert [r.status for r in results] == [201, 201], results

    ok(recovery_patient_recovery.sync(patient.id, client=doc), PatientRecovery)
    ok(recovery_protocol_recovery.sync(protocols[0].id, client=doc), ProtocolRecovery)
    ids = [p.id for p in protocols]
    comparison = ok(recovery_compare.sync(client=doc, ids=ids), Comparison)
    assert [p.protocol_id for p in comparison.protocols] == ids

    queue = ok(alerts_list.sync(client=doc, patient_id=patient.id), PageAlert)
    assert queue.items, "the check-in with signs of infection raised no alert"
    alert = ok(alerts_acknowledge.sync(queue.items[0].id, client=doc), Alert)
    assert alert.status == AlertStatus.ACKNOWLEDGED
    print(f"python client: the flow ran, {len(queue.items)} alert(s) raised")


if __name__ == "__main__":
    main(*sys.argv[1:4])
