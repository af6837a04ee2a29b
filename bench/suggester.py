"""How good are the suggestions? `python -m bench.suggester` (also run by `make bench`).

Runs the suggester as the coding screen does for a new project (the default codebook's actor
list, the shipped Syria gazetteer, no project sites, the shipped English lexicon) on the demo
article, and prints precision and recall per label against the demo article's gold: exact
(same label, start and end) and by overlap (one-to-one pairs sharing a character).
Pure Python: no database, no server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from annotator.claims.gazetteer import load_gazetteer, suggest_document
from annotator.claims.suggest import evaluate

ROOT = Path(__file__).resolve().parents[1]
SEED_DIRS = (ROOT / "annotator" / "fixtures" / "demo", Path("/work/shared/data"))
CODEBOOK = ROOT / "annotator" / "codebook" / "default.json"


def _seed_dir() -> Path:
    for directory in SEED_DIRS:
        if (directory / "seed-gold.json").is_file():
            return directory
    raise SystemExit(
        "seed-article.json / seed-gold.json not found in " + ", ".join(map(str, SEED_DIRS))
    )


def measure() -> tuple[dict, int]:
    """(scores per label, number of suggestions) on the demo article."""
    directory = _seed_dir()
    text = json.loads((directory / "seed-article.json").read_text("utf-8"))["text"]
    gold = json.loads((directory / "seed-gold.json").read_text("utf-8"))["spans"]
    actors = json.loads(CODEBOOK.read_text("utf-8"))["lists"]["actors"]
    suggestions = [p.suggestion for p in suggest_document(text, actors=actors)]
    return evaluate(suggestions, gold), len(suggestions)


def report() -> str:
    scores, total = measure()
    gazetteer = load_gazetteer()
    lines = [
        "Suggester on the demo article's gold (default codebook's actor list, Syria gazetteer "
        f"{gazetteer.version}: {len(gazetteer.places)} places from {gazetteer.attribution})",
        f"{'label':<10}{'gold':>5}{'sugg':>6}   {'exact P':>7} {'exact R':>7}   "
        f"{'overlap P':>9} {'overlap R':>9}",
    ]
    for label, s in sorted(scores.items()):
        lines.append(
            f"{label:<10}{s.gold:>5}{s.suggested:>6}   {s.precision_exact:>7.2f} "
            f"{s.recall_exact:>7.2f}   {s.precision_overlap:>9.2f} {s.recall_overlap:>9.2f}"
        )
    lines.append(
        f"{total} suggestions. DATE is never suggested; ACTOR and LOCATION find only names on "
        "the project's lists and in the gazetteer."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    print(report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
