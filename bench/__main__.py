"""`python -m bench`: list the benchmarks; `python -m bench NAME [ARGS]` runs one.

Each benchmark is a module of this package with a `main()` and a docstring whose first
line says what it measures. Modules named `*_<part>` beside one (`bridge_model`,
`bridge_callers`, …) are its parts, not benchmarks. Listing reads the docstrings without
importing anything, since some benchmarks set Django up when imported.
"""

import ast
import runpy
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def benchmarks() -> dict[str, str]:
    """Benchmark name → first line of its docstring."""
    found = {}
    names = {path.stem for path in PACKAGE.glob("*.py") if not path.stem.startswith("_")}
    for name in sorted(names):
        if "_" in name and name.split("_", 1)[0] in names:
            continue
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        docstring = ast.get_docstring(tree) or ""
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            first_paragraph = " ".join(docstring.split("\n\n", 1)[0].split())
            found[name] = first_paragraph.split(". ", 1)[0].rstrip(".")
    return found


def main(argv: list[str]) -> int:
    available = benchmarks()
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m bench NAME [ARGS]   (NAME --help for its options)\n")
        width = max(map(len, available))
        for name, summary in available.items():
            print(f"  {name:<{width}}  {summary}")
        return 0
    name, *arguments = argv
    if name not in available:
        print(f"no benchmark {name!r}; one of: {', '.join(available)}", file=sys.stderr)
        return 2
    sys.argv = [f"python -m bench {name}", *arguments]
    runpy.run_module(f"bench.{name}", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
