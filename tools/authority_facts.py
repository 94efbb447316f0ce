"""Make rag/ofsted/data/authority_facts.csv from la_lookup.csv (../shared/national): for each authority
with children's services, its codes, region, type, population and ten statistical neighbours, under the
product's canonical names. Facts, kept as data; run again when the lookup changes.

    .venv/bin/python tools/authority_facts.py ../shared/national/la_lookup.csv
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.ofsted.authorities import canonical_authority  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "rag" / "ofsted" / "data" / "authority_facts.csv"
FIELDS = ("authority", "la_code", "la_code_new", "ofsted_urn", "region", "la_type", "population_0_25",
          "statistical_neighbours")


def main(lookup: Path) -> int:
    rows = list(csv.DictReader(lookup.open(encoding="utf-8-sig")))
    by_code = {r["la_code"].strip(): canonical_authority(r["local_authority_ons_name"]) for r in rows}
    missing = [r["local_authority_ons_name"] for r in rows if not by_code[r["la_code"].strip()]]
    if missing:
        print(f"not in the gazetteer (add them to authorities.toml): {missing}", file=sys.stderr)
        return 1
    with OUT.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, FIELDS)
        writer.writeheader()
        for r in sorted(rows, key=lambda r: by_code[r["la_code"].strip()]):
            neighbours = [by_code.get(code.strip()) for code in r["stat_neighbours"].split(",") if code.strip()]
            writer.writerow({"authority": by_code[r["la_code"].strip()], "la_code": r["la_code"].strip(),
                             "la_code_new": r["la_code_new"].strip(), "ofsted_urn": r["urn"].strip(),
                             "region": r["region_name"].strip(), "la_type": r["ons_la_type"].strip(),
                             "population_0_25": r["ons_population_0-25"].strip(),
                             "statistical_neighbours": "; ".join(n for n in neighbours if n)})
    print(f"{len(rows)} authorities -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/national/la_lookup.csv")))
