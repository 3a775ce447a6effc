#!/bin/bash
# Throughput of mediascreen against its peers on the shared photo corpus (issue 7), and at scale.
#
#   scripts/bench.sh [corpus] [jpeg] [floor] [lists] [tree] [archive] [bucket] [store] [video] [orb1]
#   (default: all)
#   RUNS=3 WARMUP=1 CORPUS=/tmp/corpus OUT=/tmp/mediascreen-bench scripts/bench.sh
#
# corpus: `mediascreen hash --algorithms pdq,md5,sha1,sha256` over the whole corpus (with the
#         system's libjpeg-turbo and libwebp where installed, and with --builtin-decoders), side
#         by side in one hyperfine run with the PyPI pdqhash peer (Meta's C++ PDQ + Pillow, 2 processes)
#         and czkawka_cli similar-images, where they are installed; files/s, CPU seconds and the
#         ratio to each peer.
# jpeg:   the same hash over the corpus's JPEGs only, against libjpeg-turbo decoding them to RGB
#         in-process (2 processes), the decode floor.
# floor:  the same hash against reading, digesting and decoding the corpus and nothing else
#         (examples/decode_floor.rs): what is left for PDQ and the pipeline; the ratio of their
#         CPU seconds against its goal (issue 19).
# lists:  `scan` against a list of 1,000,000 PDQ + 1,000,000 MD5 entries (written under $OUT)
#         against the `hash` run above; peak RSS of the scan.
# tree:   `scan` of 200,000 small non-media files (written under $OUT) against an MD5 list.
# archive: `scan` of the corpus zipped into one archive (deflate, as chat exports are; written
#         under $OUT) against `scan` of the same files unpacked, with the demo list; files/s of
#         each (the zip's members counted) and the peak RSS of each.
# bucket: `scan s3://…` of the corpus uploaded to a local S3 server (moto_server, from
#         MOTO_SERVER or .ci/venv: `python3 -m venv .ci/venv && .ci/venv/bin/pip install
#         'moto[server]==5.2.5' boto3`) on 127.0.0.1, against `scan` of the same folder; files/s
#         of each and the peak RSS of the bucket scan. The server shares the machine's cores.
# store:  `scan --store` of the corpus into a fresh store (the first night), against the same
#         scan with that store again (the next night: nothing changed), with the demo list;
#         the store's size per file; the tree group's 200,000 files re-scanned with a store;
#         `rescreen` of a 1,000,000-file store against 10,000 and 1,000,000 PDQ entries
#         (benches/rescreen.rs).
# video:  vPDQ of the 720p H.264 sample at the default interval, in times real time per core
#         (benches/video.rs; CPU time of one thread), with decoding every frame beside it. Needs
#         no corpus.
# orb1:   `scan` of every 5th corpus file against the 49 originals' orb1 signatures and against
#         their PDQ hashes (lists written under $OUT), side by side in one hyperfine run; orb1's
#         files/s as a share of PDQ's (goal: at least 40 %).
#
# The corpus comes from ../shared/bench/make_corpus.sh (Debian wallpaper packages and PyPI
# scikit-image photos, deterministic). Needs hyperfine and GNU time (apt-get install hyperfine
# time); the peers are optional: pip install pdqhash numpy pillow, cargo install czkawka_cli
# --locked (or CZKAWKA=path), apt-get install libjpeg62-turbo-dev. The machine is usually
# shared: compare CPU seconds and ratios from the same run; the load average is printed.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
CORPUS=${CORPUS:-/tmp/corpus}
OUT=${OUT:-/tmp/mediascreen-bench}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/mediascreen
CZKAWKA=${CZKAWKA:-$(command -v czkawka_cli || ls "$HOME"/.cargo/bin/czkawka_cli 2>/dev/null || true)}
mkdir -p "$OUT"
# Every line that states a goal is also kept, and they are printed together at the end: one
# run, every goal's figure next to its target.
GOALS=$OUT/goals.txt
: > "$GOALS"
goals() {
  while IFS= read -r line; do
    printf '%s\n' "$line"
    case "$line" in *goal*|*target*) printf '%s\n' "$line" >> "$GOALS" ;; esac
  done
}

sel=("$@")
on() { [ ${#sel[@]} -eq 0 ] && return 0; for s in "${sel[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
any_on() { for g in "$@"; do on "$g" && return 0; done; return 1; }
# hyperfine, the corpus (not for tree) and the release binary: the video group needs none of
# them, being a cargo bench on a bundled video.
if any_on corpus jpeg floor lists tree archive bucket store orb1; then
  command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
fi
if any_on corpus jpeg floor lists archive bucket store orb1 && [ "$(find "$CORPUS" -type f 2>/dev/null | wc -l)" -lt 1470 ]; then
  if [ -x "$SHARED/make_corpus.sh" ] || [ -f "$SHARED/make_corpus.sh" ]; then
    bash "$SHARED/make_corpus.sh" "$CORPUS"
  else
    echo "No corpus in $CORPUS, and no make_corpus.sh at $SHARED to build it. The corpus is the" >&2
    echo "1,470 files that shared/bench/make_corpus.sh makes; set SHARED to its folder, or CORPUS" >&2
    echo "to any folder of pictures (the peer figures in the README are for that corpus)." >&2
    exit 2
  fi
fi
NFILES=$(find "$CORPUS" -type f 2>/dev/null | wc -l)
if any_on corpus jpeg floor lists tree archive bucket store orb1; then
  cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
fi

# hyperfine JSON → files/s (median wall), CPU s (mean user+sys) and ratios to the first command.
summarize() {  # JSON NFILES
  python3 - "$1" "$2" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
n = int(sys.argv[2])
first = results[0]
rate = lambda r: n / r["median"]
cpu = lambda r: r["user"] + r["system"]
print(f"{'command':<26}{'files/s':>9}{'wall s':>9}{'CPU s':>8}   {first['command']} against it")
for r in results:
    ratio = "" if r is first else \
        f"   {rate(first) / rate(r):.2f}x the files/s, {cpu(first) / cpu(r):.2f}x the CPU s"
    print(f"{r['command']:<26}{rate(r):>9.0f}{r['median']:>9.2f}{cpu(r):>8.1f}{ratio}")
PY
}

# `scan` of the corpus folder beside `scan` of TARGET (named scan-NAME), with the demo list,
# in one hyperfine run; then the summary.
against_folder() {  # NAME TARGET
  hyperfine -i -S bash --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/$1.json" \
    -n scan-folder "$BIN scan $CORPUS --list $ROOT/hashlists/demo.csv --report $OUT/folder-report.json --quiet" \
    -n "scan-$1" "$BIN scan $2 --list $ROOT/hashlists/demo.csv --report $OUT/$1-report.json --quiet" \
    > "$OUT/$1.log" 2>&1 || { cat "$OUT/$1.log"; exit 1; }
  summarize "$OUT/$1.json" "$NFILES"; load
}

HASH="$BIN hash --algorithms pdq,md5,sha1,sha256"
if on corpus; then
  echo "== corpus: $NFILES files in $CORPUS"; load
  cmds=(-n mediascreen "$HASH $CORPUS > /dev/null"
        -n mediascreen-builtin "$HASH --builtin-decoders $CORPUS > /dev/null")
  if python3 -c 'import pdqhash, numpy, PIL' 2>/dev/null && [ -f "$SHARED/peers/pdqhash_bench.py" ]; then
    cmds+=(-n pdqhash "python3 $SHARED/peers/pdqhash_bench.py $CORPUS")
  else echo "pdqhash peer skipped (pip install pdqhash numpy pillow; needs $SHARED/peers)"; fi
  if [ -n "$CZKAWKA" ]; then
    cmds+=(-n czkawka "$CZKAWKA image -d $CORPUS -m 1 -H -W -N -f $OUT/czkawka.txt")
  else echo "czkawka peer skipped (cargo install czkawka_cli --locked, or set CZKAWKA)"; fi
  hyperfine -i -S bash --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/corpus.json" \
    "${cmds[@]}" > "$OUT/corpus.log" 2>&1 || { cat "$OUT/corpus.log"; exit 1; }
  summarize "$OUT/corpus.json" "$NFILES"; load
  for flags in "" --builtin-decoders; do
    /usr/bin/time -o "$OUT/rss.txt" -f '%M' $HASH $flags "$CORPUS" > /dev/null 2>&1 || true
    echo "hash${flags:+ $flags} of the corpus: peak RSS $(( $(tail -n 1 "$OUT/rss.txt") / 1024 )) MiB (goal: below 300 MB)" | goals
  done
fi

if on jpeg; then
  # The corpus's JPEGs by content (not by name), broken/ left out: as run_peers.sh lists them.
  JPEGS=$OUT/jpegs.txt
  [ -s "$JPEGS" ] || python3 - "$CORPUS" "$JPEGS" <<'PY'
import os, sys
from PIL import Image
out = []
for r, d, fs in os.walk(sys.argv[1]):
    d.sort()
    if "broken" in r:
        continue
    for f in sorted(fs):
        p = os.path.join(r, f)
        try:
            if Image.open(p).format == "JPEG":
                out.append(p)
        except Exception:
            pass
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
  NJPEG=$(wc -l < "$JPEGS")
  split -n l/2 -d "$JPEGS" "$OUT/jpegs.part"
  echo "== jpeg: $NJPEG JPEGs"; load
  cmds=(-n mediascreen-jpeg "$HASH --files-from $JPEGS > /dev/null"
        -n mediascreen-jpeg-builtin "$HASH --builtin-decoders --files-from $JPEGS > /dev/null")
  if [ -f "$SHARED/peers/jpegdecode.c" ] && { [ -x "$OUT/jpegdecode" ] ||
      gcc -O2 -o "$OUT/jpegdecode" "$SHARED/peers/jpegdecode.c" -ljpeg 2>/dev/null; }; then
    cmds+=(-n libjpeg-turbo-decode "$OUT/jpegdecode 1 $OUT/jpegs.part00 & $OUT/jpegdecode 1 $OUT/jpegs.part01; wait")
  else echo "libjpeg-turbo peer skipped (apt-get install libjpeg62-turbo-dev; needs $SHARED/peers)"; fi
  hyperfine -i -S bash --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/jpeg.json" \
    "${cmds[@]}" > "$OUT/jpeg.log" 2>&1 || { cat "$OUT/jpeg.log"; exit 1; }
  summarize "$OUT/jpeg.json" "$NJPEG"; load
fi

if on floor; then
  cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --example decode_floor
  FLOOR=$TARGET/release/examples/decode_floor
  echo "== floor: decoding alone"; load
  hyperfine -i -S bash --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/floor.json" \
    -n hash "$HASH $CORPUS > /dev/null" \
    -n decode+digests "$FLOOR $CORPUS --digests" \
    -n decode "$FLOOR $CORPUS" > "$OUT/floor.log" 2>&1 || { cat "$OUT/floor.log"; exit 1; }
  summarize "$OUT/floor.json" "$NFILES"
  ( python3 - "$OUT/floor.json" <<'PY'
import json, sys
cpu = {r["command"]: r["user"] + r["system"] for r in json.load(open(sys.argv[1]))["results"]}
print(f"hash CPU s / decode+digests CPU s: {cpu['hash'] / cpu['decode+digests']:.2f}x "
      "(goal: at most 1.25x)")
PY
  ) | goals
  load
fi

if on lists; then
  LIST=$OUT/list-1m-pdq-1m-md5.csv
  [ -s "$LIST" ] || python3 - "$LIST" <<'PY'
import random, sys
rng = random.Random(7)
with open(sys.argv[1], "w") as f:
    f.write("algorithm,hash\n")
    for _ in range(1_000_000):
        f.write(f"pdq,{rng.getrandbits(256):064x}\n")
    for _ in range(1_000_000):
        f.write(f"md5,{rng.getrandbits(128):032x}\n")
PY
  echo "== lists: scan against 1,000,000 PDQ + 1,000,000 MD5 entries"; load
  hyperfine -i -S bash --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/lists.json" \
    -n hash "$HASH $CORPUS > /dev/null" \
    -n scan-2m-list "$BIN scan $CORPUS --list $LIST --report $OUT/report.json --quiet" \
    > "$OUT/lists.log" 2>&1 || { cat "$OUT/lists.log"; exit 1; }
  summarize "$OUT/lists.json" "$NFILES"; load
  /usr/bin/time -o "$OUT/rss.txt" -f 'scan peak RSS: %M KiB' "$BIN" scan "$CORPUS" \
    --list "$LIST" --report "$OUT/report.json" --quiet 2>/dev/null || true
  cat "$OUT/rss.txt"
fi

# The 200,000 small non-media files of the tree group, and an MD5 list that holds none of them.
TREE=$OUT/tree-200k
MD5LIST=$OUT/md5-1000.txt
make_tree() {
  [ -d "$TREE" ] || python3 - "$TREE" <<'PY'
import os, random, sys
rng = random.Random(11)
root = sys.argv[1]
for d in range(200):
    folder = os.path.join(root, f"dir{d:03}")
    os.makedirs(folder)
    for i in range(1000):
        with open(os.path.join(folder, f"note{i:04}.txt"), "w") as f:
            f.write(f"file {d}/{i}\n" + "lorem ipsum dolor sit amet " * rng.randint(1, 40))
PY
  [ -s "$MD5LIST" ] || python3 -c "import random; r = random.Random(3); print('\n'.join(f'{r.getrandbits(128):032x}' for _ in range(1000)))" > "$MD5LIST"
}

if on tree; then
  make_tree
  echo "== tree: 200,000 small non-media files"; load
  hyperfine -i -S bash --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/tree.json" \
    -n scan-200k-files "$BIN scan $TREE --list $MD5LIST --report $OUT/tree-report.json --quiet" \
    > "$OUT/tree.log" 2>&1 || { cat "$OUT/tree.log"; exit 1; }
  summarize "$OUT/tree.json" 200000; load
fi

if on archive; then
  ZIP=$OUT/corpus.zip
  [ -s "$ZIP" ] || (cd "$CORPUS" && zip -q -r "$ZIP" .)
  echo "== archive: the corpus zipped, against the same files unpacked"; load
  against_folder zip "$ZIP"
  for what in "$CORPUS" "$ZIP"; do
    /usr/bin/time -f "scan $(basename "$what") peak RSS: %M KiB" "$BIN" scan "$what" \
      --list "$ROOT/hashlists/demo.csv" --report "$OUT/rss-report.json" --quiet 2>&1 | tail -n 1 || true
  done
fi

if on bucket; then
  MOTO=${MOTO_SERVER:-$ROOT/.ci/venv/bin/moto_server}
  PY=$(dirname "$MOTO")/python
  [ -x "$MOTO" ] && "$PY" -c 'import boto3' 2>/dev/null \
    || { echo "bucket: needs moto_server and boto3 in one venv (see the top of this script)" >&2; exit 2; }
  PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$MOTO" -H 127.0.0.1 -p "$PORT" > "$OUT/moto.log" 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/moto-api/" && break; sleep 0.1; done
  export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
  "$PY" - "$CORPUS" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
s3.create_bucket(Bucket="corpus")
root = sys.argv[1]
for folder, _, names in os.walk(root):
    for name in names:
        path = os.path.join(folder, name)
        s3.upload_file(path, "corpus", os.path.relpath(path, root))
PY
  echo "== bucket: the corpus in a local S3 server, against the same files on disk"; load
  against_folder bucket s3://corpus/
  /usr/bin/time -f "scan s3://corpus/ peak RSS: %M KiB" "$BIN" scan s3://corpus/ \
    --list "$ROOT/hashlists/demo.csv" --report "$OUT/rss-report.json" --quiet 2>&1 | tail -n 1 || true
fi

if on store; then
  STORE="$OUT/audit.db"
  echo "== store: the corpus scanned into a fresh store, then again with it"; load
  hyperfine -i -S bash --warmup 0 --runs "$RUNS" --export-json "$OUT/store.json" \
    --prepare "rm -f $STORE $STORE-wal $STORE-shm" \
    -n first-scan "$BIN scan $CORPUS --list $ROOT/hashlists/demo.csv --store $STORE --report $OUT/store-first.json --quiet" \
    > "$OUT/store.log" 2>&1 || { cat "$OUT/store.log"; exit 1; }
  # The last first scan's store stays for the re-scans.
  hyperfine -i -S bash --warmup 1 --runs "$RUNS" --export-json "$OUT/store-again.json" \
    -n rescan "$BIN scan $CORPUS --list $ROOT/hashlists/demo.csv --store $STORE --report $OUT/store-rescan-report.json --quiet" \
    >> "$OUT/store.log" 2>&1 || { cat "$OUT/store.log"; exit 1; }
  python3 - "$OUT/store.json" "$OUT/store-again.json" "$NFILES" "$STORE" <<'PY' | goals
import json, os, sys
first, again = (json.load(open(p))["results"][0] for p in sys.argv[1:3])
n, store = int(sys.argv[3]), sys.argv[4]
cpu = lambda r: r["user"] + r["system"]
for name, r in (("first scan", first), ("re-scan", again)):
    print(f"{name:<12}{n / r['median']:>9.0f} files/s{r['median']:>9.2f} s{cpu(r):>8.1f} CPU s")
size = sum(os.path.getsize(p) for p in (store, store + "-wal") if os.path.exists(p))
print(f"re-scan {first['median'] / again['median']:.1f}x faster (goal: at least 20x); store "
      f"{size} bytes (with its WAL), {size / n:.0f} bytes a file")
PY
  make_tree
  TREESTORE="$OUT/tree.db"
  echo "== store: the 200,000-file tree re-scanned with its store"; load
  rm -f "$TREESTORE" "$TREESTORE-wal" "$TREESTORE-shm"
  # The files must not be racy (modified within 2 s of the first scan's start).
  sleep 2
  /usr/bin/time -f "first scan into the store: %e s, %M KiB peak RSS" "$BIN" scan "$TREE" \
    --list "$MD5LIST" --store "$TREESTORE" --report "$OUT/tree-first.json" --quiet 2>&1 | tail -n 1
  hyperfine -i -S bash --warmup 1 --runs "$RUNS" --export-json "$OUT/tree-again.json" \
    -n rescan-200k-files "$BIN scan $TREE --list $MD5LIST --store $TREESTORE --report $OUT/tree-again-report.json --quiet" \
    > "$OUT/tree-store.log" 2>&1 || { cat "$OUT/tree-store.log"; exit 1; }
  summarize "$OUT/tree-again.json" 200000
  python3 - "$OUT/tree-again.json" <<'PY' | goals
import json, sys
median = json.load(open(sys.argv[1]))["results"][0]["median"]
print(f"re-scan of 200,000 files with the store: {200000 / median:,.0f} files/s (goal: at least 50,000)")
PY
  echo "== store: rescreen of a 1,000,000-file store (benches/rescreen.rs)"; load
  cargo bench --quiet --manifest-path "$ROOT/Cargo.toml" --bench rescreen 2>&1 | grep -v '^$' | goals
  load
fi

if on video; then
  echo "== video: vPDQ of the 720p H.264 sample (benches/video.rs)"; load
  cargo bench --quiet --manifest-path "$ROOT/Cargo.toml" --bench video 2>&1 | grep -v '^$' | goals
  load
fi

if on orb1; then
  MAKE_CORPUS=$SHARED/make_corpus.py python3 "$ROOT/scripts/orb_eval.py" manifest "$CORPUS" "$OUT/orb1" > /dev/null
  find "$CORPUS" -type f | sort | awk 'NR % 5 == 1' > "$OUT/orb1/every5.txt"
  for a in orb1 orb2 pdq; do
    xargs -d '\n' "$BIN" hash --algorithms $a < "$OUT/orb1/listed.txt" > "$OUT/orb1/$a.csv" 2> /dev/null
  done
  N5=$(wc -l < "$OUT/orb1/every5.txt")
  echo "== orb1: $N5 files (every 5th) against the 49 originals' orb1, orb2 and PDQ lists"; load
  hyperfine -i -S bash --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/orb1.json" \
    -n scan-pdq-list "$BIN scan --files-from $OUT/orb1/every5.txt --list $OUT/orb1/pdq.csv --report $OUT/orb1/pdq.json --quiet 2> /dev/null" \
    -n scan-orb1-list "$BIN scan --files-from $OUT/orb1/every5.txt --list $OUT/orb1/orb1.csv --report $OUT/orb1/orb1.json --quiet" \
    -n scan-orb2-list "$BIN scan --files-from $OUT/orb1/every5.txt --list $OUT/orb1/orb2.csv --report $OUT/orb1/orb2.json --quiet" \
    > "$OUT/orb1.log" 2>&1 || { cat "$OUT/orb1.log"; exit 1; }
  summarize "$OUT/orb1.json" "$N5"
  python3 -c 'import json, sys; pdq, *orb = json.load(open(sys.argv[1]))["results"]
for name, r in zip(["orb1", "orb2"], orb):
    share = 100 * pdq["median"] / r["median"]
    print(f"{name} at {share:.0f} % of the PDQ files/s (goal: at least 40 %)")' "$OUT/orb1.json" | goals
  for a in pdq orb1 orb2; do
    /usr/bin/time -o "$OUT/rss.txt" -f '%M' "$BIN" scan --files-from "$OUT/orb1/every5.txt" \
      --list "$OUT/orb1/$a.csv" --report "$OUT/orb1/rss.json" --quiet 2> /dev/null || true
    echo "scan of every 5th file against the $a list: peak RSS $(( $(tail -n 1 "$OUT/rss.txt") / 1024 )) MiB (goal: below 300 MB)" | goals
  done
  echo "== orb1 and orb2: 10,000 listed signatures (benches/orb1_index.rs)"; load
  cargo bench --quiet --manifest-path "$ROOT/Cargo.toml" --bench orb1_index 2>&1 | grep -v '^$' | goals
  load
fi

if [ -s "$GOALS" ]; then
  echo "== goals: this run's figures ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  cat "$GOALS"
fi
