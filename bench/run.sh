#!/usr/bin/env bash
# The benchmark, start to finish: generate SCORES scores (once), load them into their own database,
# serve it, run the load, then run the same SQL through pgbench as the ceiling. See bench/README.md.
#   bash bench/run.sh 1000000
#   OLD_BIN=/tmp/aftercare-old bash bench/run.sh 1000000   # and another binary first, on the same database
#   EXPORT=1 bash bench/run.sh 1000000                     # and the FHIR export's pages
set -euo pipefail
cd "$(dirname "$0")/.."
scores=${1:-1000000}
seconds=${SECONDS_PER_PHASE:-15}
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
db="aftercare_bench_$scores"
dir=${BENCH_DIR:-/tmp/aftercare-bench-$scores}
port=18090

cargo build -q --release --bin aftercare --example bench-generate --example bench-load --example bench-model --example bench-export
bin="${CARGO_TARGET_DIR:-target}/release"

if ! psql "$pg/$db" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  time "$bin/examples/bench-generate" "$scores" "$dir"
  psql "$pg/postgres" -qc "CREATE DATABASE $db"
  DATABASE_URL="$pg/$db" "$bin/aftercare" migrate
  time psql "$pg/$db" -q -f "$dir/load.sql"
fi
psql "$pg/$db" -qtAc "SELECT 'treatments: ' || count(*) FROM treatments UNION ALL
                      SELECT 'check-ins: ' || count(*) FROM check_ins UNION ALL
                      SELECT 'scores: ' || count(*) FROM check_in_scores"

# The read model alone: how long its full load takes and what the process holds after it.
"$bin/examples/bench-model" "$pg/$db"
# A FHIR Bulk Data export's pages of the busiest clinic, by cursor and by offset (EXPORT=1: at 10 M
# it takes over half an hour).
[ "${EXPORT:-0}" = 1 ] && "$bin/examples/bench-export" "$pg/$db"

# As the README advises for production: glibc's allocator with two pools, not one per busy thread.
export MALLOC_ARENA_MAX=2
export DATABASE_URL="$pg/$db" AFTERCARE_ADDR="127.0.0.1:$port" RUST_LOG=warn
export AFTERCARE_PUBLIC_URL="http://127.0.0.1:$port"
AFTERCARE_JWT_SECRET=$(openssl rand -hex 32)
export AFTERCARE_JWT_SECRET

# Serves a copy of the database with one binary, runs the load against it, and stops it. Each
# binary gets its own copy, so that neither sees the check-ins the other's load added (the
# dashboard counts today's check-ins, and the load adds tens of thousands today).
serve_and_load() {
  echo; echo "== $1 ($2)"
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS ${db}_run" -c "CREATE DATABASE ${db}_run TEMPLATE $db"
  DATABASE_URL="$pg/${db}_run" "$2" serve &
  server=$!
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
  "$bin/examples/bench-load" "http://127.0.0.1:$port" 500 4 "$seconds"
  echo "server memory (RSS): $(ps -o rss= -p $server) KiB"
  kill $server; wait $server 2>/dev/null || true
  psql "$pg/postgres" -qc "DROP DATABASE ${db}_run"
}
# A/B: OLD_BIN=path/to/another/aftercare runs the same load against that binary first, on the same
# database, so the two are compared in one run.
[ -n "${OLD_BIN:-}" ] && serve_and_load old "$OLD_BIN"
serve_and_load new "$bin/aftercare"

# The ceilings: the statements the service sends (kept true by tests/api/statements.rs), and the
# least a check-in must do, straight through pgbench at the same concurrency.
ids=$(psql "$pg/$db" -qtAc "SELECT t.clinic_id, t.protocol_id, t.id, t.patient_id FROM treatments t ORDER BY t.performed_at DESC LIMIT 1")
IFS='|' read -r clinic protocol treatment patient <<<"$ids"
latest=$(psql "$pg/$db" -qtAc "SELECT string_agg(id::text, ','), string_agg(patient_id::text, ','), string_agg(protocol_id::text, ',')
                                FROM (SELECT * FROM treatments ORDER BY performed_at DESC LIMIT 50) t")
IFS='|' read -r treatments patients protocols <<<"$latest"
vars=(-D "clinic=$clinic" -D "protocol=$protocol" -D "treatment=$treatment" -D "patient=$patient"
      -D "treatments={$treatments}" -D "patients={$patients}" -D "protocols={$protocols}")
bench() { # clients script
  echo "pgbench, $2 ($1 clients, ${seconds} s):"
  pgbench -n -c "$1" -j 2 -T "$seconds" "${vars[@]}" -f "bench/pgbench/$2" "$pg/${db}_run" | grep -E 'latency average|tps'
}
# On a copy too: the check-in scripts write.
psql "$pg/postgres" -qc "CREATE DATABASE ${db}_run TEMPLATE $db"
echo
bench 4 view.sql
bench 8 check_in.sql
bench 8 least_work.sql
psql "$pg/postgres" -qc "DROP DATABASE ${db}_run"
