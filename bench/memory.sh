#!/usr/bin/env bash
# The server's memory after the benchmark's load, and 30 s later: serves the benchmark's database with
# BIN (any extra NAME=VALUE arguments go into its environment), runs `bench-load` against it, and prints
# its resident set. Needs the database and the release examples of `bench/run.sh SCORES` first.
#   bash bench/memory.sh 10000000 target/release/aftercare
#   bash bench/memory.sh 10000000 target/release/aftercare MALLOC_ARENA_MAX=2
set -euo pipefail
cd "$(dirname "$0")/.."
scores=$1 bin=$2
shift 2
port=18092
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
export DATABASE_URL="$pg/aftercare_bench_$scores" AFTERCARE_ADDR="127.0.0.1:$port" RUST_LOG=warn
export AFTERCARE_PUBLIC_URL="http://127.0.0.1:$port"
AFTERCARE_JWT_SECRET=$(openssl rand -hex 32)
export AFTERCARE_JWT_SECRET
env "$@" "$bin" serve >/dev/null 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
"${CARGO_TARGET_DIR:-target}/release/examples/bench-load" "http://127.0.0.1:$port" 500 4 15 >/dev/null
after=$(ps -o rss= -p $server)
sleep 30
echo "$bin $*: $((after / 1024)) MB after the load, $(($(ps -o rss= -p $server) / 1024)) MB 30 s later," \
  "peak $(($(awk '/VmHWM/ {print $2}' /proc/$server/status) / 1024)) MB"
kill $server
wait $server 2>/dev/null || true
