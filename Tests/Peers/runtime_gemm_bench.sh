#!/usr/bin/env bash
# Gemm.runtime's speed on a recurrent layer's and an attention head's products, one thread,
# against one core's FMA peak measured in the same run (runtime_gemm_bench.swift). Builds modelc,
# compiles models/mnist_lstm_rows.md for this CPU (which builds or reuses the runtime), then links
# the benchmark against that runtime's objects with the same flags. Not run by CI.
#   bash Tests/Peers/runtime_gemm_bench.sh [--isa avx2|avx512|neon]
set -euo pipefail
cd "$(dirname "$0")/../.."
isa=()
if [ "${1:-}" = --isa ]; then isa=(--isa "$2"); fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build --product modelc >/dev/null
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p')"
# the second compile names the cached runtime it links
.build/debug/modelc compile models/mnist_lstm_rows.md "${isa[@]}" -o "$work/lstm" --generated "$work/generated" >/dev/null
log=$(.build/debug/modelc compile models/mnist_lstm_rows.md "${isa[@]}" -o "$work/lstm" --generated "$work/generated")
runtime=$(echo "$log" | sed -n 's/^ *runtime: cached //p')
flags=$(echo "$log" | sed -n 's/^ *target: \([a-z0-9]*\) (-target-cpu \([a-z0-9-]*\)).*/\1 \2/p')
[ -d "$runtime" ] || { echo "error: no cached runtime named in: $log" >&2; exit 1; }
read -r family cpu <<< "$flags"
echo "runtime: $runtime ($family, -target-cpu $cpu)"
swiftc -Ounchecked -target-cpu "$cpu" -D "MODELC_ISA_$(echo "$family" | tr a-z A-Z)" -I "$runtime" \
    Tests/Peers/runtime_gemm_bench.swift "$runtime"/ModelcRuntime/*.o "$runtime"/ModelcData/*.o "$runtime"/ModelcModelFiles/*.o \
    -o "$work/bench" 2>&1 | grep -v warning || true
"$work/bench"
