#!/usr/bin/env bash
# Instructions and simulated last-level data-cache misses of ONE validation of the generated
# N-state chain (docs/BENCHMARKS.md, validator section). Needs valgrind. The counts are whole-
# program counts of STEPWRIGHT_BENCH_PROFILE=N:3:1 minus N:1:1 (on one thread), halved, so the
# chain generator and start-up cancel out. The last level is simulated as 512 KB (this machine's
# L2).
# Usage: scripts/validator-instructions.sh [N...]   (default: 1000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cargo bench -p stepwright --bench validate --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="validate" and m.get("executable"): print(m["executable"])' | tail -1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000)
for n in "${sizes[@]}"; do
  for r in 1 3; do
    STEPWRIGHT_BENCH_PROFILE=$n:$r:1 valgrind --tool=callgrind --cache-sim=yes --LL=524288,8,64 \
      --callgrind-out-file="$tmp/$n-$r.out" "$bin" >/dev/null 2>"$tmp/$n-$r.err"
  done
  python3 - "$tmp" "$n" <<'PY'
import re, sys
tmp, n = sys.argv[1], sys.argv[2]
def totals(r):
    t = open(f"{tmp}/{n}-{r}.err").read()
    ir = int(re.search(r"I\s+refs:\s+([\d,]+)", t).group(1).replace(",", ""))
    ll = int(re.search(r"LLd misses:\s+([\d,]+)", t).group(1).replace(",", ""))
    return ir, ll
(i1, l1), (i3, l3) = totals(1), totals(3)
print(f"{n} states: {(i3 - i1) / 2 / 1e6:.2f} M instructions, {(l3 - l1) / 2 / 1e3:.1f} k LL data misses per validation")
PY
done
