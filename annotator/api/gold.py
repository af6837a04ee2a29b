"""The gold layer over the API: read it with its provenance, and make the adjudicator's
decisions through the same services as the adjudication screen (annotator.services.gold).

Managers and adjudicators of the project only; anyone else (coders included) gets a 404, as
on the screen. Input serializers check shapes; the services check everything else, and their
ValidationError / GoldConflictError become 400 / 409 (annotator/api/errors.py).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access, reports
from annotator.api.serializers import ConflictSerializer
from annotator.codebook import get_codebook
from annotator.models import Annotation, GoldRelation, GoldSpan
from annotator.services import gold as services

BAD_INPUT = OpenApiResponse(description="{field: [messages]} naming each field at fault")
NOT_FOUND = OpenApiResponse(
    description="no such document (or gold row) within your reach: managers and adjudicators only"
)
STALE = OpenApiResponse(ConflictSerializer, description="the version sent is not current")


# -- output -------------------------------------------------------------------------------------


class SourceSpanSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the coder's Annotation id")
    coder = serializers.CharField(
        help_text="the coder's username, or their pseudonym (Coder A ...) where names are hidden"
    )


class GoldSpanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    start = serializers.IntegerField(help_text="code-point offset, inclusive")
    end = serializers.IntegerField(help_text="code-point offset, exclusive")
    text = serializers.CharField(trim_whitespace=False)
    attributes = serializers.DictField()
    version = serializers.IntegerField()
    origin = serializers.ChoiceField(
        choices=["accepted", "edited", "added"],
        help_text="accepted from coders; a coder's version edited; added by the adjudicator",
    )
    source_annotations = SourceSpanSerializer(many=True)
    needs_review = serializers.BooleanField(
        help_text="a bulk decision could not settle the attributes (see the note)"
    )
    note = serializers.CharField()
    created_by = serializers.CharField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class GoldRelationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    source = serializers.IntegerField(help_text="a gold span id")
    target = serializers.IntegerField(help_text="a gold span id")
    source_relations = serializers.ListField(
        child=serializers.IntegerField(), help_text="the coders' Relation ids it came from"
    )
    note = serializers.CharField()
    created_by = serializers.CharField()


class GoldRejectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    annotations = serializers.ListField(child=serializers.IntegerField())
    note = serializers.CharField()


class AdjudicationStateSerializer(serializers.Serializer):
    document = serializers.IntegerField()
    state = serializers.CharField(help_text="not_ready, ready, in_progress or adjudicated")
    adjudication_started_at = serializers.DateTimeField(allow_null=True)
    adjudicated_at = serializers.DateTimeField(allow_null=True)


class GoldLayerSerializer(AdjudicationStateSerializer):
    spans = GoldSpanSerializer(many=True)
    relations = GoldRelationSerializer(many=True)
    rejections = GoldRejectionSerializer(many=True)


class _Shown:
    """How gold rows are shown to the requesting user (label names, coder names)."""

    def __init__(self, request, document):
        project = document.project
        self.codebook = get_codebook(project)
        self.show_names = reports.shows_coder_names(request.user, project)
        self.pseudonyms = {c["id"]: c["key"] for c in reports.project_coders(project)}

    def coder(self, user_id: int, username: str) -> str:
        if self.show_names:
            return username
        return self.pseudonyms.get(user_id, "Coder ?")

    def spans(self, spans: list[GoldSpan]) -> list[dict]:
        ids = {pk for span in spans for pk in span.source_annotations}
        coders = {
            pk: (coder_id, username)
            for pk, coder_id, username in Annotation.objects.filter(pk__in=ids).values_list(
                "pk", "coder_id", "coder__username"
            )
        }
        names = {label.id: label.name for label in self.codebook.labels}
        return [
            {
                "id": span.pk,
                "label": names.get(span.label_id, "?"),
                "start": span.start,
                "end": span.end,
                "text": span.text,
                "attributes": span.attributes,
                "version": span.version,
                "origin": span.origin,
                "source_annotations": [
                    {"id": pk, "coder": self.coder(*coders[pk])}
                    for pk in span.source_annotations
                    if pk in coders
                ],
                "needs_review": span.needs_review,
                "note": span.note,
                "created_by": span.created_by.username,
                "created": span.created,
                "updated": span.updated,
            }
            for span in spans
        ]

    def relations(self, relations: list[GoldRelation]) -> list[dict]:
        return [
            {
                "id": relation.pk,
                "type": getattr(self.codebook.relation_type_by_id(relation.type_id), "name", "?"),
                "source": relation.source_id,
                "target": relation.target_id,
                "source_relations": relation.source_relations,
                "note": relation.note,
                "created_by": relation.created_by.username,
            }
            for relation in relations
        ]


def _state(document) -> dict:
    coders = services.document_coders(document)
    return {
        "document": document.pk,
        "state": services.adjudication_state(document, len(coders)),
        "adjudication_started_at": document.adjudication_started_at,
        "adjudicated_at": document.adjudicated_at,
    }


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# -- input --------------------------------------------------------------------------------------


class NoteField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            allow_blank=True,
            max_length=services.NOTE_LIMIT,
            help_text="why: kept with the decision",
            **kwargs,
        )


class AcceptSerializer(serializers.Serializer):
    annotations = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=1,
        help_text="ids of coders' spans to accept; identical spans of other coders join the "
        "provenance",
    )
    note = NoteField()
    replace = serializers.BooleanField(
        required=False,
        default=False,
        help_text="delete alive gold spans the accepted ones overlap, instead of refusing",
    )


class RejectSerializer(serializers.Serializer):
    annotations = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    note = NoteField()


class AddSerializer(serializers.Serializer):
    label = serializers.CharField()
    start = serializers.IntegerField(help_text="code-point offset, inclusive")
    end = serializers.IntegerField(help_text="code-point offset, exclusive")
    text = serializers.CharField(
        trim_whitespace=False, allow_blank=True, help_text="the quote: document.text[start:end]"
    )
    attributes = serializers.DictField(required=False)
    note = NoteField()
    based_on = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="coders' span ids this is an edited version of (origin 'edited')",
    )


class EditSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="the version the client last read")
    label = serializers.CharField(required=False)
    start = serializers.IntegerField(required=False)
    end = serializers.IntegerField(required=False)
    text = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True)
    attributes = serializers.DictField(required=False, help_text="replaces all attributes")
    note = serializers.CharField(required=False, allow_blank=True, max_length=services.NOTE_LIMIT)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="the version the client last read")


class NoteSerializer(serializers.Serializer):
    note = NoteField()


class MajoritySerializer(serializers.Serializer):
    threshold = serializers.CharField(
        help_text="share of the coders, above one half: '2/3', '0.75', '1'"
    )
    note = NoteField()


class RelationAddSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="a relation type name from the project's codebook")
    source = serializers.IntegerField(help_text="a gold span id of this document")
    target = serializers.IntegerField(help_text="a gold span id of this document")
    note = NoteField()


class RelationAcceptSerializer(serializers.Serializer):
    relations = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=1,
        help_text="ids of coders' links whose two ends are in the gold",
    )
    note = NoteField()


# -- views --------------------------------------------------------------------------------------


def _spans_response(request, document, spans, code=status.HTTP_201_CREATED) -> Response:
    spans = list(GoldSpan.objects.filter(pk__in=[s.pk for s in spans]).select_related("created_by"))
    return Response(_Shown(request, document).spans(spans), status=code)


@extend_schema(tags=["gold"])
class DocumentGold(APIView):
    @extend_schema(responses={200: GoldLayerSerializer, 404: NOT_FOUND})
    def get(self, request, document_id: int):
        """The document's gold layer: alive spans and links with their provenance (the
        coders' spans and links they came from, the decision's note), and the rejections."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        shown = _Shown(request, document)
        spans = list(GoldSpan.objects.for_document(document).alive().select_related("created_by"))
        relations = list(
            GoldRelation.objects.for_document(document).alive().select_related("created_by")
        )
        rejections = [
            {"id": r.pk, "annotations": r.annotations, "note": r.note}
            for r in document.gold_rejections.alive()
        ]
        return Response(
            {
                **_state(document),
                "spans": shown.spans(spans),
                "relations": shown.relations(relations),
                "rejections": rejections,
            }
        )


@extend_schema(tags=["gold"])
class GoldAccept(APIView):
    @extend_schema(
        request=AcceptSerializer,
        responses={201: GoldSpanSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """Accept coders' spans into the gold, with their attributes and their links whose
        other end is in the gold."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        data = _validated(AcceptSerializer, request.data)
        spans = services.gold_accept(
            adjudicator=request.user,
            document=document,
            annotation_ids=data["annotations"],
            note=data.get("note", ""),
            replace=data["replace"],
        )
        return _spans_response(request, document, spans)


@extend_schema(tags=["gold"])
class GoldReject(APIView):
    @extend_schema(
        request=RejectSerializer,
        responses={201: GoldRejectionSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """Decide that coders' spans do not belong in the gold (gold spans that came from
        them are removed)."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        data = _validated(RejectSerializer, request.data)
        rejection = services.gold_reject(
            adjudicator=request.user,
            document=document,
            annotation_ids=data["annotations"],
            note=data.get("note", ""),
        )
        body = {"id": rejection.pk, "annotations": rejection.annotations, "note": rejection.note}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["gold"])
class GoldAdd(APIView):
    @extend_schema(
        request=AddSerializer,
        responses={201: GoldSpanSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """A gold span nobody made, or a coder's version edited (``based_on``)."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        data = _validated(AddSerializer, request.data)
        span = services.gold_add(
            adjudicator=request.user,
            document=document,
            label=data["label"],
            start=data["start"],
            end=data["end"],
            text=data["text"],
            attributes=data.get("attributes"),
            note=data.get("note", ""),
            based_on=data.get("based_on") or (),
        )
        return Response(_Shown(request, document).spans([span])[0], status=status.HTTP_201_CREATED)


@extend_schema(tags=["gold"])
class GoldAcceptAgreed(APIView):
    @extend_schema(
        request=NoteSerializer,
        responses={201: GoldSpanSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """Accept every span all coders made identically, in units not yet decided."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        data = _validated(NoteSerializer, request.data)
        spans = services.gold_accept_agreed(
            adjudicator=request.user, document=document, note=data.get("note", "")
        )
        return _spans_response(request, document, spans)


@extend_schema(tags=["gold"])
class GoldAcceptMajority(APIView):
    @extend_schema(
        request=MajoritySerializer,
        responses={201: GoldSpanSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """Accept every span made identically by at least ``threshold`` of the coders, in
        units not yet decided."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        data = _validated(MajoritySerializer, request.data)
        spans = services.gold_accept_majority(
            adjudicator=request.user,
            document=document,
            threshold=data["threshold"],
            note=data.get("note", ""),
        )
        return _spans_response(request, document, spans)


@extend_schema(tags=["gold"])
class GoldSpanEdit(APIView):
    @extend_schema(
        request=EditSerializer,
        responses={200: GoldSpanSerializer, 400: BAD_INPUT, 404: NOT_FOUND, 409: STALE},
    )
    def post(self, request, gold_span_id: int):
        """Change a gold span; refused with 409, changing nothing, unless ``version`` is
        current. ``attributes``, when sent, replaces them all."""
        span = access.get_gold_span_for_adjudicator(request.user, gold_span_id)
        data = _validated(EditSerializer, request.data)
        services.gold_edit(adjudicator=request.user, gold_span=span, **data)
        return _spans_response(request, span.document, [span], code=status.HTTP_200_OK)


@extend_schema(tags=["gold"])
class GoldSpanDelete(APIView):
    @extend_schema(
        request=VersionSerializer,
        responses={204: None, 400: BAD_INPUT, 404: NOT_FOUND, 409: STALE},
    )
    def post(self, request, gold_span_id: int):
        """Take a span (and its links) out of the gold, if ``version`` is current."""
        span = access.get_gold_span_for_adjudicator(request.user, gold_span_id)
        data = _validated(VersionSerializer, request.data)
        services.gold_delete(adjudicator=request.user, gold_span=span, version=data["version"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["gold"])
class GoldRelationAdd(APIView):
    @extend_schema(
        request=RelationAddSerializer,
        responses={201: GoldRelationSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """Link two gold spans of the document."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        data = _validated(RelationAddSerializer, request.data)
        relation = services.gold_relation_add(
            adjudicator=request.user,
            document=document,
            type=data["type"],
            source_id=data["source"],
            target_id=data["target"],
            note=data.get("note", ""),
        )
        body = _Shown(request, document).relations([relation])[0]
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["gold"])
class GoldRelationAccept(APIView):
    @extend_schema(
        request=RelationAcceptSerializer,
        responses={201: GoldRelationSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """Accept coders' links into the gold, between the gold spans their ends went to."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        data = _validated(RelationAcceptSerializer, request.data)
        relations = services.gold_relation_accept(
            adjudicator=request.user,
            document=document,
            relation_ids=data["relations"],
            note=data.get("note", ""),
        )
        body = _Shown(request, document).relations(relations)
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["gold"])
class GoldRelationDelete(APIView):
    @extend_schema(request=None, responses={204: None, 404: NOT_FOUND})
    def post(self, request, gold_relation_id: int):
        """Take a link out of the gold."""
        relation = access.get_gold_relation_for_adjudicator(request.user, gold_relation_id)
        services.gold_relation_delete(adjudicator=request.user, gold_relation=relation)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["gold"])
class AdjudicationStart(APIView):
    @extend_schema(
        request=None,
        responses={200: AdjudicationStateSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """Start adjudicating: the coders can no longer reopen their submissions. Any
        decision starts it too."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        services.adjudication_start(adjudicator=request.user, document=document)
        return Response(_state(document))


@extend_schema(tags=["gold"])
class AdjudicationComplete(APIView):
    @extend_schema(
        request=NoteSerializer,
        responses={200: AdjudicationStateSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """The gold is final: the document becomes "adjudicated" (refused while a unit of
        coders' spans is still undecided)."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        data = _validated(NoteSerializer, request.data)
        services.adjudication_complete(
            adjudicator=request.user, document=document, note=data.get("note", "")
        )
        return Response(_state(document))


@extend_schema(tags=["gold"])
class AdjudicationReopen(APIView):
    @extend_schema(
        request=NoteSerializer,
        responses={200: AdjudicationStateSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, document_id: int):
        """Open an adjudicated document's gold for changes again (audited, with the note)."""
        document = access.get_document_for_adjudicator(request.user, document_id)
        data = _validated(NoteSerializer, request.data)
        services.adjudication_reopen(
            adjudicator=request.user, document=document, note=data.get("note", "")
        )
        return Response(_state(document))
