"""The one adapter from a coder's rows to the pre-submit checks (annotator.claims.checks).

`coder_findings(document, coder)` is what the coding screen's Checks section lists and what
submitting asks; `blocking_findings(project, findings)` picks those the project's managers made
blocking (`Project.blocking_checks`), which make submitting refuse.

From the codebook: labels and relation types by name, each type's labels (signatures), its
`max_per_source` as the "at most" cardinality, and for `claimed_by` its min and max per source
("exactly one" is min 1, max 1): a codebook that drops the minimum drops the "no claimed_by"
finding, one that drops the maximum drops the "several claimed_by" finding.
"""

from __future__ import annotations

from collections.abc import Iterable

from annotator.claims.checks import (
    CLAIM_WITH_SEVERAL_SOURCES,
    CLAIM_WITHOUT_SOURCE,
    Finding,
    Relation,
    Span,
    run_checks,
)
from annotator.codebook import Codebook, get_codebook
from annotator.models import Annotation, Document
from annotator.models import Relation as RelationRow

__all__ = ["Finding", "blocking_findings", "coder_findings", "findings_for_rows"]


def coder_findings(document: Document, coder) -> list[Finding]:
    """Every finding for the coder's alive spans and links in `document` (two queries, plus
    the codebook when it is not cached). Span ids in the findings are the Annotation ids as
    strings."""
    codebook = get_codebook(document.project)
    coder_id = getattr(coder, "pk", coder)
    spans = (
        Annotation.objects.for_document(document)
        .by_coder(coder_id)
        .alive()
        .values_list("pk", "label_id", "attributes", "text")
    )
    relations = (
        RelationRow.objects.for_document(document)
        .by_coder(coder_id)
        .alive()
        .values_list("type_id", "source_id", "target_id")
    )
    return findings_for_rows(codebook, spans, relations)


def findings_for_rows(
    codebook: Codebook,
    spans: Iterable[tuple[int, int, dict, str]],
    relations: Iterable[tuple[int, int, int]],
) -> list[Finding]:
    """run_checks over rows (span: id, label id, attributes, text; relation: type id, source
    id, target id) with the codebook's signatures and cardinalities."""
    label_names = {label.id: label.name for label in codebook.labels}
    checked_spans = [
        Span(str(pk), label_names.get(label_id, "?"), attributes or {}, text)
        for pk, label_id, attributes, text in spans
    ]
    types = {rt.id: rt for rt in codebook.relation_types}
    checked_relations = [
        Relation(types[type_id].name, str(source_id), str(target_id))
        for type_id, source_id, target_id in relations
        if type_id in types
    ]
    signatures = {
        rt.name: (label_names.get(rt.from_label_id, "?"), label_names.get(rt.to_label_id, "?"))
        for rt in codebook.relation_types
    }
    cardinalities = {
        rt.name: rt.max_per_source
        for rt in codebook.relation_types
        if rt.max_per_source is not None
    }
    claimed_by = codebook.relation_type_by_name("claimed_by")
    skip = set()
    if claimed_by is None or claimed_by.min_per_source < 1:
        skip.add(CLAIM_WITHOUT_SOURCE)
    if claimed_by is None or claimed_by.max_per_source != 1:
        skip.add(CLAIM_WITH_SEVERAL_SOURCES)
    findings = run_checks(
        checked_spans, checked_relations, cardinalities=cardinalities, signatures=signatures
    )
    return [finding for finding in findings if finding.code not in skip]


def blocking_findings(project, findings: Iterable[Finding]) -> list[Finding]:
    """The findings whose code the project's managers made blocking: submit refuses while
    any is left."""
    blocking = set(project.blocking_checks or ())
    return [finding for finding in findings if finding.code in blocking]
