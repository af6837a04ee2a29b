"""The bench's data builders make what the bench needs. No timing here: `make bench` prints
figures, it never asserts them."""

import pytest

from annotator.models import Annotation, Document
from bench import seed, texts


def test_words_are_the_text_at_their_offsets_and_never_overlap():
    text = "Russian air strikes in Syria, on 19-29 September — 2,359 killed."

    spans = texts.words(text)

    assert [s.text for s in spans][:3] == ["Russian", "air", "strikes"]
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert all(a.end < b.start for a, b in zip(spans, spans[1:], strict=False))


def test_a_long_article_has_exactly_the_length_asked_for():
    article = texts.long_article("One paragraph.\n\nAnother one.", 50_000)

    assert len(article) == 50_000


def test_seeded_and_free_spans_are_disjoint_and_cover_the_whole_text():
    text = texts.long_article(seed.load_fixture("seed-article.json")["text"], 50_000)

    seeded, free = texts.seeded_and_free(text, 2_000, 300)

    assert len(seeded) == 2_000
    assert len(free) == 300
    assert not {(s.start, s.end) for s in seeded} & {(s.start, s.end) for s in free}
    assert max(s.end for s in free) > 45_000


@pytest.mark.django_db
def test_the_plan_holds_distinct_creates_that_the_services_would_accept():
    sizes = seed.Sizes.smoke()

    plan = seed.build("pw-for-tests", sizes)

    assert len(plan.api_sequential) == sizes.api_sequential
    assert [len(work) for work in plan.concurrent_work] == [sizes.concurrent_per_client] * 2
    creates = [
        *plan.warmup_api,
        *plan.warmup_htmx,
        *plan.api_sequential,
        *plan.htmx_sequential,
        *(c for work in plan.concurrent_work for c in work),
        *plan.long_api,
        *plan.long_htmx,
    ]
    assert len({(doc, start) for doc, _, start, _, _ in creates}) == len(creates)
    texts_by_id = dict(Document.objects.values_list("id", "text"))
    assert all(texts_by_id[doc][start:end] == quote for doc, _, start, end, quote in creates)


@pytest.mark.django_db
def test_the_read_gold_and_long_documents_hold_the_spans_the_figures_name():
    sizes = seed.Sizes.smoke()

    plan = seed.build("pw-for-tests", sizes)

    spans = Annotation.objects.filter(coder__username=plan.solo)
    assert spans.filter(document_id=plan.read_document).count() == sizes.read_spans
    assert spans.filter(document_id=plan.gold_document).count() == plan.gold_spans == 57
    for document_id in plan.long_documents:
        assert spans.filter(document_id=document_id).count() == sizes.long_spans
        assert len(Document.objects.get(pk=document_id).text) == sizes.long_length


def test_the_suggester_bench_prints_precision_and_recall_per_label(capsys):
    from bench import suggester

    assert suggester.main([]) == 0
    out = capsys.readouterr().out
    assert "CASUALTY" in out and "LOCATION" in out and "exact P" in out
    scores, _ = suggester.measure()
    assert scores["CASUALTY"].recall_exact == 1.0
