#!/usr/bin/env bash
# Gemm.runtime's speed on a recurrent layer's and an attention head's products, one thread,
# against one core's FMA peak measured in the same run (runtime_gemm_bench.swift). Builds modelc,
# compiles models/mnist_lstm_rows.md for this CPU (which builds or reuses the runtime), then links
# the benchmark against that runtime's objects with the same flags. Not run by CI.
#   bash Tests/Peers/runtime_gemm_bench.sh [--isa avx2|avx512|neon]
set -euo pipefail
cd "$(dirname "$0")/../.."
isa=()
case "${1:-}" in
    "") ;;
    --isa) [ -n "${2:-}" ] || { echo "error: --isa needs a value" >&2; exit 2; }; isa=(--isa "$2") ;;
    *) echo "usage: $0 [--isa avx2|avx512|neon]" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build --product modelc >/dev/null
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p')"
# the second compile names the cached runtime it links
.build/debug/modelc compile models/mnist_lstm_rows.md ${isa[@]+"${isa[@]}"} -o "$work/lstm" --generated "$work/generated" >/dev/null
log=$(.build/debug/modelc compile models/mnist_lstm_rows.md ${isa[@]+"${isa[@]}"} -o "$work/lstm" --generated "$work/generated")
runtime=$(echo "$log" | sed -n 's/^ *runtime: cached //p')
read -r family cpu <<< "$(echo "$log" | sed -n 's/^ *target: \([a-z0-9]*\) (-target-cpu \([a-z0-9-]*\)).*/\1 \2/p')"
[ -d "$runtime" ] && [ -n "${cpu:-}" ] || { echo "error: no cached runtime or target in modelc's output: $log" >&2; exit 1; }
echo "runtime: $runtime ($family, -target-cpu $cpu)"
swiftc -Ounchecked -suppress-warnings -target-cpu "$cpu" -D "MODELC_ISA_$(echo "$family" | tr a-z A-Z)" -I "$runtime" \
    Tests/Peers/runtime_gemm_bench.swift "$runtime"/ModelcRuntime/*.o "$runtime"/ModelcData/*.o "$runtime"/ModelcModelFiles/*.o \
    -o "$work/bench"
"$work/bench"
