"""Facts about each local authority with children's services (data/authority_facts.csv, made from the
national lookup by tools/authority_facts.py): LA codes, Ofsted URN, region, type, and its ten statistical
neighbours, all under the product's canonical names."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data" / "authority_facts.csv"


@dataclass(frozen=True)
class AuthorityFacts:
    authority: str
    la_code: str               # the old three-digit code ("301")
    la_code_new: str           # the ONS code ("E09000002")
    ofsted_urn: str
    region: str                # "London", "North East", ...
    la_type: str               # "London Borough", "Metropolitan District", "Unitary Authority", "County"
    population_0_25: int | None
    statistical_neighbours: tuple[str, ...]


@lru_cache(maxsize=1)
def all_facts() -> dict[str, AuthorityFacts]:
    with _DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {r["authority"]: AuthorityFacts(
        r["authority"], r["la_code"], r["la_code_new"], r["ofsted_urn"], r["region"], r["la_type"],
        int(r["population_0_25"]) if r["population_0_25"].isdigit() else None,
        tuple(n.strip() for n in r["statistical_neighbours"].split(";") if n.strip())) for r in rows}


def facts(authority: str | None) -> AuthorityFacts | None:
    return all_facts().get(authority) if authority else None


def regions() -> tuple[str, ...]:
    return tuple(sorted({f.region for f in all_facts().values()}))
