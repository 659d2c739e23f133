// The README's flow, through openapi-fetch and the types openapi-typescript generates from
// openapi/openapi.json: sign in, a protocol, a patient, a treatment, an enrollment code, the
// patient's app enrolling and checking in (once, then a batch), the recovery views, two protocols
// compared, and the alert queue. `.ci/clients` compiles it with `tsc --strict` and runs it against a
// real server.
//
//     node flow.js API_URL ADMIN_EMAIL ADMIN_PASSWORD

import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];

/** The answer's body on success; anything else fails the flow. */
function ok<T>(answer: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (answer.data === undefined) {
    const error = JSON.stringify(answer.error);
    throw new Error(`${what}: ${answer.response.status} ${error}`);
  }
  return answer.data;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

function client(api: string, token?: string): Client<paths> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return createClient<paths>({ baseUrl: api, headers });
}

async function signIn(api: string, email: string, password: string): Promise<Client<paths>> {
  const tokens = ok(await client(api).POST("/v1/auth/login", { body: { email, password } }), "login");
  return client(api, tokens.access_token);
}

function checkIn(treatment: Schemas["Treatment"], at: Date, scores: Record<string, number>): Schemas["NewCheckIn"] {
  return { id: randomUUID(), treatment_id: treatment.id, recorded_at: at.toISOString(), scores };
}

async function main(api: string, adminEmail: string, adminPassword: string): Promise<void> {
  const now = Date.now();
  const minutesAgo = (m: number) => new Date(now - m * 60_000);
  const admin = await signIn(api, adminEmail, adminPassword);
  const colleague: Schemas["NewStaffRequest"] = {
    email: `dr.lee.${randomUUID().slice(0, 8)}@clinic.example`,
    password: "maple-orbit-canvas-17",
    role: "clinician",
    name: "Dr. Lee",
  };
  ok(await admin.POST("/v1/staff", { body: colleague }), "a clinician");
  const doc = await signIn(api, colleague.email, colleague.password);

  const protocols: Schemas["Protocol"][] = [];
  for (const depth of [1.0, 1.5]) {
    const body: Schemas["NewProtocol"] = {
      name: `Face ${depth} mm ${randomUUID().slice(0, 6)}`,
      procedure: "microneedling",
      needle_depth_mm: depth,
      areas: ["face"],
      sessions_planned: 3,
      interval_days: 28,
    };
    protocols.push(ok(await doc.POST("/v1/protocols", { body }), "a protocol"));
  }
  const [first, second] = protocols;
  check(first !== undefined && second !== undefined, "two protocols");
  const patient = ok(
    await doc.POST("/v1/patients", {
      body: { external_ref: `MRN-${randomUUID().slice(0, 8)}`, fitzpatrick_type: 3, concerns: ["acne_scars"] },
    }),
    "a patient",
  );
  const patientPath = { params: { path: { id: patient.id } } };
  const contraindications = {
    active_acne: false,
    skin_infection: false,
    eczema_psoriasis: false,
    keloid_history: false,
    bleeding_disorder: false,
    pregnancy: false,
    skin_allergy: false,
    diabetes: false,
  };
  const treatment = ok(
    await doc.POST("/v1/patients/{id}/treatments", {
      ...patientPath,
      body: { protocol_id: protocols[0]!.id, performed_at: minutesAgo(60).toISOString(), contraindications },
    }),
    "a treatment",
  );

  const code = ok(await doc.POST("/v1/patients/{id}/enrollment-codes", patientPath), "an enrollment code");
  const enrolled = ok(await client(api).POST("/v1/auth/enroll", { body: { code: code.code } }), "enroll");
  const me = client(api, enrolled.access_token);

  const one = checkIn(treatment, minutesAgo(30), { redness: 2, swelling: 1 });
  const receipt = ok(await me.POST("/v1/check-ins", { body: one }), "a check-in");
  check(receipt.id === one.id, "the receipt names the check-in");
  const check_ins = [checkIn(treatment, minutesAgo(20), { redness: 2 }), checkIn(treatment, minutesAgo(10), { infection: 1 })];
  const batch = ok(await me.POST("/v1/check-ins/batch", { body: { check_ins } }), "a batch");
  check(batch.results.every((r) => r.status === 201), `the batch: ${JSON.stringify(batch.results)}`);

  ok(await doc.GET("/v1/patients/{id}/recovery", patientPath), "the patient's recovery");
  const protocolPath = { params: { path: { id: protocols[0]!.id } } };
  ok(await doc.GET("/v1/protocols/{id}/recovery", protocolPath), "the protocol's recovery");
  const ids = protocols.map((p) => p.id);
  const comparison = ok(await doc.GET("/v1/protocols/compare", { params: { query: { ids } } }), "the comparison");
  check(comparison.protocols.map((p) => p.protocol_id).join() === ids.join(), "both protocols compared");

  const queue = ok(await doc.GET("/v1/alerts", { params: { query: { patient_id: patient.id } } }), "the alerts");
  const alert = queue.items[0];
  check(alert !== undefined, "the check-in with signs of infection raised no alert");
  const acknowledged = ok(
    await doc.POST("/v1/alerts/{id}/acknowledge", { params: { path: { id: alert!.id } } }),
    "acknowledge",
  );
  const status: Schemas["AlertStatus"] = acknowledged.status;
  check(status === "acknowledged", "the alert is acknowledged");
  console.log(`typescript client: the flow ran, ${queue.items.length} alert(s) raised`);
}

const [api, email, password] = process.argv.slice(2);
if (api === undefined || email === undefined || password === undefined) {
  throw new Error("usage: node flow.js API_URL ADMIN_EMAIL ADMIN_PASSWORD");
}
await main(api, email, password);
