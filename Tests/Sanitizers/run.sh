#!/usr/bin/env bash
# Runs modelc under ThreadSanitizer and AddressSanitizer (issue 16). Usage:
#   Tests/Sanitizers/run.sh [--binary] [thread|address|all]        (default: all)
# For each sanitizer (--binary: steps 2 and 3 only, as CI runs them):
#   1. `swift test -c release --sanitize=KIND --filter 'RuntimeTests|BackendTests'` in its own
#      scratch path ($SAN_BUILD/tsan or $SAN_BUILD/asan), so sanitized and plain objects never
#      mix. Release, because the backend tests run the generated models (seed 002 among them),
#      which at -Onone under TSan take over 12 minutes instead of about 1.5 (SAN_CONFIG=debug
#      runs the debug build, asserts included);
#   2. `modelc compile models/seed002_mnist_cnn.md --sanitize KIND` (runtime and model built
#      with -O -g -sanitize=KIND, the runtime modules but ModelcRuntime at -Onone; the runtime
#      cache entry is keyed by those flags);
#   3. with that binary: a short training (1 epoch, 256 images of the shipped MNIST sample,
#      batch 64, --threads 2: the worker pool's hand-offs between the caller and one worker),
#      an eval on 256 test images with --threads 3 (two workers), a single-image predict, and
#      one second of single-image latency (`bench --only latency`: parallel regions back to back,
#      so the workers take jobs while spinning rather than after parking; with the pool's
#      job counter weakened to .relaxed, TSan reports the race on its `parts` here).
# Any sanitizer report fails the step (and the script, exit 1): TSan and ASan halt on the first
# report with a non-zero exit code, and each step's log is also searched for report headers
# (the kill-and-resume tests run a sanitized child process whose exit code a test may expect to
# be non-zero). LeakSanitizer checks the compiled binary's runs; it is off for the XCTest process,
# where it reports XCTest's own objects (README.md).
# Prints each step's wall time and the total. Logs: $SAN_BUILD/sanitizers/logs/.
# Environment: SAN_BUILD (default .build; the plain modelc is built in it unless SAN_MODELC names
# one already built), SAN_CONFIG (release or
# debug, for the tests), SAN_JOBS (swift build -j), TSAN_OPTIONS / ASAN_OPTIONS (appended to the
# script's options), MODELC_CACHE (the runtime cache, see `modelc compile`). Run it niced on a shared
# machine: `nice -n 19 Tests/Sanitizers/run.sh`. Times: Tests/Sanitizers/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
BUILD="${SAN_BUILD:-$ROOT/.build}"
OUT="$BUILD/sanitizers"
LOGS="$OUT/logs"
SAMPLE="Sources/ModelcData/Samples/mnist"
MODEL="models/seed002_mnist_cnn.md"
CONFIG="${SAN_CONFIG:-release}"
JOBS=()
[ -n "${SAN_JOBS:-}" ] && JOBS=(-j "$SAN_JOBS")

BINARY_ONLY=0
if [ "${1:-}" = --binary ]; then BINARY_ONLY=1; shift; fi
case "${1:-all}" in
    all) KINDS="thread address" ;;
    thread|address) KINDS="$1" ;;
    *) echo "usage: $0 [--binary] [thread|address|all]" >&2; exit 2 ;;
esac

# halt_on_error: stop at the first report, with a failing exit code (TSan's 66, ASan's 1).
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="halt_on_error=1 detect_leaks=1 detect_stack_use_after_return=1 ${ASAN_OPTIONS:-}"

mkdir -p "$LOGS"
TIMES=()
FAILED=0
START=$(date +%s)

# step NAME COMMAND...: runs COMMAND with its output in $LOGS/NAME.log, prints its wall time,
# and fails on a non-zero exit or a sanitizer report in the log.
step() {
    local name="$1" t0 t1 status=0
    shift
    printf '== %-24s ' "$name"
    t0=$(date +%s)
    "$@" >"$LOGS/$name.log" 2>&1 || status=$?
    t1=$(date +%s)
    if [ $status -eq 0 ] && grep -qE '^(WARNING: ThreadSanitizer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|ThreadSanitizer: CHECK failed|SUMMARY: (Thread|Address|Leak)Sanitizer)' "$LOGS/$name.log"; then
        status=99
    fi
    TIMES+=("$(printf '%-24s %5d s%s' "$name" $((t1 - t0)) "$([ $status -eq 0 ] || echo "  FAILED (exit $status)")")")
    if [ $status -ne 0 ]; then
        echo "FAILED after $((t1 - t0)) s (exit $status); log: $LOGS/$name.log"
        local report='WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer|Sanitizer: CHECK failed'
        if grep -qE "$report" "$LOGS/$name.log"; then
            grep -E -m 1 -A 60 "$report" "$LOGS/$name.log" || true
        else
            tail -n 40 "$LOGS/$name.log"
        fi
        FAILED=1
        return 1
    fi
    echo "$((t1 - t0)) s"
}

summary() {
    echo "== times"
    for t in "${TIMES[@]}"; do echo "   $t"; done
    printf '   %-24s %5d s\n' total $(($(date +%s) - START))
}
trap summary EXIT

if [ -n "${SAN_MODELC:-}" ]; then
    MODELC="$SAN_MODELC"
else
    step build-modelc swift build "${JOBS[@]}" --scratch-path "$BUILD" --product modelc
    MODELC="$BUILD/debug/modelc"
fi

for kind in $KINDS; do
    short=${kind:0:1}san
    # LeakSanitizer is off in the XCTest process only (see README.md: it reports XCTest's own
    # test-case objects, reachable only through Swift weak-reference side tables); it stays on
    # for the compiled binary.
    leaks=()
    [ "$kind" = address ] && leaks=(env ASAN_OPTIONS="$ASAN_OPTIONS detect_leaks=0")
    if [ $BINARY_ONLY -eq 0 ]; then
        step "$short-tests" "${leaks[@]}" swift test "${JOBS[@]}" -c "$CONFIG" --scratch-path "$BUILD/$short" \
            --sanitize="$kind" --filter 'RuntimeTests|BackendTests' || true
    fi
    bin="$OUT/bin/seed002-$short"
    # emitted into the scratch directory, so that generated/ stays as committed
    step "$short-compile" "$MODELC" compile "$MODEL" --sanitize "$kind" --generated "$OUT/generated" -o "$bin" || continue
    rm -f "$OUT/seed002-$short".*ckpt "$OUT/seed002-$short.ckpt"
    step "$short-train" "$bin" train --data "$SAMPLE" --epochs 1 --limit 256 --batch 64 --threads 2 \
        --checkpoint "$OUT/seed002-$short.ckpt" || continue
    step "$short-eval" "$bin" eval --data "$SAMPLE" --checkpoint "$OUT/seed002-$short.ckpt" --split test --limit 256 --threads 3 || true
    step "$short-predict" "$bin" predict --checkpoint "$OUT/seed002-$short.ckpt" --idx "$SAMPLE/t10k-images-idx3-ubyte.gz" --index 0 || true
    step "$short-latency" "$bin" bench --only latency --seconds 1 --no-peak --threads 2 || true
done

[ $FAILED -eq 0 ] && echo "sanitizers OK" || { echo "sanitizers: FAILED" >&2; exit 1; }
