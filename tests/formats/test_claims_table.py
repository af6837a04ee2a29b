import csv
import io

from annotator.formats import claim_rows, write_claims_csv
from annotator.formats.claims_table import COLUMNS


def test_the_demo_gold_has_four_claims_with_their_links(seed_item):
    rows = claim_rows(seed_item.document, seed_item.spans, seed_item.relations)
    assert [r.claim_id for r in rows] == ["C1", "C2", "C3", "C4"]
    first, second, _, fourth = rows
    assert (first.claim_text, first.low, first.best, first.high) == (
        "2,359 ISIS terrorists",
        2359,
        2359,
        2359,
    )
    assert (first.perpetrators, first.locations, first.dates) == (
        ["Russian armed forces"],
        ["Syria"],
        ["2017-09-19/2017-09-29"],
    )
    assert (first.source_text, first.source_type, first.partisanship) == (
        "Russian ministry of defense",
        "belligerent_official",
        "party_to_conflict",
    )
    assert (second.subset_of, second.subset_of_id) == ("2,359 ISIS terrorists", "C1")
    assert (fourth.low, fourth.best, fourth.high, fourth.victim_groups) == (
        24,
        None,
        99,
        ["Islamic State"],
    )
    assert first.outlet == "Alwaght" and first.published == "2017-09-30"


def test_the_csv_has_a_header_and_joins_lists(seed_item):
    rows = claim_rows(seed_item.document, seed_item.spans, seed_item.relations)
    rows[0].perpetrators.append("Syrian Arab Army")
    table = list(csv.DictReader(io.StringIO("".join(write_claims_csv(rows)))))
    assert list(table[0]) == list(COLUMNS)
    assert table[0]["perpetrators"] == "Russian armed forces; Syrian Arab Army"
    assert table[2]["high"] == ""  # "over 400" has no upper bound
    assert len(table) == 4


def test_formula_guard_prefixes_cells_a_spreadsheet_would_run(seed_item):
    rows = claim_rows(seed_item.document, seed_item.spans, seed_item.relations)
    rows[0].claim_text = "=HYPERLINK(1)"
    guarded = list(csv.reader(io.StringIO("".join(write_claims_csv(rows, guard_formulas=True)))))
    plain = list(csv.reader(io.StringIO("".join(write_claims_csv(rows)))))
    column = COLUMNS.index("claim_text")
    assert (guarded[1][column], plain[1][column]) == ("'=HYPERLINK(1)", "=HYPERLINK(1)")
