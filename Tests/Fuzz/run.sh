#!/usr/bin/env bash
# Runs modelc's libFuzzer harnesses (issue 6). Usage:
#   Tests/Fuzz/run.sh TARGET [SECONDS]     TARGET: model kerasconfig inflate gzip idx npy npz csv numcsv png pgm ppm tar cifar hdf5 checkpoint imagecache onnx pickle torch safetensors
#   Tests/Fuzz/run.sh all [SECONDS]        every target in turn (default 600 seconds each)
#   Tests/Fuzz/run.sh build TARGET         only build the harness
# Each harness is built with swiftc -sanitize=fuzzer,address: the modules it exercises as
# sanitized modules (.build-fuzz/modules), then its entry point (Sources/ModelcFuzz) and harness
# file (Tests/Fuzz/Harness) against them. Each run is seeded from Tests/Fuzz/seeds/TARGET and
# Tests/Fuzz/regressions/TARGET and limited by -max_total_time. The growing corpus, crash
# artifacts and logs live in .build-fuzz/ (git-ignored). A crashing, hanging or out-of-memory
# input is copied into Tests/Fuzz/regressions/TARGET/, and the script exits 1. Environment:
# FUZZ_FLAGS adds libFuzzer flags (e.g. FUZZ_FLAGS=-jobs=2).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
OUT="$ROOT/.build-fuzz"
TARGETS="model kerasconfig inflate gzip idx npy npz csv numcsv png pgm ppm tar cifar hdf5 checkpoint imagecache onnx pickle torch safetensors"
SWIFTC=(swiftc -sanitize=fuzzer,address -parse-as-library -O -g -package-name modelc)

usage() { echo "usage: $0 TARGET|all|build TARGET [SECONDS]   (TARGET: $TARGETS)" >&2; exit 2; }

# newer_than BINARY FILES...: true if BINARY is missing or any FILE is newer.
needs_build() {
    local bin="$1"; shift
    [ -x "$bin" ] || return 0
    [ -n "$(find "$@" -newer "$bin" -name '*.swift' 2>/dev/null | head -1)" ]
}

binary_for() {
    case "$1" in
        model) echo "$OUT/bin/fuzz-model" ;;
        kerasconfig) echo "$OUT/bin/fuzz-kerasconfig" ;;
        onnx) echo "$OUT/bin/fuzz-onnx" ;;
        checkpoint) echo "$OUT/bin/fuzz-checkpoint" ;;
        imagecache) echo "$OUT/bin/fuzz-imagecache" ;;
        inflate|gzip|idx|npy|npz|csv|numcsv|png|pgm|ppm|tar|cifar|hdf5) echo "$OUT/bin/fuzz-data" ;;
        pickle|torch|safetensors) echo "$OUT/bin/fuzz-weights" ;;
        *) usage ;;
    esac
}

# sanitized_module NAME: Sources/NAME as a sanitized module ($OUT/modules/NAME.swiftmodule and one
# object per source file in $OUT/modules/NAME/), against the modules built before it; compiled
# file by file, one job per core (as the build driver compiles the runtime). Kept while no source
# is newer than its stamp and no module before it was rebuilt (REBUILT).
sanitized_module() {
    local dir="$OUT/modules/$1"
    if [ -z "$REBUILT" ] && [ -f "$dir.stamp" ] && [ -z "$(find "Sources/$1" -name '*.swift' -newer "$dir.stamp" | head -1)" ]; then
        return 0
    fi
    REBUILT=1
    rm -rf "$dir" "$dir.stamp"; mkdir -p "$dir"
    "${SWIFTC[@]}" -module-name "$1" -j "$(nproc)" -I "$OUT/modules" -emit-module -emit-module-path "$OUT/modules/$1.swiftmodule" \
        -c $(find "$ROOT/Sources/$1" -name '*.swift' | sort) -working-directory "$dir"
    touch "$dir.stamp"
}

# link_harness BINARY ENTRY HARNESS MODULE...: builds each MODULE (dependencies first), then the
# entry point Sources/ModelcFuzz/ENTRY and the harness Tests/Fuzz/Harness/HARNESS against them.
link_harness() {
    local bin="$1" entry="Sources/ModelcFuzz/$2" harness="Tests/Fuzz/Harness/$3" objects=() m
    shift 3
    if ! needs_build "$bin" "${@/#/Sources/}" "$entry" "$harness"; then return 0; fi
    echo "building $bin" >&2
    REBUILT=""
    for m in "$@"; do sanitized_module "$m"; objects+=("$OUT/modules/$m"/*.o); done
    "${SWIFTC[@]}" -module-name ModelcFuzz -I "$OUT/modules" "$entry" "$harness" "${objects[@]}" -o "$bin"
}

build() {
    local target="$1" bin
    bin="$(binary_for "$target")"
    mkdir -p "$OUT/bin" "$OUT/modules"
    case "$target" in
        model) link_harness "$bin" FrontendFuzzEntry.swift ModelFuzz.swift ModelcData ModelcModelFiles ModelcCore ;;
        kerasconfig) link_harness "$bin" KerasConfigFuzzEntry.swift KerasConfigFuzz.swift ModelcData ModelcModelFiles ModelcCore ;;
        onnx) link_harness "$bin" ONNXFuzzEntry.swift ONNXFuzz.swift ModelcData ModelcModelFiles ModelcCore ;;
        checkpoint) link_harness "$bin" CheckpointFuzzEntry.swift CheckpointFuzz.swift ModelcData ModelcModelFiles ModelcRuntime ;;
        imagecache) link_harness "$bin" ImageCacheFuzzEntry.swift ImageCacheFuzz.swift ModelcData ModelcModelFiles ModelcRuntime ;;
        pickle|torch|safetensors) link_harness "$bin" WeightsFuzzEntry.swift WeightsFuzz.swift ModelcData ModelcModelFiles ;;
        *) link_harness "$bin" DecoderFuzzEntry.swift DataFuzz.swift ModelcData ModelcModelFiles ;;
    esac
}

run() {
    local target="$1" seconds="$2" bin corpus art log status=0
    build "$target"
    bin="$(binary_for "$target")"
    corpus="$OUT/corpus/$target"; art="$OUT/artifacts/$target"; log="$OUT/logs/$target.log"
    mkdir -p "$corpus" "$art" "$OUT/logs" "Tests/Fuzz/seeds/$target" "Tests/Fuzz/regressions/$target"
    echo "fuzzing $target for ${seconds}s (log: $log)" >&2
    MODELC_FUZZ_KIND="$target" "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/" ${FUZZ_FLAGS:-} \
        "$corpus" "Tests/Fuzz/seeds/$target" "Tests/Fuzz/regressions/$target" >"$log" 2>&1 || status=$?
    local found=0
    for f in "$art"/crash-* "$art"/timeout-* "$art"/oom-* "$art"/leak-* "$art"/slow-unit-*; do
        [ -e "$f" ] || continue
        cp "$f" "Tests/Fuzz/regressions/$target/"; rm -f "$f"
        echo "$target: FINDING $(basename "$f") -> Tests/Fuzz/regressions/$target/" >&2
        found=1
    done
    local execs
    execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')"
    echo "$target: $(date -u +%FT%TZ) ${seconds}s executed_units=${execs:-?} exit=$status $( [ $found = 1 ] && echo FINDINGS || echo clean)"
    [ "$status" = 0 ] && [ "$found" = 0 ]
}

[ $# -ge 1 ] || usage
case "$1" in
    build) [ $# -ge 2 ] || usage; build "$2" ;;
    all)
        rc=0
        for t in $TARGETS; do run "$t" "${2:-600}" || rc=1; done
        exit $rc ;;
    *) run "$1" "${2:-600}" ;;
esac
