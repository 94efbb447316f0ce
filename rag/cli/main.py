"""The `rag` command. Every subcommand calls the same functions as the web app; errors become a clear
message on stderr and an exit code (see rag.errors)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rag.answer import engines
from rag.answer.local_model import ensure_packaged_model, packaged_model_available
from rag.assistant import Assistant
from rag.cli import terminal
from rag.cli.batch import answer_json, run_batch
from rag.cli.evaluate import evaluate, load_gold
from rag.errors import NotFound, RagError
from rag.index.embedding import load_embedder
from rag.ofsted.authorities import canonical_authority
from rag.progress import progress_printer
from rag.records import paragraph_json
from rag.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env(corpus=args.corpus, index=args.index)
        return args.handler(args, settings) or 0
    except RagError as e:
        print(terminal.terminal_safe(f"rag: {e}"), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:     # a file or folder the user named cannot be used: say which, not a traceback
        where = f": {e.filename}" if e.filename else ""
        print(f"rag: {e.strerror or e}{where}; check the path and its permissions.", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Questions answered from children's-services "
                                     "inspection reports, every claim cited to its paragraph.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, help="folder of reports (default: RAG_CORPUS or corpus/)")
    common.add_argument("--index", type=Path, help="index folder (default: RAG_INDEX or index/)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    command("setup", _setup, "prepare the local language model (join and verify its packaged pieces once)")
    p = command("ingest", _ingest, "read every report in the corpus and (re)build the index incrementally")
    p.add_argument("--rebuild", action="store_true",
                   help="parse every report and write a new index even if nothing changed")
    p = command("reports", _reports, "list the ingested reports and their metadata")
    p.add_argument("--json", action="store_true")
    p = command("judgements", _judgements, "the graded judgements each report states, with their paragraphs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--authority")
    p = command("show", _show, "a paragraph with its report, headings, number, page and neighbours")
    p.add_argument("paragraph_id")
    p.add_argument("--context", type=int, default=0, metavar="N", help="N paragraphs before and after")
    p.add_argument("--json", action="store_true")
    p = command("search", _search, "ranked paragraphs for a query (hybrid dense + BM25)")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--authority", action="append", help="restrict to an authority (repeatable)")
    p.add_argument("--year", type=int)
    p.add_argument("--json", action="store_true")
    for name, handler, help in (("ask", _ask, "answer a question with cited paragraphs"),
                                ("chat", _chat, "a conversation in the terminal (follow-up questions work)")):
        p = command(name, handler, help)
        if name == "ask":
            p.add_argument("question")
            p.add_argument("--json", action="store_true")
        p.add_argument("--authority", action="append", help="restrict to an authority (repeatable)")
        p.add_argument("--engine", choices=engines.names())
    p = command("batch", _batch, "answer a JSONL file of questions ({id, question, history?}) into JSONL")
    p.add_argument("questions", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--csv", type=Path, help="also write a CSV for spreadsheets")
    p.add_argument("--engine", choices=engines.names())
    p = command("eval", _eval, "score the tool on gold questions (format of shared/eval/dev.jsonl)")
    p.add_argument("gold", type=Path)
    p.add_argument("--engine", choices=engines.names())
    p.add_argument("--json", type=Path, help="also write the scores as JSON here")
    p = command("serve", _serve, "start the web app (Gradio) on RAG_HOST:RAG_PORT")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    return parser


# ---- commands ------------------------------------------------------------------------------------------

def _setup(args, settings: Settings) -> int:
    started = time.perf_counter()
    embedder = load_embedder(settings, "query")      # exports the model for ONNX Runtime, once
    print(f"embedding model ready: {embedder!r} ({time.perf_counter() - started:.1f} s)")
    if packaged_model_available() and not settings.llm_path:
        started = time.perf_counter()
        path = ensure_packaged_model(settings.cache_dir, progress=progress_printer())
        print(f"local model ready: {path} ({time.perf_counter() - started:.1f} s)")
    print(engines.choose(settings)[1])
    return 0


def _ingest(args, settings: Settings) -> int:
    if not settings.corpus.is_dir():
        raise RagError(f"No corpus folder {settings.corpus}: put reports there or pass --corpus DIR.")
    result = Assistant(settings, engine=engines.EXTRACTIVE).ingest(progress_printer(), rebuild=args.rebuild)
    print(terminal.ingest_summary(result))
    return 0 if result.corpus.reports else 1


def _assistant(settings: Settings, engine: str | None = None) -> Assistant:
    return Assistant(settings, engine=engine)


def _reports(args, settings: Settings) -> int:
    reports = _assistant(settings, engines.EXTRACTIVE).reports()
    if args.json:
        print(json.dumps([terminal.report_json(r) for r in reports], indent=2))
    else:
        print(terminal.reports_table(reports))
    return 0


def _judgements(args, settings: Settings) -> int:
    bot = _assistant(settings, engines.EXTRACTIVE)
    authority = _canonical(args.authority) if args.authority else None
    rows = bot.judgements(authority)
    if args.json:
        print(json.dumps([terminal.judgement_json(j, bot.index) for j in rows], indent=2))
    else:
        print(terminal.judgements_table(rows))
    return 0


def _show(args, settings: Settings) -> int:
    bot = _assistant(settings, engines.EXTRACTIVE)
    paragraph, report = bot.paragraph(args.paragraph_id)
    around = bot.context(args.paragraph_id, args.context) if args.context else [paragraph]
    if args.json:
        print(json.dumps({**paragraph_json(paragraph, report), "original": paragraph.original,
                          "context": [paragraph_json(p, report) for p in around]}, indent=2))
    else:
        print(terminal.show(paragraph, report, around))
    return 0


def _search(args, settings: Settings) -> int:
    bot = _assistant(settings, engines.EXTRACTIVE)
    authorities = [_canonical(a) for a in args.authority] if args.authority else None
    bot.load()                       # the index and embedder first: the time shown is the search's
    started = time.perf_counter()
    result = bot.search(args.query, args.k, authorities=authorities, year=args.year)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps({"query": args.query, "authorities": list(result.query.authorities),
                          "hits": [h.to_json() for h in result.hits], "seconds": round(elapsed, 4)}, indent=2))
    else:
        print(terminal.hits(result, elapsed))
    return 0


def _ask(args, settings: Settings) -> int:
    bot = _assistant(settings, args.engine)
    _note_engine(bot)
    authorities = [_canonical(a) for a in args.authority] if args.authority else None
    answer = terminal.stream_answer(bot, args.question, (), authorities, quiet=args.json)
    if args.json:
        print(json.dumps(answer.to_json(), indent=2))
    return 0


def _chat(args, settings: Settings) -> int:
    bot = _assistant(settings, args.engine)
    _note_engine(bot)
    authorities = [_canonical(a) for a in args.authority] if args.authority else None
    history: list[dict] = []
    print("Ask about the reports; an empty line or Ctrl-D ends the conversation.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = terminal.stream_answer(bot, question, history, authorities)
        except RagError as e:
            print(terminal.terminal_safe(f"rag: {e}"), file=sys.stderr)
            continue
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


def _batch(args, settings: Settings) -> int:
    bot = _assistant(settings, args.engine)
    _note_engine(bot)
    shown: set[str] = set()

    def notice(text: str) -> None:      # once per reason, not once per question
        if text not in shown:
            shown.add(text)
            print(terminal.terminal_safe(f"[{text}]"), file=sys.stderr)
    done, failed = run_batch(bot, args.questions, args.out, csv_path=args.csv,
                             progress=progress_printer("answering"), notice=notice)
    print(f"{done} answered, {failed} failed -> {args.out}", file=sys.stderr)
    return 0 if not failed else 1


def _eval(args, settings: Settings) -> int:
    gold = load_gold(args.gold)
    bot = _assistant(settings, args.engine)
    _note_engine(bot)
    bot.load()     # models load before the first question is timed
    result = evaluate(gold, lambda q, h: answer_json(bot.ask(q, h)), progress=progress_printer())
    print(result.to_table())
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2))
    return 0


def _serve(args, settings: Settings) -> int:
    from rag.web.server import serve  # Gradio takes 4 s to import: only for the web app
    serve(settings.replace(host=args.host, port=args.port))
    return 0


def _note_engine(bot) -> None:
    print(f"[{bot.engine_note}]", file=sys.stderr)


def _canonical(name: str) -> str:
    canonical = canonical_authority(name)
    if canonical is None:
        raise NotFound(f"{name!r} is not an English local authority this tool knows; check the spelling.")
    return canonical


if __name__ == "__main__":
    sys.exit(main())
