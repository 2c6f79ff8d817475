#!/usr/bin/env python3
"""Proves each rule of scripts/tidy.py fires: a tiny tree per rule, tidy must fail naming it."""
import os
import subprocess
import sys
import tempfile

TIDY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tidy.py")


def run_tidy(files):
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "scripts"))
        for rel, text in files.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
        done = subprocess.run([sys.executable, TIDY, "--root", root], capture_output=True,
                              text=True, check=False)
        return done.returncode, done.stdout


def long_function(name, lines):
    return f"int {name}() {{\n" + "  x();\n" * (lines - 2) + "}\n"


CASES = [
    ("a layer includes one above it",
     {"raft/core.cc": '#include "node/node.h"\n'}, 1, 'raft/ must not include "node/node.h"'),
    ("the pure core includes a clock",
     {"kvstate/apply.cc": "#include <chrono>\n"}, 1, "includes <chrono>"),
    ("wal includes sockets", {"wal/log.cc": "#include <sys/socket.h>\n"}, 1, "knows no network"),
    ("cli includes node outside its embedded store",
     {"cli/client.cc": '#include "node/node.h"\n'}, 1, 'cli/ must not include "node/node.h"'),
    ("cli's embedded store may include node",
     {"cli/embedded.cc": '#include "node/node.h"\n'}, 0, "0 problem(s)"),
    ("tests may include a clock in the pure core",
     {"kvstate/apply_test.cc": "#include <chrono>\n"}, 0, "0 problem(s)"),
    ("a new long function", {"base/x.cc": long_function("f", 71)}, 1,
     "function f is 71 lines"),
    ("a function of 70 lines is fine", {"base/x.cc": long_function("f", 70)}, 0,
     "0 problem(s)"),
    ("a listed long function grew",
     {"base/x.cc": long_function("f", 80), "scripts/tidy_long_functions.txt": "base/x.cc f 75\n"},
     1, "grew to 80 lines"),
    ("a listed long function shrank: the ratchet must be lowered",
     {"base/x.cc": long_function("f", 72), "scripts/tidy_long_functions.txt": "base/x.cc f 75\n"},
     1, "shrank to 72 lines"),
    ("a default over a project enum",
     {"base/x.h": "enum class Color { kRed, kBlue };\n",
      "base/x.cc": "int f(Color c) {\n  switch (c) {\n    case Color::kRed:\n      return 1;\n"
                   "    default:\n      return 2;\n  }\n}\n"}, 1, "`default:` in a switch"),
    ("a default over bytes from the wire is fine",
     {"base/x.cc": "int f(char c) {\n  switch (c) {\n    case 'a':\n      return 1;\n"
                   "    default:\n      return 2;\n  }\n}\n"}, 0, "0 problem(s)"),
    ("comments and strings do not count",
     {"raft/core.cc": '// #include "node/node.h"\nconst char* s = "#include <thread>";\n'}, 0,
     "0 problem(s)"),
]


def main():
    failures = 0
    for title, files, want_code, want_text in CASES:
        code, out = run_tidy(files)
        ok = code == want_code and want_text in out
        print(f"{'ok  ' if ok else 'FAIL'} {title}")
        if not ok:
            failures += 1
            print(f"     exit {code} (want {want_code}); output:\n{out}")
    print(f"tidy_test: {len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
