//! The claim queue under the webhook and push outboxes: a row is `pending` until it is sent or
//! given up, and due once its `next_attempt_at` has passed.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// Takes up to `limit` due rows of `table`, oldest due first, and leases them for `lease_ms`: their
/// next attempt moves that far ahead, so another worker (of this instance or another) takes them
/// only if this one never reports back. Rows another worker is taking right now are skipped, not
/// waited for. The due row is `p`; `joins` adds what sending needs (with the columns it gives the
/// subquery `due` in `taking`), and `returning` names the columns of the leased row `d` and of
/// `due` that make a `T`; `d.next_attempt_at AS leased_until` is always returned.
pub(super) fn claim<T>(
    conn: &mut PgConnection,
    outbox: &Outbox,
    limit: i64,
    lease_ms: i64,
) -> QueryResult<Vec<T>>
where
    T: QueryableByName<Pg> + 'static,
{
    diesel::sql_query(format!(
        "UPDATE {table} d
            SET next_attempt_at = now() + $2 * interval '1 millisecond'
           FROM (SELECT p.id, {taking}
                   FROM {table} p
                   {joins}
                  WHERE p.status = 'pending' AND p.next_attempt_at <= now()
                  ORDER BY p.next_attempt_at
                  LIMIT $1
                  FOR UPDATE OF p SKIP LOCKED) due
          WHERE d.id = due.id
      RETURNING {returning}, d.next_attempt_at AS leased_until",
        table = outbox.table,
        taking = outbox.taking,
        joins = outbox.joins,
        returning = outbox.returning,
    ))
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(lease_ms)
    .load(conn)
}

/// An outbox table, and what a claim takes with its rows.
pub(super) struct Outbox {
    pub table: &'static str,
    pub joins: &'static str,
    pub taking: &'static str,
    pub returning: &'static str,
}
