#!/usr/bin/env python3
"""The phones, the webhook receiver and the watchers of `.ci/failover`, and its checks.

    failover_phones.py   (settings from the environment that .ci/failover sets: FO_*)

Seeds the clinic through the API (a clinician, a protocol, patients with a treatment each, enrolled
phones, a webhook to a receiver here), then runs phones that post check-ins with retries and the same
ids, a poller of /readyz every 100 ms and a poller of each node's writability, kills the primary's
postmaster mid-stream, and checks what .ci/failover's header says. Exits 1 if a check fails.

Only the standard library; psql reads the database.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENV = os.environ
API = ENV["FO_API"]
BIN = ENV["FO_BIN"]
DB = ENV["FO_DATABASE_URL"]
NODES = ENV["FO_NODES"].split(",")  # host:port of each PostgreSQL node, the primary first
PRIMARY_PID_FILE = ENV["FO_PRIMARY_PID_FILE"]
WORK = ENV["FO_WORK"]
PHONES = int(ENV.get("FO_PHONES", "4"))
BEFORE_KILL = float(ENV.get("FO_BEFORE_KILL", "8"))
AFTER_RECOVERY = float(ENV.get("FO_AFTER_RECOVERY", "10"))
PASSWORD = "failover-drill-passphrase-81"
T0 = time.monotonic()


def now():
    return time.monotonic() - T0


def call(api, method, path, body=None, token=None, expect=(200, 201), timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(api + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            status, text = res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if expect and status not in expect:
        sys.exit(f"{method} {path} answered {status}: {text}")
    return status, (json.loads(text) if text else None)


def psql(sql, url=DB):
    out = subprocess.run(["psql", url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


# -- seeding ---------------------------------------------------------------------------------------

def seed(api, receiver_port):
    _, admin = call(api, "POST", "/v1/auth/login",
                    {"email": ENV["FO_ADMIN_EMAIL"], "password": ENV["FO_ADMIN_PASSWORD"]})
    admin = admin["access_token"]
    email = "dr.failover@failover.example"
    call(api, "POST", "/v1/staff", {"email": email, "password": PASSWORD, "role": "clinician",
                                    "name": "Dr. Failover"}, admin)
    _, doc = call(api, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    doc = doc["access_token"]
    _, protocol = call(api, "POST", "/v1/protocols", {
        "name": "Face 1.0 mm", "procedure": "microneedling", "needle_depth_mm": 1.0,
        "areas": ["face"], "sessions_planned": 3, "interval_days": 28}, doc)
    screening = {c: False for c in ("active_acne", "skin_infection", "eczema_psoriasis", "keloid_history",
                                    "bleeding_disorder", "pregnancy", "skin_allergy", "diabetes")}
    performed_at = datetime.now(timezone.utc) - timedelta(days=3)
    patients = []
    for n in range(PHONES * 2):
        _, patient = call(api, "POST", "/v1/patients", {
            "external_ref": f"FO-{n:04}", "fitzpatrick_type": 2 + n % 3, "concerns": ["acne_scars"]}, doc)
        _, treatment = call(api, "POST", f"/v1/patients/{patient['id']}/treatments", {
            "protocol_id": protocol["id"], "performed_at": performed_at.isoformat(),
            "contraindications": screening}, doc)
        _, code = call(api, "POST", f"/v1/patients/{patient['id']}/enrollment-codes", token=doc)
        _, tokens = call(api, "POST", "/v1/auth/enroll", {"code": code["code"]})
        patients.append({"id": patient["id"], "treatment": treatment["id"],
                         "token": tokens["access_token"]})
    call(api, "POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{receiver_port}/hook",
                                       "events": ["check_in.created", "alert.raised"]}, admin)
    return {"doc_email": email, "protocol": protocol["id"], "patients": patients,
            "performed_at": performed_at}


# -- the webhook receiver --------------------------------------------------------------------------

RECEIVED = []  # (time, event id, delivery id, type, data)
RECEIVED_LOCK = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        with RECEIVED_LOCK:
            RECEIVED.append((now(), self.headers.get("Aftercare-Event-Id"),
                             self.headers.get("Aftercare-Delivery-Id"), body.get("type"), body.get("data")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


# -- watchers --------------------------------------------------------------------------------------

STOP = threading.Event()
READYZ = []  # (start, end, status or None)
TRUTH = []  # (time, node index, writable)


def poll_readyz():
    while not STOP.is_set():
        start = now()
        try:
            with urllib.request.urlopen(API + "/readyz", timeout=5) as res:
                status = res.status
        except urllib.error.HTTPError as e:
            status = e.code
        except Exception:  # noqa: BLE001 - no answer at all is what is recorded
            status = None
        READYZ.append((start, now(), status))
        time.sleep(max(0.0, 0.1 - (now() - start)))


def poll_truth(index, node):
    host, port = node.split(":")
    url = f"host={host} port={port} dbname=aftercare user=postgres connect_timeout=1"
    sql = "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'"
    while not STOP.is_set():
        start = now()
        try:
            writable = psql(sql, url) == "t"
        except Exception:  # noqa: BLE001 - a node that doesn't answer takes no writes
            writable = False
        TRUTH.append((now(), index, writable))
        time.sleep(max(0.0, 0.1 - (now() - start)))


# -- phones ----------------------------------------------------------------------------------------

ACKED = {}  # check-in id -> (status, time)
ATTEMPTS = []  # (time, status or None)
UNEXPECTED = []  # answers no phone should get


def phone(n, patients, performed_at, stop_posting):
    minute = 0
    while not stop_posting.is_set():
        minute += 1
        p = patients[minute % len(patients)]
        # A recorded_at of its own for each check-in, so one stored twice under two ids would show: a
        # second apart, so that however many a fast machine sends, none is in the future (the
        # treatment was three days ago; at a minute apart, a phone's 1,081st check-in was, and got
        # 422 on every retry).
        recorded_at = performed_at + timedelta(seconds=minute * PHONES + n)
        check_in = {"id": str(uuid.uuid4()), "treatment_id": p["treatment"],
                    "recorded_at": recorded_at.isoformat(),
                    "scores": {"redness": minute % 3, "swelling": 1, "pain": (minute % 11) // 5}}
        # The app's retry: the same check-in, the same id, until it is acknowledged.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                status, _ = call(API, "POST", "/v1/check-ins", check_in, p["token"], expect=None)
            except Exception:  # noqa: BLE001 - no answer: retry
                ATTEMPTS.append((now(), None))
                time.sleep(0.1)
                continue
            ATTEMPTS.append((now(), status))
            if status in (200, 201):
                ACKED[check_in["id"]] = (status, now())
                break
            if status != 503:
                UNEXPECTED.append((now(), status))
            time.sleep(0.2)


def kill_primary():
    with open(PRIMARY_PID_FILE) as f:
        pid = int(f.readline())
    os.kill(pid, signal.SIGKILL)
    return now()


# -- checks ----------------------------------------------------------------------------------------

def writable_between(start, end):
    """Whether a node may have taken writes from `start` to `end`: by its last sample before, any
    sample during, or its first sample after (a slow poll leaves gaps; they hold the last state)."""
    for node in range(len(NODES)):
        samples = [(t, w) for (t, i, w) in TRUTH if i == node]
        before = [w for (t, w) in samples if t <= start][-1:]
        if not before:
            return True  # not polled yet: nothing to hold /readyz against
        during = [w for (t, w) in samples if start < t < end]
        after = [w for (t, w) in samples if t >= end][:1]
        if any(before + during + after):
            return True
    return False


def views(api, token, protocol, patients):
    got = {f"/v1/protocols/{protocol}/recovery": None}
    for p in patients[:3]:
        got[f"/v1/patients/{p['id']}/recovery"] = None
    got["/v1/alerts?limit=200"] = None
    for path in got:
        got[path] = call(api, "GET", path, token=token)[1]
    return got


def second_instance(port):
    env = dict(ENV, AFTERCARE_ADDR=f"127.0.0.1:{port}", RUST_LOG="warn", AFTERCARE_JOB_INTERVAL="3600")
    log = open(os.path.join(WORK, "second.log"), "w")
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if call(api, "GET", "/readyz", expect=None, timeout=2)[0] == 200:
                return proc, api
        except Exception:  # noqa: BLE001 - not listening yet
            pass
        time.sleep(0.5)
    proc.kill()
    sys.exit("the second instance never became ready")


def main():
    failures = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s = seed(API, server.server_address[1])
    _, doc = call(API, "POST", "/v1/auth/login", {"email": s["doc_email"], "password": PASSWORD})
    watchers = [threading.Thread(target=poll_readyz, daemon=True)]
    watchers += [threading.Thread(target=poll_truth, args=(i, n), daemon=True) for i, n in enumerate(NODES)]
    for w in watchers:
        w.start()

    stop_posting = threading.Event()
    phones = [threading.Thread(target=phone, args=(n, s["patients"][n::PHONES], s["performed_at"], stop_posting))
              for n in range(PHONES)]
    started = now()
    for p in phones:
        p.start()
    time.sleep(BEFORE_KILL)
    killed = kill_primary()
    print(f"-- killed the primary's postmaster at {killed - started:.1f} s into the stream", flush=True)
    promoted = None
    while promoted is None and now() - killed < 60:
        time.sleep(0.1)
        promoted = next((t for (t, i, w) in TRUTH if w and i != 0 and t > killed), None)
    if promoted is None:
        failures.append("no standby was promoted within 60 s")
        promoted = now()
    first_ok = None
    while now() - promoted < 40:
        first_ok = next((t for (t, st) in list(ATTEMPTS) if st in (200, 201) and t > promoted), None)
        if first_ok is not None:
            break
        time.sleep(0.1)
    time.sleep(AFTER_RECOVERY)
    stop_posting.set()
    for p in phones:
        p.join()
    ended = now()
    STOP.set()

    # Acknowledged check-ins: each stored exactly once.
    acked = list(ACKED)
    stored_ids = set()
    for i in range(0, len(acked), 500):
        ids = ",".join(f"'{x}'" for x in acked[i:i + 500])
        stored_ids |= set(psql(f"SELECT id FROM check_ins WHERE id IN ({ids})").split())
    lost = [x for x in acked if x not in stored_ids]
    twice = int(psql("SELECT count(*) FROM (SELECT 1 FROM check_ins GROUP BY treatment_id, recorded_at "
                     "HAVING count(*) > 1) d"))
    stored = int(psql("SELECT count(*) FROM check_ins"))
    if lost:
        failures.append(f"{len(lost)} acknowledged check-ins are not stored, e.g. {lost[:3]}")
    if twice:
        failures.append(f"{twice} check-ins are stored twice")

    # Service: the longest stretch without a 2xx, and the first 2xx after the promotion.
    oks = sorted(t for (t, st) in ATTEMPTS if st in (200, 201))
    gaps = [(b - a, a) for a, b in zip(oks, oks[1:])]
    outage, outage_from = max(gaps) if gaps else (ended - started, started)
    if first_ok is None or first_ok - promoted > 30:
        failures.append("no 2xx within 30 s of the promotion")

    # /readyz told the truth: always answered within 1 s; never 200 while no node took writes; 503
    # seen between the kill and the promotion.
    by_status = {}
    for (_, _, st) in READYZ:
        by_status[st] = by_status.get(st, 0) + 1
    slow = [(a, b, st) for (a, b, st) in READYZ if st is None or b - a > 1.0]
    lies = [(a, b) for (a, b, st) in READYZ if st == 200 and not writable_between(a, b)]
    gap_503 = [a for (a, b, st) in READYZ if st == 503 and killed <= a <= promoted]
    if slow:
        failures.append(f"/readyz answered {len(slow)} times late or not at all, e.g. {slow[:3]}")
    if lies:
        failures.append(f"/readyz said 200 {len(lies)} times while no node took writes, e.g. {lies[:3]}")
    if not gap_503:
        failures.append("/readyz never said 503 between the kill and the promotion")
    if UNEXPECTED:
        failures.append(f"{len(UNEXPECTED)} answers other than 2xx or 503, e.g. {UNEXPECTED[:3]}")

    # Webhooks, before the second instance starts (its worker would lease deliveries it may not send
    # before it is stopped, to be sent when the lease runs out): every acknowledged check-in's event
    # arrives.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and int(psql(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")) > 0:
        time.sleep(1)
    with RECEIVED_LOCK:
        received = list(RECEIVED)
    events = {}
    for (t, event, _, kind, data) in received:
        events.setdefault(event, []).append((t, kind, data))
    duplicates = {e: ts for e, ts in events.items() if len(ts) > 1}
    # At least once: a send whose outcome the database never got (the worker could not record it,
    # or recorded it on the old primary) is sent again. A delivery recorded as delivered twice
    # was sent again after its outcome was known: that is beyond at least once.
    resent = set(psql(
        "SELECT d.event_id FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id "
        "WHERE a.http_status BETWEEN 200 AND 299 GROUP BY d.event_id HAVING count(*) > 1").split())
    unexplained = {e: ts for e, ts in duplicates.items() if e in resent}
    with open(os.path.join(WORK, "server.log")) as f:
        unrecorded = sum(1 for line in f if "recording a webhook attempt failed" in line)
    with open(os.path.join(WORK, "received.json"), "w") as f:
        json.dump({"received": received, "readyz": READYZ, "truth": TRUTH, "killed": killed,
                   "promoted": promoted, "first_ok": first_ok}, f)
    delivered = {d["id"] for ts in events.values() for (_, kind, d) in ts if kind == "check_in.created"}
    undelivered = [x for x in acked if x not in delivered]
    if undelivered:
        failures.append(f"{len(undelivered)} acknowledged check-ins' events never arrived")
    if unexplained:
        failures.append(f"{len(unexplained)} events were delivered again after their delivery was recorded: "
                        f"{list(unexplained)[:3]}")

    # The running instance's views equal those of a fresh one, which loads them from the raw rows.
    proc, api_b = second_instance(int(ENV["FO_SECOND_PORT"]))
    try:
        _, doc_b = call(api_b, "POST", "/v1/auth/login", {"email": s["doc_email"], "password": PASSWORD})
        running = views(API, doc["access_token"], s["protocol"], s["patients"])
        fresh = views(api_b, doc_b["access_token"], s["protocol"], s["patients"])
        differ = [path for path in running if running[path] != fresh[path]]
        if differ:
            failures.append(f"views differ from a fresh instance's: {differ}")
    finally:
        proc.terminate()
        proc.wait()

    # The audit trail, sealed by the jobs across the failover, verifies.
    time.sleep(2)
    audit = subprocess.run([BIN, "admin", "verify-audit"], capture_output=True, text=True,
                           env=dict(ENV, DATABASE_URL=DB, RUST_LOG="warn"))
    if audit.returncode != 0:
        failures.append(f"verify-audit failed: {audit.stdout} {audit.stderr}")

    print(f"""-- figures
phones                         {PHONES}, {len(ATTEMPTS)} requests over {ended - started:.1f} s
answers                        {sum(1 for (_, st) in ATTEMPTS if st == 503)} 503, {sum(1 for (_, st) in ATTEMPTS if st is None)} without an answer, the rest 2xx
acknowledged                   {len(acked)} ({sum(1 for v in ACKED.values() if v[0] == 200)} of them 200: a retry of a stored one)
stored                         {stored} (every check-in sent, acknowledged or not)
lost                           {len(lost)}
stored twice                   {twice}
kill to promotion              {promoted - killed:.1f} s (the standby takes writes)
without service                {outage:.1f} s (the longest stretch without a 2xx, from {outage_from - killed:+.1f} s after the kill)
first 2xx after promotion      {(first_ok - promoted) if first_ok is not None else float('nan'):+.2f} s
/readyz samples                {dict(sorted(by_status.items(), key=str))} (late: {len(slow)}, 200 with no writable node: {len(lies)}, 503 in the gap: {len(gap_503)})
webhook events                 {len(events)} received, {len(duplicates)} more than once ({len(unexplained)} after a recorded delivery; the worker logged {unrecorded} attempts it could not record)
verify-audit                   {"passed" if audit.returncode == 0 else "FAILED"}""")
    for f in failures:
        print(f"FAILED: {f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
