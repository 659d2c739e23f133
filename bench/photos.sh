#!/usr/bin/env bash
# The photo benchmark (issue 26), start to finish: the release server against a fresh database and
# a fresh local photo store; PHONES phones (default 8) upload 2,048-px JPEGs for SECONDS (default 20);
# photos re-encoded a second, and the server's memory above idle. See bench/README.md.
#   bash bench/photos.sh [PHONES] [SECONDS]
#   OLD_BIN=/tmp/aftercare-old bash bench/photos.sh   # and another binary first, the same way
set -euo pipefail
cd "$(dirname "$0")/.."
phones=${1:-8}
seconds=${2:-20}
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
db=aftercare_bench_photos
store=${BENCH_PHOTO_STORE:-/tmp/aftercare-bench-photos}
port=18091

cargo build -q --release --locked --bin aftercare --example bench-photos
bin="${CARGO_TARGET_DIR:-target}/release"

export DATABASE_URL="$pg/$db" AFTERCARE_ADDR="127.0.0.1:$port" RUST_LOG=warn
export AFTERCARE_PUBLIC_URL="http://127.0.0.1:$port" AFTERCARE_PHOTO_STORE="file://$store"
AFTERCARE_JWT_SECRET=$(openssl rand -hex 32)
AFTERCARE_ADMIN_PASSWORD="bench-password-$(openssl rand -hex 8)"
export AFTERCARE_JWT_SECRET AFTERCARE_ADMIN_PASSWORD
echo "machine: $(nproc) cores"

# One server binary, from a fresh database and store: its clinic, its server, the phones' load.
run() {
  echo; echo "== $1 ($2); $(uptime)"
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  rm -rf "$store" && mkdir -p "$store"
  "$2" admin create-clinic --name "Photo bench" --timezone Europe/Berlin \
    --admin-email admin@photos.bench.test >/dev/null
  "$2" serve &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
  "$bin/examples/bench-photos" "http://127.0.0.1:$port" admin@photos.bench.test "$server" "$phones" "$seconds"
  echo "stored: $(find "$store" -type f | wc -l) objects, $(du -sh "$store" | cut -f1)"
  kill $server; wait $server 2>/dev/null || true
  trap - EXIT
  psql "$pg/postgres" -qc "DROP DATABASE $db"
  rm -rf "$store"
}
# A/B: OLD_BIN=path/to/another/aftercare runs the same load against that binary first, so that the
# two are compared in one run on the same machine.
[ -n "${OLD_BIN:-}" ] && run old "$OLD_BIN"
run new "$bin/aftercare"
