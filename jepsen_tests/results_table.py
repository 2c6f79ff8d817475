#!/usr/bin/env python3
"""Prints the README's results table from kv-jepsen run directories.

usage: results_table.py RUN_DIR...   (each holding config.json and results.json)
Rows group runs by (workload, nemesis, nodes, plant): runs, ops, faults, ok/info, verdicts.
"""
import json
import sys
from collections import OrderedDict


def main(dirs):
    rows = OrderedDict()
    for d in dirs:
        try:
            with open(f"{d}/results.json") as f:
                results = json.load(f)
        except (OSError, ValueError) as e:
            print(f"skipping {d}: {e}", file=sys.stderr)
            continue
        config = results.get("config") or {}
        plants = ([config["plant"]] if config.get("plant") else []) + \
            [f"kvd {b}" for b in config.get("plant_kvd_bugs") or []]
        key = (config.get("workload"), config.get("nemesis"), config.get("nodes"),
               ", ".join(plants))
        row = rows.setdefault(key, {"runs": 0, "ops": 0, "ok": 0, "info": 0, "faults": 0,
                                    "seconds": 0.0, "verdicts": {}})
        summary = results.get("summary") or {}
        row["runs"] += 1
        row["ops"] += summary.get("ops", 0)
        row["ok"] += summary.get("ok", 0)
        row["info"] += summary.get("info", 0)
        row["faults"] += config.get("faults_injected", 0)
        row["seconds"] += config.get("time_limit_s", 0)
        verdict = {"true": "valid", "false": "invalid"}.get(str(results.get("valid")).lower(), "unknown")
        row["verdicts"][verdict] = row["verdicts"].get(verdict, 0) + 1
    print("| workload | nemesis | nodes | planted bug | runs | faulted s | faults | ops | ok | info | outcome |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (workload, nemesis, nodes, plant), r in rows.items():
        outcome = ", ".join(f"{n}× {v}" for v, n in sorted(r["verdicts"].items()))
        print(f"| {workload} | {nemesis} | {nodes} | {plant or '—'} | {r['runs']} | "
              f"{r['seconds']:.0f} | {r['faults']} | {r['ops']} | {r['ok']} | {r['info']} | {outcome} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1:])
