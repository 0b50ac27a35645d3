#!/usr/bin/env python3
"""Time to accuracy: how long the seed 002 MNIST CNN trains until it reaches 99% MNIST test accuracy,
PyTorch against the modelc-compiled binary with the same recipe, 2 threads each.

Not run by CI. Set up once with `bash Tests/Peers/setup.sh`, then:

    ~/.cache/modelc-peers/venv/bin/python Tests/Peers/time_to_accuracy.py --data DIR \
        [--modelc PATH/TO/seed002_binary] [--frameworks torch,modelc] [--target 0.99] \
        [--max-epochs 10] [--seed 1 | --seeds 1,2,3,4,5] [--full] [--recal] [--limit N] [--json-out results.json]

DIR holds the official MNIST gzip IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz). --frameworks defaults to torch,modelc with
--modelc and to torch without it.

Recipe (the same on both sides): pixels / 255 (the network's own first layer standardizes with
mean 0.1307, std 0.3081, as the seed 002 Lambda does), all 60,000 training images (no validation
split), reshuffled every epoch, Adam lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7 (Keras defaults),
batch 128 with the last partial batch kept, constant learning rate, no augmentation, softmax
cross-entropy, Keras-style BatchNorm (eps 1e-3, moving averages with Keras momentum 0.99), Keras
initialization (Glorot-uniform kernels, zero biases), Dropout 0.25 except 0.5 after dense_1 and
dense_2 (models/seed002_mnist_cnn.md). After every epoch the full 10,000-image test set is evaluated
(eval mode, batch 1000). The run stops at the first epoch whose test accuracy is >= --target, or
after --max-epochs.

Time counted: the cumulative wall time of the training epochs only (shuffling, batch gathering,
forward, backward, optimizer steps); test evaluation and loading the data before the first epoch
are excluded. For modelc that is the `seconds` key of each epoch line of
`BIN train ... --test-each-epoch --json`, which the script reads as it streams; once the target is
reached it sends SIGINT (modelc saves its checkpoint in a temporary directory and exits).

Left as they are (small): PyTorch's Adam adds eps to the bias-corrected sqrt(v) (Keras/modelc to
the uncorrected one) and its BatchNorm moving variance uses the unbiased batch variance (Keras and
modelc the biased one). The random streams (initialization, shuffling, Dropout) differ between the
frameworks, so epochs-to-target can differ by one from run to run: run it more than once.

`--combine a.json b.json ...` prints that distribution over the seeds of several --json-out files.

--limit N trains on the first N training images only (quick tests; the result is not comparable).

Several seeds (issue 20's comparison): `--seeds 1,2,3,4,5 --full --max-epochs 4` trains every
framework once per seed for all 4 epochs (--full: no stop at the target, so every run gives the
whole curve) and prints, per epoch, the mean, spread and range of the test accuracy and loss over
the seeds, and the median number of epochs to the target.
"""
import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_bench  # noqa: E402  (seed 002 network in PyTorch, thread settings)

THREADS = peer_bench.THREADS
BATCH = 128
TEST_BATCH = 1000
FILES = dict(train_images="train-images-idx3-ubyte.gz", train_labels="train-labels-idx1-ubyte.gz",
             test_images="t10k-images-idx3-ubyte.gz", test_labels="t10k-labels-idx1-ubyte.gz")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# MNIST (gzip IDX)
# ----------------------------------------------------------------------------------------------

def idx_path(data, key):
    path = os.path.join(data, FILES[key])
    if not os.path.exists(path):
        raise SystemExit(f"{path}: error: missing (--data needs the four MNIST gzip IDX files)")
    return path


def read_idx_header(fh, path):
    head = fh.read(4)
    if len(head) != 4 or head[0] != 0 or head[1] != 0 or head[2] != 0x08:
        raise SystemExit(f"{path}: error: not an unsigned-byte IDX file")
    ndim = head[3]
    dims = [int.from_bytes(fh.read(4), "big") for _ in range(ndim)]
    return dims


def read_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as fh:
        dims = read_idx_header(fh, path)
        data = np.frombuffer(fh.read(), dtype=np.uint8)
    count = 1
    for d in dims:
        count *= d
    if data.size != count:
        raise SystemExit(f"{path}: error: expected {count} bytes of data for shape {dims}, found {data.size}")
    return data.reshape(dims)


def idx_count(path):
    with gzip.open(path, "rb") as fh:
        return read_idx_header(fh, path)[0]


def load_mnist(data, limit):
    """Images as float32 N x 1 x 28 x 28 in [0, 1], labels as int64."""
    import numpy as np
    out = {}
    for part in ("train", "test"):
        x = read_idx(idx_path(data, f"{part}_images"))
        y = read_idx(idx_path(data, f"{part}_labels"))
        if len(x) != len(y):
            raise SystemExit(f"{data}: error: {len(x)} {part} images but {len(y)} labels")
        if part == "train" and limit:
            x, y = x[:limit], y[:limit]
        out[part] = ((x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28), y.astype(np.int64))
    return out


# ----------------------------------------------------------------------------------------------
# PyTorch
# ----------------------------------------------------------------------------------------------

def seed002_model():
    """peer_bench's seed 002 network with the seed document's Dropout rates and Keras initialization."""
    import torch
    from torch import nn
    model = peer_bench.torch_model("seed002")
    # the model file's rates: 0.25, except 0.5 for dropout_6 and dropout_7 (after dense_1, dense_2)
    drops = [m.p for m in model if isinstance(m, nn.Dropout)]
    assert drops == [0.25] * 5 + [0.5] * 2, f"seed002: unexpected Dropout rates {drops}"
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) or isinstance(m, nn.BatchNorm1d):
            assert m.eps == 1e-3 and abs(m.momentum - 0.01) < 1e-12, "seed002: expected Keras-style BatchNorm"
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)     # = Keras glorot_uniform (fan in/out include the kernel area)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    with torch.no_grad():
        assert model.eval()(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    return model


def torch_evaluate(model, x, y, lossf):
    import torch
    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.inference_mode():
        for lo in range(0, len(x), TEST_BATCH):
            out = model(x[lo:lo + TEST_BATCH])
            yb = y[lo:lo + TEST_BATCH]
            loss_sum += float(lossf(out, yb)) * len(yb)
            correct += int((out.argmax(1) == yb).sum())
    return loss_sum / len(x), correct / len(x)


def run_torch(args):
    """Trains in this process; returns dict(framework, epochs=[...], error=None)."""
    import torch
    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    data = load_mnist(args.data, args.limit)
    xtr, ytr = (torch.from_numpy(a) for a in data["train"])
    xte, yte = (torch.from_numpy(a) for a in data["test"])
    torch.manual_seed(args.seed)
    model = seed002_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    lossf = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    n = len(xtr)
    log(f"torch: PyTorch {torch.__version__}, {n} training images, {len(xte)} test images, {THREADS} threads")
    epochs, total = [], 0.0
    for epoch in range(1, args.max_epochs + 1):
        model.train()
        loss_sum, correct = 0.0, 0
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=gen)
        for lo in range(0, n, BATCH):
            idx = order[lo:lo + BATCH]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = lossf(out, yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(yb)
            correct += int((out.argmax(1) == yb).sum())
        seconds = time.perf_counter() - t0
        total += seconds
        test_loss, test_acc = torch_evaluate(model, xte, yte, lossf)
        e = dict(epoch=epoch, loss=loss_sum / n, accuracy=correct / n, seconds=seconds, cumulative_seconds=total,
                 images=n, images_per_s=n / seconds, test_loss=test_loss, test_accuracy=test_acc)
        epochs.append(e)
        log(epoch_line("torch", e))
        if test_acc >= args.target and not args.full:
            break
    if args.recal:
        import bn_recalibration as bnr
        add_recal(epochs[-1], "torch", bnr.evaluate(bnr.recalibrated(model, xtr), xte, yte))
    return dict(framework=f"PyTorch {torch.__version__}", epochs=epochs, error=None)


def add_recal(e, name, acc_loss):
    """Records the final weights' test accuracy and loss with recalibrated BatchNorm statistics."""
    e["test_accuracy_recal"], e["test_loss_recal"] = acc_loss
    log(f"  {name} epoch {e['epoch']} with BatchNorm statistics recomputed over the training set: "
        f"test_loss {acc_loss[1]:.4f} test_accuracy {acc_loss[0]:.4f} (moving statistics: {e['test_accuracy']:.4f})")


def modelc_recal(args, result, checkpoint, tmp):
    """--recal for modelc: exports the final checkpoint and recalibrates it in the PyTorch network."""
    import torch
    import bn_recalibration as bnr
    npz = os.path.join(tmp, "final.npz")
    r = subprocess.run([args.modelc, "export", "--checkpoint", checkpoint, "--weights", npz], capture_output=True, text=True)
    if r.returncode != 0:
        log(f"modelc: --recal: export failed: {r.stderr.strip()[-500:]}")
        return
    data = load_mnist(args.data, args.limit)
    xtr, (xte, yte) = torch.from_numpy(data["train"][0]), (torch.from_numpy(a) for a in data["test"])
    model = peer_bench.torch_model("seed002")
    bnr.load_modelc_npz(model, npz)
    moving = bnr.evaluate(model, xte, yte)
    log(f"  modelc's final weights in the PyTorch network, moving statistics: test_accuracy {moving[0]:.4f} "
        f"(modelc's own evaluation: {result['epochs'][-1]['test_accuracy']:.4f})")
    add_recal(result["epochs"][-1], "modelc", bnr.evaluate(bnr.recalibrated(model, xtr), xte, yte))


# ----------------------------------------------------------------------------------------------
# modelc
# ----------------------------------------------------------------------------------------------

def run_modelc(args):
    """Runs `BIN train ... --test-each-epoch --json`, reading the epoch lines as they stream."""
    n = idx_count(idx_path(args.data, "train_labels"))
    if args.limit:
        n = min(n, args.limit)
    result = dict(framework=f"modelc ({os.path.basename(args.modelc)})", epochs=[], error=None)
    with tempfile.TemporaryDirectory(prefix="modelc-tta-") as tmp:
        cmd = [args.modelc, "train", "--data", args.data, "--dataset", "mnist", "--val-split", "0",
               "--schedule", "constant", "--augment-shift", "0", "--augment-rotate", "0", "--lr", "0.001",
               "--batch", str(BATCH), "--epochs", str(args.max_epochs), "--test-each-epoch", "--json",
               "--checkpoint", os.path.join(tmp, "tta.ckpt"), "--threads", str(THREADS), "--seed", str(args.seed)]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        result["command"] = cmd
        log("modelc: " + " ".join(cmd))
        err_path = os.path.join(tmp, "stderr.txt")
        with open(err_path, "w") as err:
            try:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1)
            except OSError as e:
                result["error"] = f"cannot run {args.modelc}: {e.strerror}"
                return result
            interrupted, total = False, 0.0
            for line in proc.stdout:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "epoch" not in obj:
                    continue
                if obj.get("test_accuracy") is None or obj.get("seconds") is None:
                    result["error"] = ("epoch line without test_accuracy/seconds (does the binary support "
                                       f"--test-each-epoch?): {line[:300]}")
                    proc.send_signal(signal.SIGINT)
                    interrupted = True
                    break
                total += obj["seconds"]
                e = dict(epoch=obj["epoch"], loss=obj.get("loss"), accuracy=obj.get("accuracy"),
                         seconds=obj["seconds"], cumulative_seconds=total, images=n,
                         images_per_s=n / max(obj["seconds"], 1e-9),
                         test_loss=obj.get("test_loss"), test_accuracy=obj["test_accuracy"])
                result["epochs"].append(e)
                log(epoch_line("modelc", e))
                if e["test_accuracy"] >= args.target and not args.full:
                    proc.send_signal(signal.SIGINT)     # stops after the current step, saves, exits
                    interrupted = True
                    break
            try:
                proc.communicate(timeout=600)           # the rest of stdout, then the exit
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
            code = proc.returncode
        with open(err_path) as fh:
            stderr = fh.read().strip()
        if not interrupted and code != 0 and result["error"] is None:
            result["error"] = f"{args.modelc} exited {code}: " + (stderr[-1000:] or "no message")
        elif not result["epochs"] and result["error"] is None:
            result["error"] = f"{args.modelc} printed no epoch line: " + (stderr[-1000:] or "no message")
        elif args.recal and result["error"] is None:
            modelc_recal(args, result, os.path.join(tmp, "tta.ckpt"), tmp)
    return result


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

def epoch_line(name, e):
    return (f"  {name} epoch {e['epoch']}: loss {e['loss']:.4f} accuracy {e['accuracy']:.4f}  "
            f"test_loss {e['test_loss']:.4f} test_accuracy {e['test_accuracy']:.4f}  "
            f"{e['seconds']:.1f}s ({e['cumulative_seconds']:.1f}s in all)  {e['images_per_s']:,.0f} img/s")


def summarize(result, target):
    """Epochs, time and accuracy at the first epoch that reached the target (else at the last one)."""
    eps = result["epochs"]
    if not eps:
        return None
    hit = next((e for e in eps if e["test_accuracy"] >= target), None)
    last = hit or eps[-1]
    images = sum(e["images"] for e in eps[:last["epoch"]])
    return dict(reached=hit is not None, epochs=last["epoch"], seconds=last["cumulative_seconds"],
                test_accuracy=last["test_accuracy"], images_per_s=images / max(last["cumulative_seconds"], 1e-9))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with the four MNIST gzip IDX files")
    ap.add_argument("--modelc", help="the modelc-compiled seed 002 binary")
    ap.add_argument("--frameworks", help="torch,modelc (default: both with --modelc, else torch)")
    ap.add_argument("--target", type=float, default=0.99, help="test accuracy to reach (default 0.99)")
    ap.add_argument("--max-epochs", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0, help="first N training images only (quick tests, not comparable)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", help="comma-separated seeds: one run per seed and framework (overrides --seed)")
    ap.add_argument("--full", action="store_true", help="train all --max-epochs even after reaching the target")
    ap.add_argument("--threads", type=int, default=peer_bench.THREADS,
                    help=f"threads for each framework (default {peer_bench.THREADS}; 1 on a busy machine: epochs are "
                         "comparable, times are not)")
    ap.add_argument("--recal", action="store_true",
                    help="after the last epoch, also evaluate each framework's final weights with every BatchNorm's "
                         "statistics recomputed over the training set (Tests/Peers/bn_recalibration.py)")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    global THREADS
    THREADS = peer_bench.THREADS = args.threads
    fws = [f for f in (args.frameworks or ("torch,modelc" if args.modelc else "torch")).split(",") if f]
    for f in fws:
        if f not in ("torch", "modelc"):
            raise SystemExit(f"time_to_accuracy: unknown framework {f!r} (torch, modelc)")
    if "modelc" in fws and not args.modelc:
        raise SystemExit("time_to_accuracy: --frameworks modelc needs --modelc BIN")
    if args.max_epochs < 1:
        raise SystemExit("time_to_accuracy: --max-epochs must be at least 1")
    try:
        seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    except ValueError:
        raise SystemExit(f"time_to_accuracy: --seeds expects integers separated by commas, found {args.seeds!r}")
    for key in FILES:
        idx_path(args.data, key)
    return args, fws, seeds


def run_seed(args, fws, seed):
    """One run per framework with this seed; returns {framework: result}."""
    args.seed = seed
    results = {}
    for fw in fws:
        t0 = time.time()
        r = run_torch(args) if fw == "torch" else run_modelc(args)
        r["summary"] = summarize(r, args.target)
        r["seed"] = seed
        results[fw] = r
        if r["error"]:
            log(f"{fw}: ERROR: {r['error']}")
            if fw == "modelc":
                log("modelc: continuing without the modelc result")
        log(f"{fw} seed {seed}: done in {time.time() - t0:.0f}s")
    return results


def print_seed_table(args, fws, results):
    print("| framework | epochs to target | train wall time to target (s) | test accuracy at that epoch | mean img/s |")
    print("|---|---|---|---|---|")
    for fw in fws:
        r, s = results[fw], results[fw]["summary"]
        if s is None:
            print(f"| {r['framework']} | failed | - | - | - |")
            continue
        epochs = str(s["epochs"]) if s["reached"] else f"not reached in {s['epochs']}"
        print(f"| {r['framework']} | {epochs} | {s['seconds']:.1f} | {s['test_accuracy']:.4f} | {s['images_per_s']:,.0f} |")
    t, m = (results.get(fw, {}).get("summary") for fw in ("torch", "modelc"))
    if t and m and t["reached"] and m["reached"]:
        print(f"\nPyTorch time / modelc time: {t['seconds'] / m['seconds']:.2f}x (> 1 means modelc reaches the target sooner)")
    elif t and m:
        print("\nPyTorch time / modelc time: - (not both reached the target)")
    for fw in fws:
        if results[fw]["error"]:
            print(f"{fw} FAILED: {results[fw]['error']}")


def stats(values):
    n = len(values)
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return mean, sd, min(values), max(values)


def print_seed_distribution(args, fws, by_seed):
    """Per framework and epoch: test accuracy and loss over the seeds; the median epochs to target."""
    print(f"\n## {len(by_seed)} seeds ({', '.join(str(s) for s in by_seed)})\n")
    print("| framework | epoch | runs | test accuracy mean ± sd (min-max) | test loss mean ± sd (min-max) |")
    print("|---|---|---|---|---|")
    for fw in fws:
        runs = [by_seed[s][fw] for s in by_seed if not by_seed[s][fw]["error"]]
        for epoch in range(1, args.max_epochs + 1):
            eps = [e for r in runs for e in r["epochs"] if e["epoch"] == epoch]
            if not eps:
                continue
            for suffix, label in (("", ""), ("_recal", " recalibrated")):
                eps_s = [e for e in eps if "test_accuracy" + suffix in e]
                if not eps_s:
                    continue
                a, l = stats([e["test_accuracy" + suffix] for e in eps_s]), stats([e["test_loss" + suffix] for e in eps_s])
                print(f"| {fw} | {epoch}{label} | {len(eps_s)} | {a[0]:.2%} ± {a[1]:.2%} ({a[2]:.2%}-{a[3]:.2%}) | "
                      f"{l[0]:.4f} ± {l[1]:.4f} ({l[2]:.4f}-{l[3]:.4f}) |")
    print(f"\n| framework | epochs to {args.target:.2%} per seed | median over the seeds | median train seconds to target |")
    print("|---|---|---|---|")
    for fw in fws:
        sums = [by_seed[s][fw]["summary"] for s in by_seed]
        # A seed that did not reach the target counts as more epochs (and seconds) than any that did.
        epochs = sorted(x["epochs"] if x and x["reached"] else float("inf") for x in sums)
        secs = sorted(x["seconds"] if x and x["reached"] else float("inf") for x in sums)
        cells = [str(x["epochs"]) if x and x["reached"] else f">{args.max_epochs}" for x in sums]
        med_e, med_s = median(epochs), median(secs)
        e_text = f">{args.max_epochs}" if med_e == float("inf") else f"{med_e:g}"
        s_text = "-" if med_s == float("inf") else f"{med_s:.0f}"
        print(f"| {fw} | {', '.join(cells)} | {e_text} | {s_text} |")


def median(v):
    n = len(v)
    if n % 2:
        return v[n // 2]
    a, b = v[n // 2 - 1], v[n // 2]
    return a if a == b else (a + b) / 2


def combine(paths):
    """--combine: the distribution over the seeds of several --json-out files (same target and epochs)."""
    by_seed, first = {}, None
    for path in paths:
        with open(path) as fh:
            d = json.load(fh)
        first = first or d
        if (d["target"], d["max_epochs"], d["limit"]) != (first["target"], first["max_epochs"], first["limit"]):
            raise SystemExit(f"time_to_accuracy: {path}: another target, --max-epochs or --limit than {paths[0]}")
        for seed, results in d["results"].items():
            if int(seed) in by_seed:
                raise SystemExit(f"time_to_accuracy: {path}: seed {seed} is in two files")
            by_seed[int(seed)] = results
    fws = [fw for fw in ("torch", "modelc") if all(fw in r for r in by_seed.values())]
    args = argparse.Namespace(target=first["target"], max_epochs=first["max_epochs"])
    print_seed_distribution(args, fws, dict(sorted(by_seed.items())))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--combine":
        return combine(sys.argv[2:])
    args, fws, seeds = parse_args()
    peer_bench.set_thread_env()      # before torch is imported
    if args.limit:
        log(f"WARNING: --limit {args.limit}: training on the first {args.limit} images only; "
            "the result is a quick test, not comparable with the full-data time to accuracy.")
    load = os.getloadavg()
    if load[0] > 0.5:
        log(f"WARNING: 1-minute load average is {load[0]:.2f}: other processes compete for the 2 cores, and "
            "spinning OpenMP/oneDNN threads slow down many-fold under oversubscription; times are unreliable.")
    print(f"# time to {args.target:.2%} MNIST test accuracy, seed 002 CNN, {THREADS} threads, batch {BATCH} Adam, "
          f"at most {args.max_epochs} epochs, seeds {seeds}; load average before: {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}", flush=True)
    by_seed = {}
    for seed in seeds:
        by_seed[seed] = run_seed(args, fws, seed)
        print(f"\n### seed {seed}\n")
        print_seed_table(args, fws, by_seed[seed])
        sys.stdout.flush()
    if len(seeds) > 1:
        print_seed_distribution(args, fws, by_seed)
    if args.limit:
        print(f"\nWARNING: --limit {args.limit}: not comparable with a full-data run.")
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json_out:
        out = dict(target=args.target, max_epochs=args.max_epochs, limit=args.limit, seeds=seeds, full=args.full,
                   threads=THREADS, batch=BATCH, results={str(s): r for s, r in by_seed.items()})
        with open(args.json_out + ".tmp", "w") as fh:
            json.dump(out, fh, indent=2)
        os.replace(args.json_out + ".tmp", args.json_out)


if __name__ == "__main__":
    main()
