"""The national corpus at speed (issue 13): every figure, measured on this machine.

    .venv/bin/python bench/national.py [--national ../shared/national/reports] [--work /tmp/rag-national]
                                       [--skip-cold] [--repeat 3]

  - the raw encode rate of the embedding model here, per backend and precision, on 1,500 national paragraphs
    as embedded;
  - a cold `rag ingest` of the whole tree (time, peak memory, paragraphs embedded per second);
  - an unchanged re-ingest, and adding one new report (median of --repeat);
  - `rag search` as a fresh process (median), warm search p50/p95 over 200 queries;
  - `rag serve` ready time and the serving process's memory with the local model loaded;
  - rendering the judgements grid for every report.
Run it on an otherwise idle machine: each figure is a wall-clock time.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RAG = [sys.executable, "-m", "rag"]
QUERIES = ["care leavers suitable accommodation in Devon", "How quickly are children seen after a referral?",
           "private fostering arrangements", "What did inspectors say about social worker caseloads in Leeds?",
           "Compare help and protection in Kent and Essex", "children missing from education",
           "Which authorities were judged inadequate for care leavers?", "early help assessments quality"]


def run(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(seconds, peak memory in MB of the child, stderr) of a command run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, max(peak, before) // 1024, done.stderr


def mirror(source: Path, target: Path, leave_out: str | None = None) -> None:
    """The corpus tree as symbolic links (the reports are never copied), without one report if asked."""
    for path in source.rglob("*.pdf"):
        relative = path.relative_to(source).as_posix()
        if relative == leave_out:
            continue
        link = target / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(path)


def raw_rates(reports: Path) -> None:
    from rag.index.embedding import load_embedder, passage_text
    from rag.ingest.corpus import corpus_files, parse_report
    from rag.settings import Settings
    files = corpus_files(reports)
    random.seed(1)
    pairs = []
    for path in random.sample(files, 40):
        try:
            report = parse_report(path)
        except Exception:  # noqa: BLE001 - a web page saved as .pdf
            continue
        pairs += [(report, p) for p in report.paragraphs]
    texts = sorted((passage_text(r, p) for r, p in random.sample(pairs, min(1500, len(pairs)))), key=len, reverse=True)
    for backend, precision in (("torch", "float32"), ("onnx", "float32"), ("torch", "bfloat16")):
        embedder = load_embedder(Settings.from_env(embedding_backend=backend, embedding_precision=precision))
        embedder.embed(texts[:32])
        started = time.perf_counter()
        embedder.embed(texts)
        print(f"raw encode rate, {backend:5} {precision:8}: {len(texts) / (time.perf_counter() - started):.1f} "
              f"paragraphs/s ({len(texts)} national paragraphs, batch {embedder.batch_size})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) // 1024


def serve_ready(env: dict[str, str], index: Path, corpus: Path) -> tuple[float, int]:
    """Seconds until `rag serve` answers its page, and the server's resident memory once the language model
    has warmed (MB)."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([*RAG, "serve", "--port", str(port), "--index", str(index), "--corpus", str(corpus)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        while time.perf_counter() - started < 300:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        seconds = time.perf_counter() - started
        # The language model warms in the background once the page is up: wait until memory settles.
        rss, settled = _rss(server.pid), time.perf_counter()
        while time.perf_counter() - settled < 10 and time.perf_counter() - started < 300:
            time.sleep(1)
            now = _rss(server.pid)
            if now > rss + 5:
                rss, settled = now, time.perf_counter()
        return seconds, rss
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", type=Path, default=ROOT.parent / "shared" / "national" / "reports")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "rag-national")
    parser.add_argument("--skip-cold", action="store_true", help="reuse the index of an earlier run in --work")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "RAG_LLM": os.environ.get("RAG_LLM", "auto")}
    corpus, index = args.work / "corpus", args.work / "index"
    newest = sorted(p.relative_to(args.national).as_posix() for p in args.national.rglob("*.pdf"))[-1]

    raw_rates(args.national)
    if not args.skip_cold:
        shutil.rmtree(args.work, ignore_errors=True)
        mirror(args.national, corpus)
        seconds, peak, err = run([*RAG, "ingest", "--corpus", str(corpus), "--index", str(index)], env)
        summary = [line for line in err.splitlines() if "paragraphs" in line][-1:]
        print(f"cold ingest: {seconds / 60:.1f} min, peak memory {peak} MB; {' '.join(summary)}")
    times = [run([*RAG, "ingest", "--corpus", str(corpus), "--index", str(index)], env)[0] for _ in range(args.repeat)]
    print(f"unchanged re-ingest: median {statistics.median(times):.1f} s of {args.repeat}")
    added = []
    for _ in range(args.repeat):
        (corpus / newest).unlink()
        run([*RAG, "ingest", "--corpus", str(corpus), "--index", str(index)], env)
        mirror(args.national, corpus)
        added.append(run([*RAG, "ingest", "--corpus", str(corpus), "--index", str(index)], env)[0])
    print(f"one new report ({newest}): median {statistics.median(added):.1f} s of {args.repeat}")
    fresh = [run([*RAG, "search", QUERIES[0], "-k", "3", "--index", str(index)], env)[0] for _ in range(args.repeat)]
    print(f"`rag search` as a fresh process: median {statistics.median(fresh):.1f} s of {args.repeat}")

    from rag.assistant import Assistant
    from rag.settings import Settings
    bot = Assistant(Settings.from_env(index=index, corpus=corpus), engine="extractive").load()
    latencies = []
    for query in QUERIES * 25:
        started = time.perf_counter()
        bot.search(query)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    print(f"warm search: p50 {statistics.median(latencies):.1f} ms, p95 {latencies[int(0.95 * len(latencies))]:.1f} ms "
          f"over {len(latencies)} searches of {len(bot.reports())} reports")
    from rag.web.handlers import WebApp
    web = WebApp(bot.settings, bot)
    started = time.perf_counter()
    html = web.judgements()
    print(f"judgements grid: {time.perf_counter() - started:.2f} s for {len(bot.reports())} reports ({len(html) // 1024} KB)")
    seconds, rss = serve_ready(env, index, corpus)
    print(f"`rag serve` ready: {seconds:.1f} s; serving process memory {rss} MB (engine {env['RAG_LLM']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
