"""The layout is the architecture: imports point down the pipeline, there are no cycles, no module is
long, and `import rag` stays cheap (issue 11). Walks rag/ with ast, so it sees imports inside functions too."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "rag"
# Each top-level part of the package and its level: a module may import its own level or lower ones.
LEVELS = {
    "records": 0, "errors": 0, "settings": 0,
    "text": 1, "progress": 1,
    "ofsted": 2,
    "ingest": 3,
    "index": 4,
    "search": 5,
    "answer": 6,
    "assistant": 7,
    "web": 8,
    "cli": 9,                       # `rag serve` starts the web app; the web app never uses the CLI
    "__init__": 10, "__main__": 10,
}
HEAVY = ("torch", "transformers", "sentence_transformers", "faiss", "gradio", "langchain_core", "xllamacpp",
         "pymupdf", "bm25s", "onnxruntime", "numpy")
MAX_LINES = 400


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports_of(path: Path, name: str) -> set[str]:
    """Every rag module a module imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "rag"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != "rag":
                continue
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}        # `from rag.answer import engines`
    known = modules()
    return {m for m in found if m in known and m != name}


def part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def graph() -> dict[str, set[str]]:
    return {name: imports_of(path, name) for name, path in modules().items()}


def test_every_part_of_the_package_has_a_level():
    assert {part(m) for m in modules()} <= set(LEVELS)


def test_imports_point_down_the_pipeline():
    upward = []
    for module, imported in graph().items():
        for target in imported:
            a, b = part(module), part(target)
            if LEVELS[b] > LEVELS[a]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that point up the pipeline:\n" + "\n".join(sorted(upward))


def test_there_are_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if nxt in (m for m in path) and state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    # a package's __init__ importing its own submodule is not a cycle worth reporting
    cycles = [c for c in cycles if not all(m.startswith(c[0]) for m in c)]
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_is_over_the_length_limit():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_import_rag_loads_no_heavy_library():
    code = ("import sys, rag; heavy = %r; "
            "print(','.join(m for m in heavy if m in sys.modules))" % (HEAVY,))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"`import rag` imported {done.stdout.strip()}"
