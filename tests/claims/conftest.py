"""The demo article and its hand-coded gold, read from the shared seed files.

Set ANNOTATOR_SEED_DIR to point elsewhere; tests that need the files skip when none is found.
"""

import json
import os
from pathlib import Path

import pytest

_CANDIDATES = [
    Path(__file__).resolve().parents[2] / "data",
    Path("/work/shared/data"),
]


def _seed_dir() -> Path | None:
    configured = os.environ.get("ANNOTATOR_SEED_DIR")
    candidates = [Path(configured)] if configured else _CANDIDATES
    return next((d for d in candidates if (d / "seed-gold.json").is_file()), None)


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    found = _seed_dir()
    if found is None:
        pytest.skip("seed-article.json / seed-gold.json not found (set ANNOTATOR_SEED_DIR)")
    return found


@pytest.fixture(scope="session")
def seed_text(seed_dir: Path) -> str:
    return json.loads((seed_dir / "seed-article.json").read_text(encoding="utf-8"))["text"]


@pytest.fixture(scope="session")
def seed_gold(seed_dir: Path) -> dict:
    return json.loads((seed_dir / "seed-gold.json").read_text(encoding="utf-8"))
