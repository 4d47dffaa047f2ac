"""List the module's long functions and files (the structure rule: no method over ~60 lines without a
reason in its docstring, no Python file over ~600 lines).

    python tools/long_methods.py [--max-lines 60] [--max-file-lines 600] [--all] [ROOT]

A function counts from its ``def`` line to its last line (decorators and docstring included). A
long function whose docstring gives the reason ("Long: ..." or "Long for ...") is listed as
explained; ``--all`` lists those too. Exit status 0: this is a report, not a gate (``make lint``
prints it).
"""

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

SKIP_PARTS = {"tests", "bench", "tools", "migrations", ".local"}
# the docstring gives the reason: "Long: ..." or "Long for ..."
LONG_REASON = re.compile(r"\bLong(:|\s+for\s)")


def module_files(root):
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [root / name for name in out if not SKIP_PARTS & set(Path(name).parts)]


def long_functions(path, max_lines):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > max_lines:
                doc = ast.get_docstring(node) or ""
                explained = bool(LONG_REASON.search(doc))
                yield node.lineno, node.name, length, explained


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=Path(__file__).resolve().parent.parent, type=Path)
    parser.add_argument("--max-lines", type=int, default=60)
    parser.add_argument("--max-file-lines", type=int, default=600)
    parser.add_argument("--all", action="store_true", help="also the long functions with a reason")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    found = 0
    for path in sorted(module_files(root)):
        rel = path.relative_to(root)
        lines = len(path.read_text().splitlines())
        if lines > args.max_file_lines:
            print(f"{rel}: {lines} lines (file)")
            found += 1
        for lineno, name, length, explained in long_functions(path, args.max_lines):
            if explained and not args.all:
                continue
            print(f"{rel}:{lineno}: {name}() {length} lines{' (reason given)' if explained else ''}")
            found += 1
    print(f"{found} long file(s)/function(s) without a reason" if not args.all else f"{found} listed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
