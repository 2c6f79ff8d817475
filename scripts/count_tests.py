#!/usr/bin/env python3
"""Prints 'tests: N passed, N failed' from one or more meson testlog.json files."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            result = json.loads(line)["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
suffix = f", {skipped} skipped" if skipped else ""
print(f"tests: {passed} passed, {failed} failed{suffix}")
sys.exit(1 if failed else 0)
