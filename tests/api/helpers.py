"""Small builders the API tests share."""

from annotator.services import relation_create, span_create
from tests.factories import quote_span


def make_span(document, coder, phrase: str, label: str = "ACTOR", **fields):
    """A span of `coder` over the first occurrence of `phrase`, made through the service."""
    span, _ = span_create(
        document=document, coder=coder, label=label, **quote_span(document, phrase), **fields
    )
    return span


def make_relation(document, coder, source, target, type: str = "claimed_by"):
    relation, _ = relation_create(
        document=document, coder=coder, type=type, source_id=source.pk, target_id=target.pk
    )
    return relation
