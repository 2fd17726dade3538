#!/usr/bin/env bash
# Data Lambda benchmarks: our cleanse and validate engines against the peers of
# ../shared/peer-bench (pandas, polars), interleaved in one run, on generated ~100 MB and ~1 GB CSVs.
#
#   scripts/bench-data.sh                 # 100m and 1g, 3 repetitions
#   SIZES=100m REPS=1 scripts/bench-data.sh
#   PEERS="polars-lazy polars-eager pandas" scripts/bench-data.sh
#   BASE_BIN=/path/to/older/release scripts/bench-data.sh   # also runs that build (tool stepwright-base)
#
# Output: JSON lines in out/bench-data/results-<sizes>.jsonl and a Markdown summary (medians, ratios) on
# stdout. Needs python3; numpy/pandas/polars are installed into .venv-bench on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# the peers: ../shared/peer-bench beside the checkout (or beside an ancestor, for worktrees)
peer=${PEER_BENCH:-}
if [ -z "$peer" ]; then
  d=$root
  while [ "$d" != / ]; do
    if [ -f "$d/../shared/peer-bench/bench_data.py" ]; then peer=$(cd "$d/../shared/peer-bench" && pwd); break; fi
    d=$(dirname "$d")
  done
fi
[ -n "$peer" ] || { echo "peer-bench not found: set PEER_BENCH" >&2; exit 1; }
out=$root/out/bench-data
mkdir -p "$out"
venv=${BENCH_VENV:-$root/.venv-bench}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import numpy, pandas, polars' 2>/dev/null; then
  echo "[bench] python venv $venv (numpy pandas polars)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy pandas polars
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
echo "[bench] building the engines (release)" >&2
cargo build --release --quiet -p cleanse --no-default-features --features cli --bin cleanse-file
cargo build --release --quiet -p validate --no-default-features --features cli --bin validate-file
exec "$venv/bin/python" "$root/scripts/bench_data.py" \
  --peer "$peer" --out "$out" --bin "$CARGO_TARGET_DIR/release" \
  --sizes "${SIZES:-100m 1g}" --reps "${REPS:-3}" --peers "${PEERS:-polars-lazy polars-eager}" \
  --base-bin "${BASE_BIN:-}"
