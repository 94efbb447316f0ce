"""How often the citation check is right, on claim-paragraph pairs read from the reports
(tests/gold/faithfulness.jsonl: supported, negated, wrong subject, wrong grade, wrong number, overstated,
an old grade given as current, true but not an answer, unrelated).

    .venv/bin/python bench/faithfulness.py [--show]

Precision: of the claims marked verified, the share that the paragraph really supports.
Recall: of the supported claims, the share marked verified. Per label: the share marked verified.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer.verify import Passage, verify_claim  # noqa: E402
from rag.records import Hit, Paragraph, Report  # noqa: E402

GOLD = ROOT / "tests" / "gold" / "faithfulness.jsonl"


def passage(row: dict) -> Passage:
    report_id = f"r-{row['id']}"
    paragraph = Paragraph(f"{report_id}:p", report_id, 0, row["paragraph"], row["paragraph"],
                          (row.get("section") or "",) if row.get("section") else ())
    report = Report(report_id, row["source"], "", "", row.get("authority"), "ofsted_sif",
                    str(row.get("report_year") or ""), row.get("report_year"))
    return Passage(1, Hit(paragraph, report, 1.0))


def evaluate(rows: list[dict]) -> dict:
    verdicts = [(row, verify_claim(row["claim"], [passage(row)], question=row["question"])) for row in rows]
    marked = [row for row, v in verdicts if v.verified]
    true_positive = sum(row["supported"] for row in marked)
    supported = sum(row["supported"] for row in rows)
    by_label: dict[str, Counter] = {}
    for row, v in verdicts:
        by_label.setdefault(row["label"], Counter())[v.verified] += 1
    return {"pairs": len(rows), "verified": len(marked),
            "precision": round(true_positive / max(1, len(marked)), 3),
            "recall": round(true_positive / max(1, supported), 3),
            "verified_share_by_label": {label: round(c[True] / sum(c.values()), 3) for label, c in sorted(by_label.items())},
            "wrongly_verified": [row["id"] for row, v in verdicts if v.verified and not row["supported"]],
            "wrongly_refused": [(row["id"], v.reason) for row, v in verdicts if not v.verified and row["supported"]]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list the pairs the check gets wrong")
    args = parser.parse_args()
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = evaluate(rows)
    print(f"{result['pairs']} pairs, {result['verified']} marked verified: precision {result['precision']}, "
          f"recall {result['recall']}")
    for label, share in result["verified_share_by_label"].items():
        print(f"  {label:22} verified {share:.3f}")
    if args.show:
        by_id = {row["id"]: row for row in rows}
        for pid in result["wrongly_verified"]:
            row = by_id[pid]
            print(f"\nWRONGLY VERIFIED {pid} ({row['label']}): {row['claim']}\n  Q: {row['question']}\n  P: {row['paragraph'][:400]}")
        for pid, reason in result["wrongly_refused"]:
            row = by_id[pid]
            print(f"\nWRONGLY REFUSED {pid} ({reason}): {row['claim']}\n  P: {row['paragraph'][:400]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
