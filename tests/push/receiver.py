#!/usr/bin/env python3
"""A push service for the tests (tests/api/push.rs), on 127.0.0.1: it makes browsers'
subscriptions (a P-256 key pair and an auth secret each), takes Web Push messages for them as a
push service does (RFC 8030), checks each message's VAPID authorization (RFC 8292: the ES256
signature against the `k` key, the audience, the expiry, the subject) and decrypts its body
(RFC 8291, aes128gcm) with http_ece and cryptography from PyPI, an implementation independent of
the server's. It prints its port on the first line of stdout, then serves until killed.

Control (JSON):
  POST /subscriptions             -> {"id", "endpoint", "keys": {"p256dh", "auth"}}
  POST /subscriptions/<id>/gone   -> from now on, messages to it are answered 410 Gone
  GET  /subscriptions/<id>/messages -> [{"payload", "ttl", "urgency", "vapid_key", "problems"}]
Push: POST /push/<id>             -> 201, or 410 once gone
"""

import base64
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64encode(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


LOCK = threading.Lock()
SUBSCRIPTIONS = {}  # id -> {"key", "auth", "gone", "messages"}


def check_vapid(header, origin):
    """The problems with an `Authorization: vapid t=..., k=...` header; and the k it named."""
    if not header.startswith("vapid "):
        return ["the Authorization scheme is not vapid"], None
    params = dict(
        p.strip().split("=", 1) for p in header[len("vapid "):].split(",") if "=" in p
    )
    token, k = params.get("t", ""), params.get("k", "")
    problems = []
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64decode(k))
        signing_input, _, signature = token.rpartition(".")
        raw = b64decode(signature)
        if len(raw) != 64:
            problems.append("the signature is not 64 bytes (r || s)")
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        header_b64, _, claims_b64 = signing_input.partition(".")
        jose = json.loads(b64decode(header_b64))
        claims = json.loads(b64decode(claims_b64))
    except InvalidSignature:
        return ["the VAPID signature does not verify against k"], k
    except (ValueError, KeyError) as e:
        return [f"the VAPID token or key is malformed: {e}"], k
    if jose.get("alg") != "ES256":
        problems.append(f"alg is {jose.get('alg')!r}, not ES256")
    if claims.get("aud") != origin:
        problems.append(f"aud is {claims.get('aud')!r}, not {origin!r}")
    now = time.time()
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
        problems.append(f"exp {exp!r} is not within the next 24 hours")
    sub = claims.get("sub", "")
    if not (sub.startswith("mailto:") or sub.startswith("https:")):
        problems.append(f"sub {sub!r} is not a mailto: or https: URL")
    return problems, k


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "subscriptions" and parts[2] == "messages":
            with LOCK:
                sub = SUBSCRIPTIONS.get(parts[1])
                return self.reply(200 if sub else 404, sub and sub["messages"])
        self.reply(404)

    def do_POST(self):
        parts = self.path.strip("/").split("/")
        body = self.body()
        if parts == ["subscriptions"]:
            return self.subscribe()
        if len(parts) == 3 and parts[0] == "subscriptions" and parts[2] == "gone":
            with LOCK:
                SUBSCRIPTIONS[parts[1]]["gone"] = True
            return self.reply(204)
        if len(parts) == 2 and parts[0] == "push":
            return self.push(parts[1], body)
        self.reply(404)

    def subscribe(self):
        key = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        sub_id = secrets.token_hex(8)
        with LOCK:
            SUBSCRIPTIONS[sub_id] = {"key": key, "auth": auth, "gone": False, "messages": []}
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        host, port = self.server.server_address[:2]
        self.reply(201, {
            "id": sub_id,
            "endpoint": f"http://{host}:{port}/push/{sub_id}",
            "keys": {"p256dh": b64encode(public), "auth": b64encode(auth)},
        })

    def push(self, sub_id, body):
        with LOCK:
            sub = SUBSCRIPTIONS.get(sub_id)
        if sub is None:
            return self.reply(404)
        if sub["gone"]:
            return self.reply(410)
        host, port = self.server.server_address[:2]
        problems, k = check_vapid(self.headers.get("Authorization", ""), f"http://{host}:{port}")
        if self.headers.get("Content-Encoding") != "aes128gcm":
            problems.append("Content-Encoding is not aes128gcm")
        ttl = self.headers.get("TTL")
        if ttl is None or not ttl.isdigit():
            problems.append("no TTL")
        payload = None
        try:
            plain = http_ece.decrypt(
                body, private_key=sub["key"], auth_secret=sub["auth"], version="aes128gcm"
            )
            payload = json.loads(plain)
        except Exception as e:  # what went wrong is what the test reports
            problems.append(f"the body does not decrypt: {e!r}")
        with LOCK:
            sub["messages"].append({
                "payload": payload, "ttl": ttl and int(ttl), "vapid_key": k, "problems": problems,
            })
        self.reply(201)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
