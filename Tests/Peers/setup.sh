#!/usr/bin/env bash
# Creates the Python environment for the peer benchmarks (Tests/Peers/peer_bench.py).
# Not used by CI or by modelc itself. Usage:
#   bash Tests/Peers/setup.sh            # venv at $MODELC_PEERS_VENV or ~/.cache/modelc-peers/venv
#   ~/.cache/modelc-peers/venv/bin/python Tests/Peers/peer_bench.py
# Installs: torch (the CPU wheel from /opt/wheels if present, else PyPI), keras 3,
# tensorflow-cpu (Keras backend for the Keras column), onnx, onnxscript (torch's ONNX exporter)
# and onnxruntime.
set -euo pipefail
VENV="${MODELC_PEERS_VENV:-$HOME/.cache/modelc-peers/venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --upgrade pip >/dev/null
TORCH_WHEEL=$(ls /opt/wheels/torch-*+cpu-*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$TORCH_WHEEL" ]; then
    "$VENV/bin/python" -m pip install "$TORCH_WHEEL"
else
    "$VENV/bin/python" -m pip install torch
fi
"$VENV/bin/python" -m pip install numpy keras tensorflow-cpu onnx onnxscript onnxruntime
"$VENV/bin/python" - <<'PY'
import importlib
for m in ("numpy", "torch", "keras", "tensorflow", "onnx", "onnxruntime"):
    mod = importlib.import_module(m)
    print(f"{m:12s} {getattr(mod, '__version__', '?')}")
PY
echo "peer environment ready: $VENV"
echo "run: $VENV/bin/python $(cd "$(dirname "$0")" && pwd)/peer_bench.py"
