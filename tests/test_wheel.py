"""The product as a user installs it: a wheel built from the repository carries the prompts and the data
files, and an installed copy outside the checkout answers and loads its prompts (issue 10)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT, SEEDS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the repository's files, so the checkout is left untouched."""
    source = tmp_path_factory.mktemp("source")
    for name in ("rag", "prompts"):
        shutil.copytree(ROOT / name, source / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(out), str(source)], check=True, capture_output=True, timeout=300)
    return next(out.glob("rag_ofsted-*.whl"))


def test_the_wheel_carries_the_prompts_and_the_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for prompt in (ROOT / "prompts").glob("*.txt"):
        assert f"rag/prompts/{prompt.name}" in names
    for data in (ROOT / "rag" / "ofsted" / "data").iterdir():
        assert f"rag/ofsted/data/{data.name}" in names
    assert "rag/cli.py" in names or any(n.startswith("rag/cli/") for n in names)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The wheel installed into a folder of its own; its dependencies come from this environment."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "RAG_EMBEDDING_MODEL": "hashing-256", "RAG_LLM": "extractive"}
    env.pop("RAG_PROMPTS", None)
    return target, env


def run(installed, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    target, env = installed
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_an_installed_copy_outside_the_checkout_loads_its_prompts(installed, tmp_path):
    done = run(installed, "-c", "import rag, rag.settings as s; print(rag.__file__); "
               "from rag.answer.prompts import load_prompts; p = load_prompts(s.Settings().prompts); "
               "print(p.system[:40])", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    where, first = done.stdout.splitlines()[:2]
    assert where.startswith(str(installed[0])) and not where.startswith(str(ROOT))
    assert first.startswith("You answer questions")


def test_an_installed_copy_ingests_and_answers_with_citations(installed, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS["wandsworth-2015"], corpus)
    ingest = run(installed, "-m", "rag", "ingest", "--corpus", str(corpus), "--index", str(tmp_path / "index"),
                 cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    ask = run(installed, "-m", "rag", "ask", "--index", str(tmp_path / "index"), "--engine", "extractive", "--json",
              "How many Wandsworth care leavers was the council not in contact with?", cwd=tmp_path)
    assert ask.returncode == 0, ask.stderr
    import json
    answer = json.loads(ask.stdout)
    assert not answer["abstained"] and answer["citations"] and "eight" in answer["answer"]
