#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 60), seeded from the
# repository's lists and fixtures. Exits non-zero if any target finds a crash, a timeout or
# an out-of-memory, after naming the reproducer. See docs/fuzzing.md.
#
#   fuzz/run.sh [SECONDS]
#
# Works on the stable toolchain: cargo-fuzz passes `-Zsanitizer=address`, which stable rustc
# accepts under RUSTC_BOOTSTRAP=1 (its AddressSanitizer runtime ships with stable too).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
# libFuzzer reads -max_total_time=0 as "no limit".
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: fuzz/run.sh [SECONDS > 0]" >&2
    exit 2
fi
export RUSTC_BOOTSTRAP=1

# libFuzzer's options, the same for every target:
#   -rss_limit_mb      the whole process, checked every second;
#   -malloc_limit_mb   any single allocation (AddressSanitizer's hooks enforce it): a decoder
#                      that escapes DecodeLimits (128 MiB in the targets) shows up here;
#   -timeout           one input; the video targets give up by themselves after 2 s.
options=(-max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=10
    -print_final_stats=1)

# Seeds for each target: files, or directories whose files are taken (not recursively).
seeds() {
    case "$1" in
        list_*) echo ../hashlists ../fixtures/conformance/vpdq/test-padded-dimensions.txt ;;
        image_decode) echo seeds/images seeds/animation ../fixtures/video/testsrc-10fps.webp \
            ../fixtures/screening/exact/not-a-photo.jpg \
            ../fixtures/screening/distinct/q0003-low-quality.jpg \
            ../fixtures/screening/distinct/q0122.jpg \
            ../fixtures/screening/edited/q1050-recompressed.jpg \
            ../fixtures/screening/edited/pen-small.webp \
            ../fixtures/conformance/pdq/images/misc-images/small.jpg ;;
        animation) echo seeds/animation ../fixtures/video/testsrc-10fps.webp ;;
        # The repository's smallest video (56 KB, 0.7 s a run here) would make the fuzzer
        # crawl; 2 KB clips of 8-10 frames reach the same demuxer and decoder paths.
        h264) echo seeds/video ;;
        archive) echo ../fixtures/archives ../fixtures/exports ;;
        context_telegram) echo seeds/context/telegram ;;
        context_whatsapp) echo seeds/context/whatsapp ;;
        context_discord) echo seeds/context/discord ;;
        s3_event) echo seeds/s3_event ;;
    esac
}

echo "== building every target (the first build takes about 10 min)"
cargo fuzz build

failed=()
for target in $(cargo fuzz list); do
    corpus="corpus/$target"
    mkdir -p "$corpus" "artifacts/$target" logs
    for seed in $(seeds "$target"); do
        if [ -d "$seed" ]; then
            find "$seed" -maxdepth 1 -type f -exec cp -f {} "$corpus/" \;
        else
            cp -f "$seed" "$corpus/"
        fi
    done
    echo "== $target for ${seconds} s ($(ls "$corpus" | wc -l) inputs in $corpus)"
    log="logs/$target.log"
    if cargo fuzz run "$target" "$corpus" -- "${options[@]}" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log" | tail -n 1 || true
    else
        failed+=("$target")
        echo "!! $target FAILED; log: fuzz/$log"
        grep -E '^==[0-9]+==|^SUMMARY|^ *Test unit written to|panicked at' "$log" | head -n 20 || true
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "== failing targets: ${failed[*]}"
    echo "   reproducers: fuzz/artifacts/<target>/ (crash-*, oom-*, timeout-*, leak-*)"
    echo "   replay one:  RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>"
    echo "   minimise it: RUSTC_BOOTSTRAP=1 cargo fuzz tmin <target> fuzz/artifacts/<target>/<file>"
    exit 1
fi
echo "== every target ran ${seconds} s without a finding"
