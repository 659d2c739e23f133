//! Sealing the audit trail: a job seals the records every second, in batches, into a SHA-256 hash
//! chain per clinic, which `aftercare admin verify-audit` checks.

use diesel::prelude::*;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::audit::Record;
use crate::db::{self, Pool, Tenant};

/// Seals the trail every second, on a thread of its own.
pub fn spawn(pool: Pool, stop: super::Stop) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        loop {
            let sealed = pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| {
                    // Until it is caught up.
                    let mut total = 0;
                    loop {
                        let n = seal(&mut conn, 1000)?;
                        total += n;
                        if n < 1000 {
                            return Ok::<_, anyhow::Error>(total);
                        }
                    }
                });
            if let Err(e) = sealed {
                tracing::warn!(error = %e, "sealing the audit trail failed; it runs again in a second");
            }
            if stop.wait(std::time::Duration::from_secs(1)) {
                break;
            }
        }
    })
}

/// The hash of a sealed record: SHA-256 over the hash of the record before it and the record's
/// fields, in a fixed JSON encoding.
pub fn hash_of(record: &Record, seq: i64, prev_hash: &[u8]) -> Vec<u8> {
    let fields = serde_json::json!([
        seq,
        record.id,
        record.clinic_id,
        record.at.timestamp_micros(),
        record.actor_id,
        record.actor_role,
        record.action,
        record.resource_type,
        record.resource_id,
        record.patient_id,
        record.request_id,
        record.status,
        record.outcome,
    ]);
    let mut hash = Sha256::new();
    hash.update(prev_hash);
    hash.update(fields.to_string().as_bytes());
    hash.finalize().to_vec()
}

/// The `prev_hash` of a clinic's first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// The advisory lock that keeps sealing to one instance at a time.
const SEAL_LOCK: i64 = 0x6175_6469_7473_6561; // "auditsea"

/// Seals up to `limit` unsealed records into their clinics' chains, oldest first; returns how
/// many. 0 when another instance is sealing.
pub fn seal(conn: &mut PgConnection, limit: i64) -> QueryResult<usize> {
    conn.transaction(|conn| {
        if !db::try_advisory_xact_lock(conn, SEAL_LOCK)? {
            return Ok(0);
        }
        let mut pending = db::audit::unsealed(conn, limit)?;
        let count = pending.len();
        pending.sort_by_key(|r| r.clinic_id);
        for records in pending.chunk_by_mut(|a, b| a.clinic_id == b.clinic_id) {
            records.sort_by_key(|r| (r.at, r.id));
            let tenant = Tenant::new(records[0].clinic_id.into());
            let (mut seq, mut prev) =
                db::audit::head(conn, tenant)?.unwrap_or_else(|| (0, GENESIS.to_vec()));
            for record in records.iter_mut() {
                seq += 1;
                let hash = hash_of(record, seq, &prev);
                record.seq = Some(seq);
                record.prev_hash = Some(std::mem::replace(&mut prev, hash.clone()));
                record.hash = Some(hash);
            }
            db::audit::store_seals(conn, records)?;
            db::audit::set_head(conn, tenant, seq, &prev)?;
        }
        Ok(count)
    })
}

/// What checking one clinic's chain found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        sealed: i64,
        unsealed: i64,
    },
    /// The first record that does not fit the chain (or, for records missing from its end, the
    /// last one that does), and why.
    Broken {
        record: Option<Uuid>,
        seq: i64,
        reason: String,
    },
}

/// Walks a clinic's chain from its first record and stops at the first one that doesn't fit.
pub fn verify(conn: &mut PgConnection, tenant: Tenant) -> QueryResult<Verdict> {
    const BATCH: i64 = 10_000;
    let (mut seq, mut prev, mut last) = (0i64, GENESIS.to_vec(), None);
    loop {
        let records = db::audit::sealed_after(conn, tenant, seq, BATCH)?;
        for r in &records {
            let r_seq = r.seq.unwrap_or_default();
            let broken = |reason: String| {
                Ok(Verdict::Broken {
                    record: Some(r.id),
                    seq: r_seq,
                    reason,
                })
            };
            if r_seq != seq + 1 {
                return broken(format!(
                    "the records before it from seq {} are missing",
                    seq + 1
                ));
            }
            if r.prev_hash.as_ref() != Some(&prev) {
                return broken("it does not link to the record before it".into());
            }
            let hash = hash_of(r, r_seq, &prev);
            if r.hash.as_ref() != Some(&hash) {
                return broken("it was changed after it was sealed".into());
            }
            (seq, prev, last) = (r_seq, hash, Some(r.id));
        }
        if (records.len() as i64) < BATCH {
            break;
        }
    }
    let (head_seq, head_hash) = db::audit::head(conn, tenant)?.unwrap_or((0, GENESIS.to_vec()));
    if (head_seq, &head_hash) != (seq, &prev) {
        return Ok(Verdict::Broken {
            record: last,
            seq,
            reason: format!("the chain's head says seq {head_seq}, but the records end here"),
        });
    }
    Ok(Verdict::Intact {
        sealed: seq,
        unsealed: db::audit::count_unsealed(conn, tenant)?,
    })
}
