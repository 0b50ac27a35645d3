#!/usr/bin/env bash
# Build-time benchmark (issue 16's build targets): prints the CPU, then one line per figure with
# its target, each measured on a fresh clone of the current commit in a temporary directory:
#   hello world     `swiftc -static-stdlib` of a one-line program (the machine's scale)
#   modelc build    `swift build --product modelc` (the first half of `swift run modelc demo`)
#   cold runtime    `modelc compile` of the MLP with an empty runtime cache, in all (target 60 s)
#   seed 002        `modelc compile models/seed002_mnist_cnn.md`, runtime cached   (target 30 s)
#   MLP             `modelc compile models/seed001_mlp_128_64_relu_adam.md`, cached (target 6 s)
#   demo            `swift run modelc demo` on another fresh clone (with --demo; target 180 s)
#   CI              `bash .ci/run` on another fresh clone (with --ci; target 600 s)
# Usage: bash Tests/Peers/build_times.sh [--demo] [--ci]. Run it on an idle machine; it takes
# about 2 minutes on two cores, plus about 2 for --demo and 6 for --ci. Not run by CI.
set -euo pipefail
demo=0 ci=0
for option in "$@"; do
    case $option in
        --demo) demo=1 ;;
        --ci) ci=1 ;;
        *) echo "build_times.sh: unknown option $option (expected --demo or --ci)" >&2; exit 2 ;;
    esac
done
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/modelc-build-times.XXXXXX")
trap 'rm -rf "$work"' EXIT

# seconds NAME TARGET COMMAND...: runs COMMAND (output to $work/NAME.log) and prints its wall time.
seconds() {
    local name=$1 target=$2; shift 2
    local start end
    start=$(date +%s.%N)
    if ! "$@" > "$work/$name.log" 2>&1; then
        echo "$name: failed; its output:" >&2; tail -n 30 "$work/$name.log" >&2; exit 1
    fi
    end=$(date +%s.%N)
    printf '%-14s %7.1f s%s\n' "$name" "$(echo "$end - $start" | bc)" "${target:+   (target $target s)}"
}

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(grep -o -w 'avx512f\|avx2\|asimd' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "commit: $(git -C "$repo" rev-parse --short HEAD)"
printf 'print("hello")\n' > "$work/hello.swift"
seconds "hello world" "" swiftc -static-stdlib "$work/hello.swift" -o "$work/hello"
git clone -q "$repo" "$work/clone"
cd "$work/clone"
seconds "modelc build" "" swift build --product modelc
export MODELC_CACHE="$work/cache"
seconds "cold runtime" 60 .build/debug/modelc compile models/seed001_mlp_128_64_relu_adam.md -o "$work/mlp"
seconds "seed 002" 30 .build/debug/modelc compile models/seed002_mnist_cnn.md -o "$work/seed002"
seconds "MLP" 6 .build/debug/modelc compile models/seed001_mlp_128_64_relu_adam.md -o "$work/mlp"
unset MODELC_CACHE
if [ "$demo" = 1 ]; then git clone -q "$repo" "$work/demo"; cd "$work/demo"; seconds "demo" 180 swift run modelc demo; fi
if [ "$ci" = 1 ]; then git clone -q "$repo" "$work/ci"; cd "$work/ci"; seconds "CI" 600 bash .ci/run; fi
