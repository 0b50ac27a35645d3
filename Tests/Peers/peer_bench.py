#!/usr/bin/env python3
"""Peer comparison for issue 4: the seed networks in PyTorch, Keras and ONNX Runtime, 2 threads.

Not run by CI. Set up once with `bash Tests/Peers/setup.sh`, then:

    ~/.cache/modelc-peers/venv/bin/python Tests/Peers/peer_bench.py \
        [--nets seed000,seed002,seed001] [--frameworks torch,keras,onnx] [--repeats 5] \
        [--modelc-json FILE]... [--modelc-bench NET=BINARY]... [--rounds 1] [--json-out results.json]

Networks (same layers as the seed documents; Dropout is active in training):
  seed000  KMNIST CNN, seed 000 table (about 13.3 MFLOP forward per image)
  seed002  MNIST CNN, seed 002 table (about 45 MFLOP forward per image)
  seed001  MLP 784-128-64-10 (relu)
  transformer  models/mnist_transformer_rows.md: 28 rows -> Dense 64, self-attention (4 heads of
           16) + Add + LayerNormalization, Dense 128 relu -> 64 + Add + LayerNormalization,
           Flatten, Dense 10 (not in the default --nets)
  lstm     models/mnist_lstm_rows.md: 28 rows -> LSTM 128 (last state) -> Dense 10 (not in the
           default --nets)
  gru      Tests/Peers/models/mnist_gru_rows.md: the same with GRU 128 (reset_after, PyTorch's
           form; not in the default --nets)

Measured, each framework in its own subprocess with 2 threads:
  train_images_per_s       batch 128, Adam (lr 1e-3), softmax cross-entropy, synthetic data;
                           median over --repeats timed runs of --train-steps steps (after warm-up)
  infer_images_per_s_b256  ONNX Runtime (and Keras/PyTorch inference for reference), batch 256
  latency_ms_b1_median/p99 ONNX Runtime, batch 1, --latency-iters single-image runs

modelc results are read from JSON with the keys train_images_per_s, infer_images_per_s_b256,
latency_ms_b1_median, latency_ms_b1_p99 (what `bench --json` prints):
  --modelc-json FILE        FILE holds one object per network: either a JSON object keyed by
                            network (seed000/seed002/seed001 or the model names
                            seed000_kmnist_cnn/seed002_mnist_cnn/seed001_kmnist_mlp), or
                            JSON lines / a list of objects each with a "model" or "name" key,
                            or NET=FILE for a single bare object.
  --modelc-bench NET=BIN    runs `BIN bench --json` now (same run as the peers, right after
                            that network's peers) and reads the last JSON object it prints.
  --rounds N                repeats the whole comparison N times, interleaved (round 1 of every
                            network and framework, then round 2, ...), and reports for every
                            framework the median of each figure over the rounds: on a machine
                            whose speed drifts, a slow phase then hits all frameworks alike.
  --cap-isa avx2            runs the peers as on an AVX2-only x86 CPU (such as AMD Zen 1): the
                            shim Tests/Peers/cpuid_cap.c, built with cc and preloaded, hides
                            AVX-512, AVX-VNNI and AMX from CPUID, so that MLAS, MKL, oneDNN and
                            PyTorch pick their AVX2 kernels (the caps ATEN_CPU_CAPABILITY,
                            ONEDNN_MAX_CPU_ISA and MKL_ENABLE_INSTRUCTIONS are set as well). Every
                            worker reports how many CPUID instructions the shim trapped, and every
                            modelc result must say kernels "avx2" (`modelc compile --isa avx2`).
                            GLIBC_TUNABLES turns glibc's own AVX-512 string functions off too.
                            Needs the CPU's CPUID faulting (lscpu flag cpuid_fault).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

NETS = {
    "seed000": dict(model="seed000_kmnist_cnn", title="seed 000 CNN"),
    "seed002": dict(model="seed002_mnist_cnn", title="seed 002 CNN"),
    "seed001": dict(model="seed001_kmnist_mlp", title="seed 001 MLP 784-128-64-10"),
    "transformer": dict(model="mnist_transformer_rows", title="transformer block on MNIST rows"),
    "lstm": dict(model="mnist_lstm_rows", title="LSTM 128 on MNIST rows"),
    "gru": dict(model="mnist_gru_rows", title="GRU 128 on MNIST rows"),
}
ALIASES = {v["model"]: k for k, v in NETS.items()}
THREADS = 2
BATCH = 128


def set_thread_env():
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[k] = str(THREADS)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# ----------------------------------------------------------------------------------------------
# PyTorch models (NCHW)
# ----------------------------------------------------------------------------------------------

def torch_model(net):
    import torch
    from torch import nn

    def bn2(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    class Standardize(nn.Module):
        def forward(self, x):
            return (x - 0.1307) / 0.3081

    if net == "seed000":
        return nn.Sequential(
            nn.ZeroPad2d(2),
            nn.Conv2d(1, 32, 7, bias=False), bn2(32), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(32, 64, 5, bias=False), bn2(64), nn.ReLU(),
            nn.Conv2d(64, 128, 3, stride=2, bias=False), bn2(128), nn.MaxPool2d(2), nn.ReLU(),
            nn.Flatten(), nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10))
    if net == "seed002":
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), bn2(cout), nn.LeakyReLU(0.3)]
        return nn.Sequential(
            Standardize(),
            *block(1, 32), *block(32, 32), nn.MaxPool2d(2), nn.Dropout(0.25),
            *block(32, 64), *block(64, 64), nn.MaxPool2d(2), nn.Dropout(0.25),
            *block(64, 128), nn.MaxPool2d(2), nn.Dropout(0.25),
            *block(128, 64), nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Flatten(), nn.BatchNorm1d(64, eps=1e-3, momentum=0.01), nn.Dropout(0.25),
            nn.Linear(64, 256), nn.LeakyReLU(0.3), nn.Dropout(0.5),
            nn.Linear(256, 128), nn.LeakyReLU(0.3), nn.Dropout(0.5),
            nn.Linear(128, 10))
    if net == "seed001":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                             nn.Linear(64, 10))
    if net == "transformer":
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Linear(28, 64)
                self.mha = nn.MultiheadAttention(64, 4, batch_first=True)
                self.ln = nn.LayerNorm(64, eps=1e-3)
                self.ff = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64))
                self.ln1 = nn.LayerNorm(64, eps=1e-3)
                self.out = nn.Linear(28 * 64, 10)

            def forward(self, x):
                x = self.embed(x.reshape(-1, 28, 28))
                x = self.ln(x + self.mha(x, x, x, need_weights=False)[0])
                x = self.ln1(x + self.ff(x))
                return self.out(x.flatten(1))
        return Block()
    if net in ("lstm", "gru"):
        cell = nn.LSTM if net == "lstm" else nn.GRU

        class Rows(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = cell(28, 128, batch_first=True)
                self.out = nn.Linear(128, 10)

            def forward(self, x):
                return self.out(self.rnn(x.reshape(-1, 28, 28))[0][:, -1])
        return Rows()
    raise ValueError(net)


def torch_forward_flops(model):
    """2 x multiply-adds of Conv2d/Linear for one 28x28x1 image."""
    import torch
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Conv2d):
            total[0] += 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, torch.nn.Linear):
            total[0] += 2 * m.in_features * m.out_features
        elif isinstance(m, (torch.nn.LSTM, torch.nn.GRU)):   # 4 or 3 gates: input and recurrent products
            steps, gates = out[0].shape[1], 4 if isinstance(m, torch.nn.LSTM) else 3
            total[0] += 2 * steps * gates * m.hidden_size * (m.input_size + m.hidden_size)
    hs = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in hs:
        h.remove()
    return total[0]


# ----------------------------------------------------------------------------------------------
# Keras models (NHWC, TensorFlow backend)
# ----------------------------------------------------------------------------------------------

def keras_model(net):
    import keras
    from keras import layers as L
    i = keras.Input((28, 28, 1))
    if net == "seed000":
        x = L.ZeroPadding2D(2)(i)
        x = L.Conv2D(32, 7, use_bias=False)(x); x = L.BatchNormalization()(x); x = L.MaxPooling2D(2)(x)
        x = L.Activation("relu")(x)
        x = L.Conv2D(64, 5, use_bias=False)(x); x = L.BatchNormalization()(x); x = L.Activation("relu")(x)
        x = L.Conv2D(128, 3, strides=2, use_bias=False)(x); x = L.BatchNormalization()(x)
        x = L.MaxPooling2D(2)(x); x = L.Activation("relu")(x)
        x = L.Flatten()(x); x = L.Dense(512, activation="relu")(x); x = L.Dropout(0.5)(x)
        x = L.Dense(10, activation="softmax")(x)
    elif net == "seed002":
        x = L.Lambda(lambda t: (t - 0.1307) / 0.3081)(i)

        def block(x, f):
            x = L.Conv2D(f, 3, padding="same")(x); x = L.BatchNormalization()(x)
            return L.LeakyReLU(negative_slope=0.3)(x)
        x = block(x, 32); x = block(x, 32); x = L.MaxPooling2D(2)(x); x = L.Dropout(0.25)(x)
        x = block(x, 64); x = block(x, 64); x = L.MaxPooling2D(2)(x); x = L.Dropout(0.25)(x)
        x = block(x, 128); x = L.MaxPooling2D(2)(x); x = L.Dropout(0.25)(x)
        x = block(x, 64); x = L.MaxPooling2D(2)(x); x = L.Dropout(0.25)(x)
        x = L.Flatten()(x); x = L.BatchNormalization()(x); x = L.Dropout(0.25)(x)
        x = L.Dense(256)(x); x = L.LeakyReLU(negative_slope=0.3)(x); x = L.Dropout(0.5)(x)
        x = L.Dense(128)(x); x = L.LeakyReLU(negative_slope=0.3)(x); x = L.Dropout(0.5)(x)
        x = L.Dense(10, activation="softmax")(x)
    elif net == "seed001":
        x = L.Flatten()(i); x = L.Dense(128, activation="relu")(x); x = L.Dense(64, activation="relu")(x)
        x = L.Dense(10, activation="softmax")(x)
    elif net == "transformer":
        e = L.Dense(64)(L.Reshape((28, 28))(i))
        x = L.LayerNormalization()(L.Add()([e, L.MultiHeadAttention(num_heads=4, key_dim=16)(e, e)]))
        f = L.Dense(64)(L.Dense(128, activation="relu")(x))
        x = L.LayerNormalization()(L.Add()([x, f]))
        x = L.Dense(10, activation="softmax")(L.Flatten()(x))
    elif net in ("lstm", "gru"):
        rnn = L.LSTM(128) if net == "lstm" else L.GRU(128)
        x = L.Dense(10, activation="softmax")(rnn(L.Reshape((28, 28))(i)))
    else:
        raise ValueError(net)
    return keras.Model(i, x)


# ----------------------------------------------------------------------------------------------
# Workers (each runs in its own process)
# ----------------------------------------------------------------------------------------------

def timed_median(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def steps_for(net, args):
    if args.train_steps:
        return args.train_steps
    return {"seed000": 30, "seed002": 12, "seed001": 300, "transformer": 40, "lstm": 30, "gru": 30}[net]


def worker_torch(net, args):
    import numpy as np
    import torch
    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    model = torch_model(net)
    flops = torch_forward_flops(model)
    steps = steps_for(net, args)
    rng = np.random.default_rng(0)
    xs = torch.tensor(rng.uniform(0, 1, (steps, BATCH, 1, 28, 28)).astype(np.float32))
    ys = torch.tensor(rng.integers(0, 10, (steps, BATCH)))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()

    def run(k):
        model.train()
        for s in range(k):
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(xs[s]), ys[s])
            loss.backward()
            opt.step()

    run(min(3, steps))
    med, _ = timed_median(lambda: run(steps), args.repeats)
    out = dict(framework=f"PyTorch {torch.__version__}", forward_flops=flops,
               train_images_per_s=steps * BATCH / med)
    if hasattr(torch.backends.cpu, "get_cpu_capability"):
        out["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    # eager inference (reference only)
    model.eval()
    xb = torch.tensor(rng.uniform(0, 1, (256, 1, 28, 28)).astype(np.float32))
    with torch.inference_mode():
        model(xb)
        med_i, _ = timed_median(lambda: model(xb), max(args.repeats, 5))
    out["infer_images_per_s_b256"] = 256 / med_i
    return out


def worker_keras(net, args):
    import numpy as np
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    keras.utils.set_random_seed(0)
    model = keras_model(net)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    steps = steps_for(net, args)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (steps * BATCH, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, steps * BATCH)
    model.fit(x[:3 * BATCH], y[:3 * BATCH], batch_size=BATCH, epochs=1, verbose=0)   # trace + warm-up
    med, _ = timed_median(lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False),
                          args.repeats)
    out = dict(framework=f"Keras {keras.__version__} / TF {tf.__version__}",
               train_images_per_s=steps * BATCH / med)
    xb = rng.uniform(0, 1, (256, 28, 28, 1)).astype(np.float32)
    infer = tf.function(lambda t: model(t, training=False))
    infer(xb)
    med_i, _ = timed_median(lambda: infer(xb).numpy(), max(args.repeats, 5))
    out["infer_images_per_s_b256"] = 256 / med_i
    return out


def worker_onnx(net, args):
    import numpy as np
    import torch
    import onnxruntime as ort
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    model = torch_model(net).eval()
    path = os.path.join(tempfile.mkdtemp(prefix="modelc-peers-"), f"{net}.onnx")
    dummy = torch.zeros(1, 1, 28, 28)
    try:
        torch.onnx.export(model, (dummy,), path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)
    except Exception:  # noqa: BLE001 -- older/newer exporters: fall back to the dynamo exporter
        torch.onnx.export(model, (dummy,), path, input_names=["x"], output_names=["y"],
                          dynamic_shapes=({0: torch.export.Dim("n", min=1, max=4096)},), dynamo=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    import shutil
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    rng = np.random.default_rng(0)
    xb = rng.uniform(0, 1, (256, 1, 28, 28)).astype(np.float32)
    ref = model(torch.tensor(xb)).detach().numpy()
    got = sess.run(None, {"x": xb})[0]
    err = float(np.max(np.abs(ref - got)) / max(np.max(np.abs(ref)), 1e-12))
    for _ in range(3):
        sess.run(None, {"x": xb})
    reps = max(args.repeats, 5)
    inner = {"seed000": 8, "seed002": 3, "seed001": 200, "transformer": 20, "lstm": 10, "gru": 10}[net]

    def b256():
        for _ in range(inner):
            sess.run(None, {"x": xb})
    med, _ = timed_median(b256, reps)
    x1 = xb[:1].copy()
    iters = args.latency_iters
    for _ in range(min(100, iters)):
        sess.run(None, {"x": x1})
    lat = []
    for _ in range(iters):
        t0 = time.perf_counter()
        sess.run(None, {"x": x1})
        lat.append((time.perf_counter() - t0) * 1e3)
    lat.sort()
    return dict(framework=f"ONNX Runtime {ort.__version__}", infer_images_per_s_b256=256 * inner / med,
                latency_ms_b1_median=statistics.median(lat),
                latency_ms_b1_p99=lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))],
                onnx_vs_torch_max_rel_err=err)


WORKERS = {"torch": worker_torch, "keras": worker_keras, "onnx": worker_onnx}


# ----------------------------------------------------------------------------------------------
# --cap-isa avx2: the peers' kernels as on an AVX2-only CPU
# ----------------------------------------------------------------------------------------------

CAP_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
           "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512F,-AVX512CD,-AVX512BW,-AVX512DQ,-AVX512VL,-AVX512ER,-AVX512PF"}


def build_cpuid_cap():
    """Compiles cpuid_cap.c into the peers' cache (temp file, then rename) and returns its path."""
    with open("/proc/cpuinfo") as fh:
        flags = next((ln for ln in fh if ln.startswith("flags")), "")
    if " cpuid_fault" not in flags:
        raise SystemExit("peer_bench: --cap-isa needs CPUID faulting, and /proc/cpuinfo has no cpuid_fault flag")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpuid_cap.c")
    out_dir = os.path.join(os.path.expanduser("~"), ".cache", "modelc-peers")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "cpuid_cap.so")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    tmp = f"{out}.tmp-{os.getpid()}"
    cc = os.environ.get("CC", "cc")
    try:
        p = subprocess.run([cc, "-O2", "-shared", "-fPIC", src, "-o", tmp], capture_output=True, text=True)
    except OSError as e:
        raise SystemExit(f"peer_bench: --cap-isa needs a C compiler to build {src}: cannot run {cc}: {e.strerror}")
    if p.returncode != 0:
        raise SystemExit(f"{src}: error: cc failed: {p.stderr.strip()[-500:]}")
    os.replace(tmp, out)
    return out


def cap_proof():
    """In a worker: the CPUID instructions the preloaded shim trapped, or None without --cap-isa."""
    path = os.environ.get("MODELC_CPUID_CAP")
    if not path:
        return None
    import ctypes
    fn = ctypes.CDLL(path).cpuid_cap_trapped
    fn.restype = ctypes.c_ulong
    return fn()


def check_capped(net, fw, result):
    """With --cap-isa: a worker that failed or did not run under the shim would compare different
    instruction sets (or nothing), so it stops the run."""
    if "error" in result:
        raise SystemExit(f"peer_bench: --cap-isa avx2: the {fw} worker for {net} failed: {result['error']}")
    if not result.get("cpuid_trapped"):
        raise SystemExit(f"peer_bench: --cap-isa avx2, but the {fw} worker for {net} ran without the CPUID shim")


def check_kernels(obj, source):
    """With --cap-isa: a modelc result (bench --json) must come from AVX2 kernels."""
    isa = obj.get("kernels")
    if isa is None:
        raise SystemExit(f"{source}: error: --cap-isa avx2 needs the key kernels, which `bench --json` of an older "
                         "binary lacks; rebuild it with `modelc compile MODEL --isa avx2`")
    if isa != "avx2":
        raise SystemExit(f"{source}: error: --cap-isa avx2, but bench --json says kernels {isa!r}: "
                         "build it with `modelc compile MODEL --isa avx2`")


# ----------------------------------------------------------------------------------------------
# modelc results
# ----------------------------------------------------------------------------------------------

MODELC_KEYS = ("train_images_per_s", "infer_images_per_s_b256", "latency_ms_b1_median", "latency_ms_b1_p99")


def net_key(name):
    if name in NETS:
        return name
    if name in ALIASES:
        return ALIASES[name]
    for k, v in NETS.items():
        if name.startswith(k) or v["model"].startswith(name):
            return k
    raise SystemExit(f"peer_bench: unknown network name {name!r} (expected one of "
                     f"{', '.join(list(NETS) + list(ALIASES))})")


def parse_json_objects(text, source):
    text = text.strip()
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        pass
    objs = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line.startswith("{"):
            try:
                objs.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"{source}:{n}: error: invalid JSON: {e.msg}")
    if not objs:
        raise SystemExit(f"{source}: error: no JSON object found")
    return objs


def check_modelc_obj(obj, source, keys=MODELC_KEYS):
    if not isinstance(obj, dict):
        raise SystemExit(f"{source}: error: expected a JSON object, found {type(obj).__name__}")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise SystemExit(f"{source}: error: missing key(s) {', '.join(missing)}")
    for k in keys:
        if not isinstance(obj[k], (int, float)):
            raise SystemExit(f"{source}: error: key {k} should be a number, found {obj[k]!r}")
    return obj


def load_modelc(args):
    res = {}
    for spec in args.modelc_json:
        net, _, path = spec.partition("=") if "=" in spec else (None, "", spec)
        try:
            with open(path) as fh:
                text = fh.read()
        except OSError as e:
            raise SystemExit(f"{path}: error: cannot read: {e.strerror}")
        objs = parse_json_objects(text, path)
        if net:
            res[net_key(net)] = check_modelc_obj(objs[-1], path)
            continue
        for obj in objs:
            if isinstance(obj, list):
                objs.extend(obj)
                continue
            if not isinstance(obj, dict):
                raise SystemExit(f"{path}: error: expected JSON objects")
            name = obj.get("model") or obj.get("name")
            if name:
                res[net_key(name)] = check_modelc_obj(obj, path)
            else:
                for k, v in obj.items():
                    res[net_key(k)] = check_modelc_obj(v, f"{path} [{k}]")
    return res


def modelc_binaries(args):
    """--modelc-bench NET=BIN specs as {net: binary}."""
    bins = {}
    for spec in args.modelc_bench:
        net, sep, binary = spec.partition("=")
        if not sep:
            raise SystemExit(f"peer_bench: --modelc-bench expects NET=BINARY, got {spec!r}")
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary}: error: not an executable file (from --modelc-bench {spec})")
        bins[net_key(net)] = binary
    return bins


def run_modelc_bench(binary, extra=(), keys=MODELC_KEYS, env=None):
    """`BIN bench --json EXTRA...`: its last JSON object, with numeric `keys` checked."""
    try:
        p = subprocess.run([binary, "bench", "--json", *extra], capture_output=True, text=True, timeout=1800, env=env)
    except OSError as e:
        raise SystemExit(f"{binary}: error: cannot run: {e.strerror}")
    if p.returncode != 0:
        raise SystemExit(f"{binary}: error: bench exited {p.returncode}: {p.stderr.strip()[-500:]}")
    return check_modelc_obj(parse_json_objects(p.stdout, binary)[-1], binary, keys)


def median_of_rounds(runs):
    """Per numeric key, the median over the rounds' results (errors only when every round failed)."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[-1]
    out = dict(ok[-1])
    for k, v in ok[-1].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = [r[k] for r in ok if isinstance(r.get(k), (int, float))]
            out[k] = statistics.median(vals)
    if len(runs) > 1:
        out["rounds"] = len(ok)
    return out


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

def run_worker_subprocess(fw, net, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", fw, "--nets", net,
           "--repeats", str(args.repeats), "--latency-iters", str(args.latency_iters)]
    if args.train_steps:
        cmd += ["--train-steps", str(args.train_steps)]
    env = dict(os.environ)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode != 0 or not lines:
        return dict(error=(p.stderr.strip().splitlines() or ["no output"])[-1][:300])
    return json.loads(lines[-1][len("RESULT "):])


def fmt(v, kind):
    if v is None:
        return "-"
    if kind == "rate":
        return f"{v:,.0f}"
    return f"{v:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nets", default="seed000,seed002,seed001")
    ap.add_argument("--frameworks", default="torch,keras,onnx")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure every (network, framework) this many times, interleaved; report medians")
    ap.add_argument("--train-steps", type=int, default=0, help="training steps per timed run (default per net)")
    ap.add_argument("--latency-iters", type=int, default=2000)
    ap.add_argument("--modelc-json", action="append", default=[])
    ap.add_argument("--modelc-bench", action="append", default=[])
    ap.add_argument("--json-out")
    ap.add_argument("--omp-passive", action="store_true",
                    help="OMP_WAIT_POLICY=PASSIVE: on a machine busy with other work, spinning OpenMP threads "
                         "(PyTorch) slow down many-fold; this makes them sleep instead. Not for the official table.")
    ap.add_argument("--cap-isa", choices=["avx2"],
                    help="run the peers with AVX2 kernels only (CPUID shim); modelc binaries built with --isa avx2")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    set_thread_env()
    if args.omp_passive:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    nets = [net_key(n) for n in args.nets.split(",") if n]
    fws = [f for f in args.frameworks.split(",") if f]
    for f in fws:
        if f not in WORKERS:
            raise SystemExit(f"peer_bench: unknown framework {f!r} (torch, keras, onnx)")

    if args.worker:
        out = WORKERS[args.worker](nets[0], args)
        trapped = cap_proof()
        if trapped is not None:
            out["cpuid_trapped"] = trapped
        print("RESULT " + json.dumps(out), flush=True)
        return

    if args.rounds < 1:
        raise SystemExit(f"peer_bench: --rounds expects a positive integer, got {args.rounds}")
    modelc = load_modelc(args)
    binaries = modelc_binaries(args)
    modelc_env = dict(os.environ)
    if args.cap_isa:
        for net, obj in modelc.items():
            check_kernels(obj, f"--modelc-json ({net})")
        for net, binary in binaries.items():   # before round 1: a quick latency run names the kernels
            check_kernels(run_modelc_bench(binary, ("--only", "latency", "--seconds", "0.1", "--repeats", "1", "--no-peak"),
                                           keys=("latency_ms_b1_median",)), binary)
        shim = build_cpuid_cap()
        preload = " ".join(p for p in (os.environ.get("LD_PRELOAD"), shim) if p)
        os.environ.update(CAP_ENV, LD_PRELOAD=preload, MODELC_CPUID_CAP=shim)
    load = os.getloadavg()
    if load[0] > 0.5:
        print(f"WARNING: 1-minute load average is {load[0]:.2f}: other processes compete for the 2 cores, and "
              "spinning OpenMP/oneDNN threads slow down many-fold under oversubscription; numbers are unreliable.",
              file=sys.stderr, flush=True)
    print(f"# peer benchmark, {THREADS} threads per framework, batch {BATCH} Adam training; "
          f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
          + (" (OMP_WAIT_POLICY=PASSIVE)" if args.omp_passive else "")
          + (" (peers capped to AVX2 by the CPUID shim)" if args.cap_isa else ""), flush=True)
    # Every round measures every (network, framework) once, modelc right next to its peers, so
    # a slow phase of a shared machine hits all of them alike; each figure is the median over rounds.
    runs = {net: {} for net in nets}
    for rnd in range(args.rounds):
        for net in nets:
            for fw in fws:
                t0 = time.time()
                r = run_worker_subprocess(fw, net, args)
                if args.cap_isa:
                    check_capped(net, fw, r)
                runs[net].setdefault(fw, []).append(r)
                print(f"  round {rnd + 1} {net} {fw}: {json.dumps(r)} ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
            if net in binaries:
                t0 = time.time()
                r = run_modelc_bench(binaries[net], env=modelc_env)
                if args.cap_isa:
                    check_kernels(r, binaries[net])
                runs[net].setdefault("modelc", []).append(r)
                print(f"  round {rnd + 1} {net} modelc: {json.dumps({k: r[k] for k in MODELC_KEYS})} ({time.time() - t0:.0f}s)",
                      file=sys.stderr, flush=True)
    results = {net: {fw: median_of_rounds(rs) for fw, rs in runs[net].items()} for net in nets}
    for net in nets:
        if net in modelc and net not in binaries:
            results[net]["modelc"] = modelc[net]
    modelc = {net: results[net]["modelc"] for net in nets if "modelc" in results[net]}
    if args.rounds > 1:
        print(f"# each figure: median over {args.rounds} interleaved rounds", flush=True)

    # table
    print()
    print("| network | PyTorch train img/s | Keras train img/s | ONNX RT b256 img/s | ONNX RT b1 median / p99 ms "
          "| modelc train img/s | modelc b256 img/s | modelc b1 median / p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for net in nets:
        r = results[net]
        t = r.get("torch", {}); k = r.get("keras", {}); o = r.get("onnx", {}); m = r.get("modelc", {})
        flops = t.get("forward_flops")
        title = NETS[net]["title"] + (f" ({flops / 1e6:.1f} MFLOP fwd)" if flops else "")
        print(f"| {title} | {fmt(t.get('train_images_per_s'), 'rate')} | {fmt(k.get('train_images_per_s'), 'rate')} "
              f"| {fmt(o.get('infer_images_per_s_b256'), 'rate')} "
              f"| {fmt(o.get('latency_ms_b1_median'), 'ms')} / {fmt(o.get('latency_ms_b1_p99'), 'ms')} "
              f"| {fmt(m.get('train_images_per_s'), 'rate')} | {fmt(m.get('infer_images_per_s_b256'), 'rate')} "
              f"| {fmt(m.get('latency_ms_b1_median'), 'ms')} / {fmt(m.get('latency_ms_b1_p99'), 'ms')} |")
    print()
    for net in nets:
        r = results[net]
        t, k, o = r.get("torch", {}), r.get("keras", {}), r.get("onnx", {})
        flops = t.get("forward_flops")
        extra = []
        if flops and t.get("train_images_per_s"):
            extra.append(f"PyTorch train ≈ {3 * flops * t['train_images_per_s'] / 1e9:.0f} GFLOP/s (3x forward)")
        if flops and o.get("infer_images_per_s_b256"):
            extra.append(f"ONNX RT b256 ≈ {flops * o['infer_images_per_s_b256'] / 1e9:.0f} GFLOP/s")
        if t.get("infer_images_per_s_b256"):
            extra.append(f"PyTorch eager b256 {t['infer_images_per_s_b256']:,.0f} img/s")
        if k.get("infer_images_per_s_b256"):
            extra.append(f"Keras b256 {k['infer_images_per_s_b256']:,.0f} img/s")
        for fw in ("torch", "keras", "onnx"):
            if "error" in r.get(fw, {}):
                extra.append(f"{fw} FAILED: {r[fw]['error']}")
        if extra:
            print(f"{NETS[net]['title']}: " + "; ".join(extra))
    if modelc:
        print()
        print("Ratios (modelc / peer; for latency peer / modelc, so > 1 means modelc is better):")
        for net in nets:
            r = results[net]
            m = r.get("modelc")
            if not m:
                continue
            t, k, o = r.get("torch", {}), r.get("keras", {}), r.get("onnx", {})
            parts = []
            if t.get("train_images_per_s"):
                parts.append(f"train vs PyTorch {m['train_images_per_s'] / t['train_images_per_s']:.2f}x (target >= 1.5)")
            if k.get("train_images_per_s"):
                parts.append(f"train vs Keras {m['train_images_per_s'] / k['train_images_per_s']:.2f}x")
            if o.get("infer_images_per_s_b256"):
                parts.append(f"b256 vs ONNX RT {m['infer_images_per_s_b256'] / o['infer_images_per_s_b256']:.2f}x (target >= 1)")
            if o.get("latency_ms_b1_median"):
                tgt = 2 if net == "seed001" else 1
                parts.append(f"b1 latency ONNX RT/modelc {o['latency_ms_b1_median'] / m['latency_ms_b1_median']:.2f}x "
                             f"(target >= {tgt})")
            print(f"  {NETS[net]['title']}: " + "; ".join(parts))
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json_out:
        with open(args.json_out + ".tmp", "w") as fh:
            json.dump(results, fh, indent=2)
        os.replace(args.json_out + ".tmp", args.json_out)


if __name__ == "__main__":
    main()
