#!/bin/bash
# orb1 on the benchmark corpus (issue 8's acceptance): recall on cropped and uncropped
# variants of the 49 originals, matches to the wrong photo, the leave-one-out false matches,
# the inlier gap that the thresholds in src/hash/orb1/verify.rs rest on, timings, and the
# throughput of `scan` with an orb1 list of the originals (and, for scale, a PDQ one). With
# FORMAT orb2, the originals are listed by their orb2 signatures instead, which is how a scan
# against an orb2 list compares them.
#
# usage: scripts/orb_eval.sh [CORPUS=/tmp/corpus] [OUT=/tmp/orb-eval] [FORMAT=orb1]
# Needs the corpus from ../shared/bench/make_corpus.sh, python3 with Pillow, and the
# generator script (MAKE_CORPUS=path/to/make_corpus.py if not at ../shared/bench/).
set -eu
CORPUS=${1:-/tmp/corpus}
OUT=${2:-/tmp/orb-eval}
FORMAT=${3:-orb1}
cd "$(dirname "$0")/.."
cargo build --release --quiet --example orb1_pairs --bin mediascreen
BIN=target/release/mediascreen
mkdir -p "$OUT"
python3 scripts/orb_eval.py manifest "$CORPUS" "$OUT"

# Every variant against every original, both orientations: the pair matrix.
target/release/examples/orb1_pairs "$OUT/listed.txt" "$OUT/queries.txt" "$FORMAT" \
  > "$OUT/pairs.tsv" 2> "$OUT/timings.tsv"

# The real pipeline: lists made by `hash`, the whole corpus scanned.
xargs -d '\n' "$BIN" hash --algorithms "$FORMAT" < "$OUT/listed.txt" > "$OUT/list.csv"
xargs -d '\n' "$BIN" hash --algorithms pdq < "$OUT/listed.txt" > "$OUT/pdq-list.csv"
status=0
"$BIN" scan "$CORPUS" --list "$OUT/list.csv" --report "$OUT/scan.json" --quiet || status=$?
[ "$status" = 1 ] || { echo "$FORMAT scan exited $status, expected 1" >&2; exit 1; }
status=0
"$BIN" scan "$CORPUS" --list "$OUT/pdq-list.csv" --report "$OUT/pdq-scan.json" --quiet || status=$?
[ "$status" = 1 ] || { echo "pdq scan exited $status, expected 1" >&2; exit 1; }
python3 - "$OUT/pdq-scan.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = r["summary"]
print(f"pdq scan, for scale: {s['files']} files in {r['elapsed_ms'] / 1e3:.1f} s "
      f"({s['files'] / r['elapsed_ms'] * 1e3:.1f} files/s)")
PY
ls -l "$OUT/list.csv" | awk -v f="$FORMAT" '{printf "%s list of the originals: %.0f KB a row\n", f, $5 / 49 / 1000}'
python3 scripts/orb_eval.py summarize "$OUT"
