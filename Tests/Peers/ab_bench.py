#!/usr/bin/env python3
"""Interleaved A/B comparison of compiled modelc binaries (not run by CI).

    python3 Tests/Peers/ab_bench.py [--runs 16] [--key infer_images_per_s_b256] \
        [--bench-args "--only infer"] BIN_A BIN_B [BIN_C ...]

Runs `BIN bench --json --no-peak --seconds 0.4 --repeats 1 BENCH_ARGS` for every binary, --runs
times, alternating the order each time, and prints the best, median and worst of --key for each.
On a machine whose speed drifts (this VM: up to 2x from minute to minute), short alternating
runs see the same phases, so the medians compare the code rather than the moment.
Needs only the Python standard library.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_bench import run_modelc_bench  # noqa: E402  (standard library only at import time)


def bench(binary, key, extra):
    short = ["--no-peak", "--seconds", "0.4", "--repeats", "1"]
    return run_modelc_bench(binary, short + extra, keys=(key,))[key]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--key", default="infer_images_per_s_b256")
    ap.add_argument("--bench-args", default="", help="extra bench flags, e.g. \"--only infer --threads 1\"")
    args = ap.parse_args()
    if args.runs < 1:
        raise SystemExit(f"ab_bench: --runs expects a positive integer, got {args.runs}")
    extra = args.bench_args.split()
    values = {b: [] for b in args.binaries}
    for i in range(args.runs):
        for b in (args.binaries if i % 2 == 0 else args.binaries[::-1]):
            values[b].append(bench(b, args.key, extra))
    lower_is_better = args.key.startswith("latency")
    for b in args.binaries:
        v = values[b]
        best, worst = (min(v), max(v)) if lower_is_better else (max(v), min(v))
        print(f"{b}: {args.key} best {best:,.4g}  median {statistics.median(v):,.4g}  worst {worst:,.4g}  ({len(v)} runs)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
