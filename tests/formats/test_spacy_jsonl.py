import json

from annotator.formats import write_spacy_jsonl
from tests.formats.conftest import EMOJI_TEXT, make_item


def test_each_line_holds_text_spans_and_meta():
    item = make_item(
        EMOJI_TEXT,
        [("Raqqa", "LOCATION", "L2"), ("Idlib", "LOCATION", "L1")],
        outlet="SANA",
        metadata={"feed": "rss"},
    )
    (line,) = write_spacy_jsonl([item])
    record = json.loads(line)
    assert record == {
        "text": EMOJI_TEXT,
        "spans": [
            {"start": 2, "end": 7, "label": "LOCATION"},
            {"start": 35, "end": 40, "label": "LOCATION"},
        ],
        "meta": {"external_id": "doc-1", "outlet": "SANA", "feed": "rss"},
    }
    assert [EMOJI_TEXT[s["start"] : s["end"]] for s in record["spans"]] == ["Idlib", "Raqqa"]
