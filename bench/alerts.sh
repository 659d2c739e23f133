#!/usr/bin/env bash
# The alert rules measured against domain.md's targets on synthetic treatments of known course:
# bash bench/alerts.sh [TREATMENTS] [SEED...] (default 10,000 treatments, seeds 1-5).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q --release --locked --example bench-alerts -- "$@"
