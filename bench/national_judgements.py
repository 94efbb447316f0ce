"""Read the national corpus (parse only, no embedding) and check what the product makes of it.

    .venv/bin/python bench/national_judgements.py [--national ../shared/national] [--workers 2] [--list]

Prints: the time and peak memory of reading; report types per year, and every report typed "other" with
why; agreement of every graded judgement with the independent table `ilacs_judgements.csv` (which covers
2018+ inspections and abbreviates "requires improvement to be good"), listing each disagreement and miss;
and the product's types, dates and grades against the gold file read by hand (tests/gold/national_reports.jsonl).
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.ingest.corpus import parse_corpus  # noqa: E402
from rag.ofsted.grades import normalise_grade  # noqa: E402
from rag.records import Report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TABLE_AREAS = {"overall_effectiveness_grade": "overall_effectiveness", "impact_of_leaders_grade": "impact_of_leaders",
               "help_and_protection_grade": "help_and_protection", "in_care_grade": "children_in_care",
               "care_leavers_grade": "care_leavers"}
GRADES = {"outstanding", "good", "requires improvement", "inadequate"}
NO_GRADE = {"inspection_pre_dates_judgement", "not_reported_post_reform"}


def table_rows(path: Path) -> dict[str, dict[str, str]]:
    """relative file name ('<urn>_<authority>/<pdf>') -> the table's row. Folders start with the URN."""
    folders = {}
    for folder in (path.parent / "reports").iterdir():
        folders.setdefault(folder.name.split("_", 1)[0], folder.name)
    rows = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            folder = folders.get(row["urn"])
            if folder:
                rows[f"{folder}/{row['pdf_filename']}"] = row
    return rows


def grades_of(report: Report) -> dict[str, str]:
    return {j.area: j.grade for j in report.judgements}


def compare_with_table(reports: dict[str, Report], rows: dict[str, dict[str, str]]) -> dict:
    agree, disagree, missing, extra, unmatched = [], [], [], [], []
    for name, row in sorted(rows.items()):
        report = reports.get(name)
        if report is None:
            unmatched.append(name)
            continue
        ours = grades_of(report)
        for column, area in TABLE_AREAS.items():
            theirs = row[column].strip().lower()
            mine = ours.get(area)
            if theirs in GRADES:
                if mine is None:
                    missing.append((name, area, theirs))
                elif normalise_grade(mine) == theirs:
                    agree.append((name, area))
                else:
                    disagree.append((name, area, theirs, mine))
            elif theirs in NO_GRADE and mine is not None:
                extra.append((name, area, theirs, mine))
    graded = len(agree) + len(disagree) + len(missing)
    return {"graded": graded, "agree": agree, "disagree": disagree, "missing": missing, "extra": extra,
            "unmatched": unmatched}


def compare_with_gold(reports: dict[str, Report], gold_path: Path) -> dict:
    wrong, missing, right, types, facts = [], [], 0, [], []
    for line in gold_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        gold = json.loads(line)
        report = reports.get(gold["path"])
        if report is None:
            if gold["report_type"] != "other":
                missing.append((gold["path"], "whole report", ""))
            continue
        if report.report_type != gold["report_type"]:
            types.append((gold["path"], gold["report_type"], report.report_type))
        for field in ("inspection_start", "inspection_end", "published", "lead_inspector"):
            if (gold.get(field) or None) != getattr(report, field):
                facts.append((gold["path"], field, gold.get(field), getattr(report, field)))
        ours = {j.area: j for j in report.judgements}
        for item in gold["judgements"]:
            if not item.get("key"):
                continue
            mine = ours.get(item["key"])
            if mine is None:
                missing.append((gold["path"], item["key"], item["normalised"]))
            elif normalise_grade(mine.grade) != item["normalised"]:
                wrong.append((gold["path"], item["key"], item["normalised"], mine.grade))
            else:
                right += 1
        keys = {i["key"] for i in gold["judgements"] if i.get("key")}
        for area, j in ours.items():
            if area not in keys:
                wrong.append((gold["path"], area, "no such grade in the report", j.grade))
    return {"right": right, "wrong": wrong, "missing": missing, "types": types, "facts": facts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", type=Path, default=ROOT.parent / "shared" / "national")
    parser.add_argument("--gold", type=Path, default=ROOT / "tests" / "gold" / "national_reports.jsonl")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--list", action="store_true", help="list every miss and extra, not only disagreements")
    args = parser.parse_args()

    started = time.perf_counter()
    parsed = parse_corpus(args.national / "reports", workers=args.workers)
    seconds = time.perf_counter() - started
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    reports = {r.file: r for r in parsed.reports}
    files = len(parsed.reports) + len(parsed.skipped)
    print(f"read {files} files: {len(parsed.reports)} reports, {len(parsed.skipped)} skipped, in {seconds:.1f} s; "
          f"peak memory of one process {peak / 1024:.0f} MB")
    for s in parsed.skipped:
        print(f"  skipped {s.file}: {s.reason}")

    by_type = Counter(r.report_type for r in parsed.reports)
    print("\nreport types:", ", ".join(f"{t} {n}" for t, n in by_type.most_common()))
    per_year: dict[int | None, Counter] = defaultdict(Counter)
    for r in parsed.reports:
        per_year[r.year][r.report_type] += 1
    for year in sorted(per_year, key=lambda y: y or 0):
        print(f"  {year}: " + ", ".join(f"{t} {n}" for t, n in sorted(per_year[year].items())))
    for r in parsed.reports:
        if r.report_type == "other":
            print(f"  other: {r.file}: {'; '.join(r.notes)}")

    table = compare_with_table(reports, table_rows(args.national / "ilacs_judgements.csv"))
    graded = table["graded"]
    print(f"\njudgements against ilacs_judgements.csv: {graded} graded cells; agree {len(table['agree'])} "
          f"({100 * len(table['agree']) / max(1, graded):.1f}%), disagree {len(table['disagree'])}, "
          f"missing {len(table['missing'])}; graded where the table says none: {len(table['extra'])}; "
          f"table rows without a report: {len(table['unmatched'])}")
    for name, area, theirs, mine in table["disagree"]:
        print(f"  DISAGREE {name}: {area}: table {theirs!r}, product {mine!r}")
    for name, area, theirs in table["missing"] if args.list else table["missing"][:20]:
        print(f"  missing {name}: {area} ({theirs})")
    for name, area, theirs, mine in table["extra"] if args.list else table["extra"][:20]:
        print(f"  extra {name}: {area}: table {theirs}, product {mine!r}")

    if args.gold.exists():
        gold = compare_with_gold(reports, args.gold)
        print(f"\ngold file ({args.gold.name}): {gold['right']} grades right, {len(gold['wrong'])} wrong, "
              f"{len(gold['missing'])} missing; {len(gold['types'])} report types differ")
        for row in gold["wrong"]:
            print("  WRONG", *row)
        for row in gold["missing"]:
            print("  missing", *row)
        for row in gold["types"]:
            print("  type", *row)
        print(f"  dates and lead inspector: {len(gold['facts'])} differ from the gold file")
        for row in gold["facts"]:
            print("  fact", *row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
