"""Build the shipped Syria gazetteer (gazetteer_sy.json) from GeoNames dump files.

    python -m annotator.claims.geonames annotator/claims/geonames > annotator/claims/gazetteer_sy.json

The directory holds GeoNames files in their own tab-separated formats (https://download.geonames.org/
export/dump/): an admin1 codes file (admin1CodesASCII*.txt), a cities file (cities*.txt, e.g.
cities15000.txt or cities1000.txt; more places with cities1000) and a country file
(countryInfo*.txt). Full world dumps work; only Syria's rows and its neighbours' country rows are
read. The repository keeps the verbatim Syrian rows it was built from in claims/geonames/.

GeoNames data is licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/);
credit: GeoNames, https://www.geonames.org/. The output says so in its "about" and "license".

Which alternate names are kept (the rest of a row's list is noise for matching English or
Arabic news text):
- names written in Latin letters with at least one capital (GeoNames' all-lowercase entries
  are machine romanisations of other scripts, such as "hlb" for حلب);
- names in Arabic script;
- not airport codes (an all-capital name of four letters or fewer), not "Alepo - حلب" style
  composites, and not the few names that are everyday English words (AMBIGUOUS below).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from annotator.claims._text import fold

COUNTRY = "SY"
# Hand-kept names (Arabic and press spellings) for governorates and countries: see its header.
SUPPLEMENT = Path(__file__).with_name("geonames") / "names-supplement.tsv"
ATTRIBUTION = "GeoNames (https://www.geonames.org/), CC BY 4.0"
# Alternate names that are also common English words: matched case-insensitively they would
# turn "tell" or "Sam" into places. A manager may still add any of them as a project site.
AMBIGUOUS = frozenset({"tell", "tall", "tal", "sam", "bab", "dana", "kara", "karra", "duma"})
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_LATIN_CAPITAL = re.compile(r"[A-Z\u00C0-\u00DE\u0100-\u024F]")


def _rows(lines: Iterable[str], columns: int) -> Iterable[list[str]]:
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        row = line.rstrip("\n").split("\t")
        if len(row) < columns:
            raise ValueError(f"a GeoNames row has {len(row)} columns, expected {columns}: {line!r}")
        yield row


def read_admin1(lines: Iterable[str], country: str = COUNTRY) -> list[dict[str, Any]]:
    """admin1CodesASCII.txt: code, name, ascii name, geonameid."""
    return [
        {"code": row[0], "name": row[1], "ascii": row[2], "id": int(row[3])}
        for row in _rows(lines, 4)
        if row[0].startswith(country + ".")
    ]


def read_cities(lines: Iterable[str], country: str = COUNTRY) -> list[dict[str, Any]]:
    """cities*.txt (the geoname table): id, name, ascii name, alternate names, lat, lon, ...,
    country code (column 9), admin1 code (column 11), population (column 15)."""
    return [
        {
            "id": int(row[0]),
            "name": row[1],
            "ascii": row[2],
            "alternates": [a for a in row[3].split(",") if a],
            "lat": float(row[4]),
            "lon": float(row[5]),
            "feature": row[7],
            "admin1": f"{row[8]}.{row[10]}" if row[10] else "",
            "population": int(row[14] or 0),
        }
        for row in _rows(lines, 15)
        if row[8] == country
    ]


def read_countries(lines: Iterable[str], country: str = COUNTRY) -> list[dict[str, Any]]:
    """countryInfo.txt: the country and the neighbours it lists (column 18)."""
    rows = {row[0]: row for row in _rows(lines, 18)}
    if country not in rows:
        raise ValueError(f"the country file has no row for {country}")
    wanted = [country, *[c for c in rows[country][17].split(",") if c]]
    return [
        {"code": code, "iso3": rows[code][1], "name": rows[code][4], "id": int(rows[code][16])}
        for code in wanted
        if code in rows
    ]


def keep_alias(name: str) -> bool:
    if not name or " - " in name or fold(name) in AMBIGUOUS:
        return False
    if _ARABIC.search(name):
        return True
    if not _LATIN_CAPITAL.search(name) or any(ord(ch) > 0x24F and ch.isalpha() for ch in name):
        return False
    letters = [ch for ch in name if ch.isalpha()]
    return not (len(letters) <= 4 and name.isupper())


def _aliases(name: str, candidates: Iterable[str]) -> list[str]:
    seen = {fold(name)}
    kept = []
    for alias in candidates:
        key = fold(alias)
        if key not in seen and keep_alias(alias):
            seen.add(key)
            kept.append(alias)
    return kept


def read_supplement(lines: Iterable[str]) -> dict[tuple[str, str], list[str]]:
    """names-supplement.tsv: (kind, code) -> names added by hand (not GeoNames data), for the
    governorates and countries, which the GeoNames rows list under one English name only."""
    names: dict[tuple[str, str], list[str]] = {}
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        kind, code, name = line.rstrip("\n").split("\t")
        names.setdefault((kind, code), []).append(name)
    return names


def build(
    admin1: list[dict[str, Any]],
    cities: list[dict[str, Any]],
    countries: list[dict[str, Any]],
    supplement: dict[tuple[str, str], list[str]] | None = None,
) -> dict[str, Any]:
    """The gazetteer as shipped: countries, then governorates by code, then places by name."""
    extra = supplement or {}
    governorates = {a["code"]: a for a in admin1}
    places: list[dict[str, Any]] = [
        {
            "id": c["id"],
            "name": c["name"],
            "kind": "country",
            "code": c["code"],
            "aliases": _aliases(c["name"], extra.get(("country", c["code"]), [])),
        }
        for c in countries
    ]
    places += [
        {
            "id": a["id"],
            "name": a["name"],
            "kind": "admin1",
            "code": a["code"],
            "aliases": _aliases(a["name"], [a["ascii"], *extra.get(("admin1", a["code"]), [])]),
        }
        for a in sorted(admin1, key=lambda a: a["code"])
    ]
    for city in sorted(cities, key=lambda c: (c["ascii"], c["id"])):
        governorate = governorates.get(city["admin1"])
        places.append(
            {
                "id": city["id"],
                "name": city["name"],
                "kind": "populated_place",
                "code": city["feature"],
                "within": governorate["name"] if governorate else "",
                "lat": city["lat"],
                "lon": city["lon"],
                "population": city["population"],
                "aliases": _aliases(city["name"], [city["ascii"], *city["alternates"]]),
            }
        )
    return {
        "about": (
            "Syria gazetteer for Annotator's suggestions: Syria and its neighbours, its 14 "
            "governorates (GeoNames admin1 codes SY.01-SY.14) and its towns, with alternate names "
            "(Latin and Arabic script). Built by annotator/claims/geonames.py from GeoNames data; "
            "the governorates' and countries' alternate names come from names-supplement.tsv, "
            "kept by hand by the Annotator team (not GeoNames data)."
        ),
        "license": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
        "attribution": ATTRIBUTION,
        "places": places,
    }


def _read(directory: Path, pattern: str) -> list[str]:
    files = sorted(directory.glob(pattern))
    if not files:
        raise SystemExit(f"no file matching {pattern} in {directory}")
    return files[0].read_text(encoding="utf-8").splitlines()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    directory = Path(args[0])
    gazetteer = build(
        read_admin1(_read(directory, "admin1CodesASCII*.txt")),
        read_cities(_read(directory, "cities*.txt")),
        read_countries(_read(directory, "countryInfo*.txt")),
        read_supplement(SUPPLEMENT.read_text(encoding="utf-8").splitlines()),
    )
    json.dump(gazetteer, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
