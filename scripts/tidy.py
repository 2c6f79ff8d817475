#!/usr/bin/env python3
"""The house rules that review comments used to carry, as one fast test (run by meson: `tidy`).

  scripts/tidy.py [--root DIR] [--write-ratchet]

Rules (docs/architecture.md explains the layering they protect):
  1. includes   each folder includes only the project folders below it (FOLDERS), and the pure
                folders (raft/, kvmodel/, kvstate/) include no Asio, sockets, files, threads or
                clocks in their library code; cli/ reaches node/ only through its embedded store.
  2. length     no function body over MAX_FUNCTION_LINES lines, except the ones listed in
                scripts/tidy_long_functions.txt, and those may only shrink (the list is a
                ratchet: when one shrinks or goes, lower or delete its line, or run with
                --write-ratchet and review the diff).
  3. switches   no `default:` in a switch over a project enum (its cases name `kConstants`), so
                -Wswitch tells us about every handler a new enumerator needs.

The C++ scanner below is deliberately small: it strips comments and literals, then matches braces.
It knows function bodies by what precedes their `{` (a parameter list and qualifiers), which is
right for this code base's style (clang-format, Google base); it is not a C++ parser.
"""
import argparse
import os
import re
import sys

MAX_FUNCTION_LINES = 70

# folder -> project folders its library code may include (itself is always allowed).
# Order of the layers: base <- raft, kvmodel <- kvstate <- wal <- net <- node <- cli.
FOLDERS = {
    "base": set(),
    "raft": {"base"},
    "raft/sim": {"base", "raft"},
    "kvmodel": {"base"},
    "kvstate": {"base", "kvmodel"},
    "wal": {"base", "raft"},
    "net": {"base", "kvmodel", "raft"},
    "node": {"base", "kvmodel", "kvstate", "raft", "wal", "net"},
    # The node simulator checks histories with the Jepsen harness's checkers.
    "node/sim": None,
    "kvconnect": {"base", "kvmodel", "kvstate", "raft", "wal", "net", "node", "cli"},
    "cli": {"base", "kvmodel", "net"},
    # Test and measurement folders may use everything.
    "tests": None,
    "jepsen_tests": None,
    "bench": None,
    "fuzz": None,
}
# cli/ embeds a node for `kv --embedded`-style use and its own tests: only these files may
# include node/ (and what node/ brings with it).
CLI_NODE_GATEWAYS = {"cli/embedded.cc", "cli/embedded.h", "cli/embedded_test.cc"}

PURE_FOLDERS = {"raft", "raft/sim", "kvmodel", "kvstate"}
# What "no Asio, sockets, files, threads or clocks" means as headers.
IMPURE_HEADERS = re.compile(
    r"^(asio.*|sys/socket\.h|netinet/.*|arpa/.*|netdb\.h|unistd\.h|fcntl\.h|dirent\.h|"
    r"sys/stat\.h|sys/types\.h|sys/time\.h|poll\.h|fstream|filesystem|cstdio|stdio\.h|iostream|"
    r"thread|mutex|shared_mutex|condition_variable|future|pthread\.h|semaphore|"
    r"chrono|ctime|time\.h|random)$")
NO_NETWORK_FOLDERS = {"wal"}
NETWORK_HEADERS = re.compile(r"^(asio.*|sys/socket\.h|netinet/.*|arpa/.*|netdb\.h|poll\.h)$")

SOURCE_SUFFIXES = (".cc", ".h")
RATCHET_FILE = "scripts/tidy_long_functions.txt"


def is_test_or_tool(rel):
    """Tests, benchmarks, fuzz targets and program entry points may use the machine."""
    base = os.path.basename(rel)
    return (base.endswith("_test.cc") or base.endswith("_bench.cc") or base.endswith("_fuzz.cc")
            or base in ("main.cc", "test_util.h", "doctest_main.cc") or "/testdata/" in rel)


def folder_of(rel):
    parts = rel.split("/")
    if len(parts) >= 3 and "/".join(parts[:2]) in FOLDERS:
        return "/".join(parts[:2])
    return parts[0] if parts[0] in FOLDERS else None


def project_files(root):
    for folder in sorted(FOLDERS):
        top = os.path.join(root, folder)
        if not os.path.isdir(top):
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "testdata"]
            for name in sorted(filenames):
                if name.endswith(SOURCE_SUFFIXES):
                    rel = os.path.relpath(os.path.join(dirpath, name), root)
                    if folder_of(rel) == folder:
                        yield rel


# ---------------------------------------------------------------- rule 1: includes

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def check_includes(rel, text):
    folder = folder_of(rel)
    allowed = FOLDERS[folder]
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        kind, path = m.groups()
        where = f"{rel}:{number}"
        if kind == '"':
            top = path.split("/")[0]
            sub = "/".join(path.split("/")[:2])
            target = sub if sub in FOLDERS else top
            if target not in FOLDERS or allowed is None or target == folder:
                continue
            if folder == "raft/sim" and target == "raft":
                continue
            if folder == "cli" and target in ("node", "kvstate", "wal", "raft") and \
                    rel in CLI_NODE_GATEWAYS:
                continue
            if target not in allowed:
                problems.append(f"{where}: {folder}/ must not include \"{path}\" "
                                f"({folder}/ may include: {', '.join(sorted(allowed)) or 'nothing'})")
        elif not is_test_or_tool(rel):
            if folder in PURE_FOLDERS and IMPURE_HEADERS.match(path):
                problems.append(f"{where}: {folder}/ is pure (no Asio, sockets, files, threads or "
                                f"clocks) but includes <{path}>")
            if folder in NO_NETWORK_FOLDERS and NETWORK_HEADERS.match(path):
                problems.append(f"{where}: {folder}/ knows no network but includes <{path}>")
    return problems


# ---------------------------------------------------------------- the scanner

def strip_code(text):
    """Replaces comments, string and char literals by spaces, keeping newlines and offsets."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:j]))
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_"):
                out.append(c)  # a digit separator (1'000'000)
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        elif c == "#" and (i == 0 or text[i - 1] == "\n"):
            # Preprocessor lines (with continuations) are not code.
            j = i
            while True:
                k = text.find("\n", j)
                if k < 0:
                    k = n
                    break
                if text[k - 1] != "\\":
                    break
                j = k + 1
            out.append(re.sub(r"[^\n]", " ", text[i:k]))
            i = k
        else:
            out.append(c)
            i += 1
    return "".join(out)


SCOPE_KEYWORDS = re.compile(r"\b(namespace|class|struct|union)\b")
ENUM_KEYWORD = re.compile(r"\benum\b")
CONTROL = re.compile(r"\b(if|for|while|switch|catch|do|else|try)\s*$")
QUALIFIERS = re.compile(
    r"^(\s|const|noexcept(\s*\([^)]*\))?|override|final|mutable|volatile|&&?|try|"
    r"->\s*[\w:<>,\s*&]+|requires\b.*)*$", re.S)


def functions(stripped):
    """Yields (name, first_line, last_line) of every function body at namespace/class scope."""
    # Stack of frames: ("scope", start) or ("body", name, line) or ("inner",).
    stack = []
    statement = []  # text since the last statement boundary at scope level
    line = 1
    for i, c in enumerate(stripped):
        if c == "\n":
            line += 1
        in_scope = not stack or stack[-1][0] == "scope"
        if c == "{":
            if not in_scope:
                stack.append(("inner",))
                continue
            text = "".join(statement)
            kind, name = classify(text)
            if kind == "body":
                stack.append(("body", name, line))
            elif kind == "scope":
                stack.append(("scope",))
                statement = []
            else:
                stack.append(("inner-decl",))
                statement.append("{")
            continue
        if c == "}":
            if not stack:
                continue
            frame = stack.pop()
            if frame[0] == "body":
                yield frame[1], frame[2], line
                statement = []
            elif frame[0] == "scope":
                statement = []
            elif frame[0] == "inner-decl":
                statement.append("}")
            continue
        if not stack or stack[-1][0] in ("scope",):
            if c == ";":
                statement = []
            else:
                statement.append(c)
        elif stack[-1][0] == "inner-decl":
            pass


def classify(text):
    """What a `{` at scope level opens, from the declaration text before it."""
    flat = " ".join(text.split())
    if not flat:
        return "inner", None
    head = flat.split("(")[0]
    if SCOPE_KEYWORDS.search(head) and not re.search(r"\)\s*$", flat.split("{")[0]):
        return "scope", None
    if flat.startswith('extern "'):
        return "scope", None
    if ENUM_KEYWORD.search(head):
        return "inner", None
    # A function: "... name(params) qualifiers" or a constructor's "... ) : init(a), b{c}".
    depth = 0
    last_close = -1
    first_open = -1
    for k, ch in enumerate(flat):
        if ch == "(":
            if depth == 0 and first_open < 0:
                first_open = k
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                last_close = k
    if first_open < 0 or last_close < 0:
        return "inner", None
    before = flat[:first_open].rstrip()
    if before.endswith("=") or before.endswith("]") or "=" in before.split()[-1:]:
        return "inner", None
    if CONTROL.search(before):
        return "inner", None
    # Find the parameter list: the top-level paren group that follows the name.
    ctor_init = re.search(r"\)\s*(const\s*)?(noexcept\s*)?:(?!:)", flat)
    tail = flat[last_close + 1:]
    if not (QUALIFIERS.match(tail) or ctor_init):
        return "inner", None
    m = re.search(r"([~\w:]+(?:<[^()]*>)?|operator\s*[^\s(]+)\s*$", before)
    name = m.group(1) if m else before.split()[-1] if before.split() else "?"
    if name.startswith(("TEST_CASE", "SUBCASE", "TEST_SUITE")):
        name = flat[first_open + 1:last_close][:60]
    return "body", name


TEST_NAME = re.compile(r'(TEST_CASE|SUBCASE|TEST_SUITE)\s*\(\s*"([^"]*)"')


def function_lengths(rel, text):
    stripped = strip_code(text)
    lines = text.splitlines()
    for name, first, last in functions(stripped):
        if name.startswith("TEST_CASE") or not name.strip(' "'):
            # A doctest case: name it by its title (the scanner blanked string literals).
            for back in range(first - 1, max(first - 6, -1), -1):
                m = TEST_NAME.search("\n".join(lines[back:first]))
                if m:
                    name = f'TEST_CASE("{m.group(2)[:50]}")'
                    break
        yield name, last - first + 1, first


# ---------------------------------------------------------------- rule 2: length ratchet

def read_ratchet(root):
    path = os.path.join(root, RATCHET_FILE)
    entries = {}
    if os.path.exists(path):
        for raw in open(path, encoding="utf-8"):
            raw = raw.split("#", 1)[0].strip()
            if not raw:
                continue
            location, length = raw.rsplit(" ", 1)
            entries[location] = int(length)
    return entries


def check_lengths(long_functions, ratchet):
    problems = []
    seen = set()
    for key, (length, where) in sorted(long_functions.items()):
        listed = ratchet.get(key)
        if listed is None:
            problems.append(f"{where}: function {key.split(' ', 1)[1]} is {length} lines "
                            f"(at most {MAX_FUNCTION_LINES}): split it")
        elif length > listed:
            problems.append(f"{where}: function {key.split(' ', 1)[1]} grew to {length} lines "
                            f"(the ratchet allows {listed}): shrink it")
        elif length < listed:
            problems.append(f"{RATCHET_FILE}: {key} shrank to {length} lines: lower its entry")
        seen.add(key)
    for key in sorted(set(ratchet) - seen):
        problems.append(f"{RATCHET_FILE}: {key} is no longer over {MAX_FUNCTION_LINES} lines "
                        f"(or is gone): delete its entry")
    return problems


# ---------------------------------------------------------------- rule 3: switches

ENUM_DECL = re.compile(r"\benum\s+(class\s+|struct\s+)?(\w+)\s*(:\s*[\w:]+\s*)?\{([^}]*)\}")


def project_enums(texts):
    """Names of project enums (scoped) and the enumerators of unscoped ones."""
    scoped, unscoped = set(), set()
    for text in texts:
        for m in ENUM_DECL.finditer(strip_code(text)):
            if m.group(1):
                scoped.add(m.group(2))
            else:
                for item in m.group(4).split(","):
                    name = item.split("=")[0].strip()
                    if name:
                        unscoped.add(name)
    return scoped, unscoped


def is_enumerator(label, enums):
    scoped, unscoped = enums
    parts = label.replace(" ", "").split("::")
    if len(parts) >= 2:
        return parts[-2] in scoped
    return parts[0] in unscoped


def check_switches(rel, text, enums):
    stripped = strip_code(text)
    problems = []
    for m in re.finditer(r"\bswitch\s*\(", stripped):
        # Skip the condition, then take the switch's block.
        i = m.end()
        depth = 1
        while i < len(stripped) and depth:
            depth += {"(": 1, ")": -1}.get(stripped[i], 0)
            i += 1
        brace = stripped.find("{", i)
        if brace < 0:
            continue
        depth, j = 0, brace
        labels, default_at = [], None
        while j < len(stripped):
            ch = stripped[j]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    break
            elif depth == 1:
                if stripped.startswith("case", j) and not stripped[j + 4].isalnum():
                    m = re.compile(r"(.*?[^:]):(?!:)", re.S).match(stripped, j + 4)
                    labels.append(m.group(1).strip() if m else "")
                elif stripped.startswith("default", j) and re.match(r"default\s*:",
                                                                    stripped[j:j + 12]):
                    if not stripped[j - 1].isalnum() and stripped[j - 1] != "_":
                        default_at = j
            j += 1
        # Nested switches are checked by their own match; labels at depth 1 only.
        if default_at is not None and any(is_enumerator(lb, enums) for lb in labels):
            number = stripped.count("\n", 0, default_at) + 1
            problems.append(f"{rel}:{number}: `default:` in a switch over a project enum "
                            f"(cases {', '.join(labels[:3])}...): list every enumerator instead")
    return problems


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    parser.add_argument("--write-ratchet", action="store_true",
                        help=f"rewrite {RATCHET_FILE} from the tree (review the diff)")
    args = parser.parse_args()
    root = os.path.abspath(args.root)

    problems = []
    long_functions = {}
    files = 0
    function_count = 0
    sources = {rel: open(os.path.join(root, rel), encoding="utf-8", errors="replace").read()
               for rel in project_files(root)}
    enums = project_enums(sources.values())
    for rel, text in sources.items():
        files += 1
        problems += check_includes(rel, text)
        problems += check_switches(rel, text, enums)
        for name, length, first in function_lengths(rel, text):
            function_count += 1
            if length > MAX_FUNCTION_LINES:
                key = f"{rel} {name}"
                # Two overloads with one name: keep the longer (the ratchet is per name).
                if key not in long_functions or long_functions[key][0] < length:
                    long_functions[key] = (length, f"{rel}:{first}")

    if args.write_ratchet:
        with open(os.path.join(root, RATCHET_FILE), "w", encoding="utf-8") as out:
            out.write(f"# Functions over {MAX_FUNCTION_LINES} lines that predate the rule "
                      "(scripts/tidy.py). Only ever lower a number or delete a line.\n")
            for key, (length, _) in sorted(long_functions.items()):
                out.write(f"{key} {length}\n")
        print(f"tidy: wrote {len(long_functions)} entries to {RATCHET_FILE}")
        return 0

    problems += check_lengths(long_functions, read_ratchet(root))
    for p in problems:
        print(p)
    print(f"tidy: {files} files, {function_count} functions, {len(long_functions)} over "
          f"{MAX_FUNCTION_LINES} lines (listed in {RATCHET_FILE}): "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
