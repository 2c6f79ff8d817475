#!/usr/bin/env python3
"""Turns bench/compare.sh's results.jsonl into markdown tables (medians over repetitions).

usage: bench/summarize.py RESULTS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "–"


def load(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    runs = defaultdict(list)
    for r in rows:
        if "workload" in r:
            runs[(r["part"], r["workload"], r["concurrency"], r["system"])].append(r)
    return rows, runs


def stat(runs, key, field):
    rs = runs.get(key, [])
    if field == "tput":
        return median([r["throughput_ops_s"] for r in rs])
    if field == "cpu":
        return median([r["client_cpu_pct"] for r in rs])
    if field == "errors":
        return sum(r["errors"] + r["failed_checks"] for r in rs) if rs else None
    return median([r["latency_us"][field] for r in rs])


def comparison(runs, part, a, b, title):
    keys = sorted({(k[1], k[2]) for k in runs if k[0] == part},
                  key=lambda wc: (ORDER.get(wc[0], 99), wc[1]))
    print(f"### {title}\n")
    print(f"| workload | in flight | {a} ops/s | {b} ops/s | ratio | {a} p50 µs | {b} p50 µs "
          f"| {a} p99 µs | {b} p99 µs | {a} client CPU | {b} client CPU | errors {a}/{b} |")
    print("|" + "---|" * 12)
    for w, c in keys:
        ka, kb = (part, w, c, a), (part, w, c, b)
        ta, tb = stat(runs, ka, "tput"), stat(runs, kb, "tput")
        print(f"| {w} | {c} | {fmt(ta)} | {fmt(tb)} | {ratio(ta, tb)} "
              f"| {fmt(stat(runs, ka, 'p50'))} | {fmt(stat(runs, kb, 'p50'))} "
              f"| {fmt(stat(runs, ka, 'p99'))} | {fmt(stat(runs, kb, 'p99'))} "
              f"| {fmt(stat(runs, ka, 'cpu'))}% | {fmt(stat(runs, kb, 'cpu'))}% "
              f"| {fmt(stat(runs, ka, 'errors'))}/{fmt(stat(runs, kb, 'errors'))} |")
    print()


ORDER = {w: i for i, w in enumerate(
    ["set", "cas", "get", "get-eventual", "list", "enqueue", "mixed"])}


def main():
    rows, runs = load(sys.argv[1])
    base = [r for r in rows if r.get("part") == "baseline"]
    if base:
        b = base[0]
        budget = 1.5 * (b["fdatasync_p50_us"] + b["loopback_rtt_p50_us"])
        print(f"Machine floor: fdatasync p50 {b['fdatasync_p50_us']} µs (p99 "
              f"{b['fdatasync_p99_us']}), loopback TCP round trip p50 {b['loopback_rtt_p50_us']} µs"
              f" → single-writer commit target p50 ≤ {budget:.0f} µs.\n")
    comparison(runs, "cluster", "raftkv", "etcd", "Three nodes: raftkv vs etcd 3.4 (median of reps)")
    comparison(runs, "single", "raftkv-1", "deno-kv",
               "One node: raftkv (single-node cluster, fsync) vs Deno KV local SQLite")
    fo = defaultdict(list)
    for r in rows:
        if r.get("part") == "failover":
            fo[r["system"]].append(r["recovery_ms"])
    if fo:
        print("### Leader kill -9 → next acknowledged write (ms)\n")
        print("| system | median | trials |\n|---|---|---|")
        for s, v in sorted(fo.items()):
            trials = ", ".join("none" if x is None else f"{x:.0f}" for x in v)
            print(f"| {s} | {fmt(median(v))} | {trials} |")
        print()
    st = [r for r in rows if r.get("part") == "stability_terms"]
    if st:
        print("### Full-load write run (64 in flight): leader and term before/after\n")
        print("| system | ops/s | p99 µs | errors | before | after |\n|---|---|---|---|---|---|")
        for r in st:
            k = ("stability", "set", 64, r["system"])
            print(f"| {r['system']} | {fmt(stat(runs, k, 'tput'))} | {fmt(stat(runs, k, 'p99'))} "
                  f"| {fmt(stat(runs, k, 'errors'))} | {r['before']} | {r['after']} |")
        print()


if __name__ == "__main__":
    main()
