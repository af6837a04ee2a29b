import pytest
from django.core.exceptions import ValidationError

from annotator.services import span_create
from tests.factories import quote_span


def test_coder_creates_a_casualty_span(document, coder):
    span, created = span_create(
        document=document,
        coder=coder,
        label="CASUALTY",
        **quote_span(document, "2,359 ISIS terrorists"),
        attributes={"outcome": "killed", "low": "2359"},
    )
    assert created
    assert span.attributes == {"outcome": "killed", "low": 2359, "factuality": "asserted"}


def test_quote_mismatch_is_refused(document, coder):
    with pytest.raises(ValidationError) as excinfo:
        span_create(document=document, coder=coder, label="ACTOR", start=0, end=7, text="Russia!")
    assert "does not match" in str(excinfo.value.message_dict["text"])
