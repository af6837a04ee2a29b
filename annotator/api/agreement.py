"""`GET /api/v1/projects/{id}/agreement/`: the agreement report as JSON, for managers and
adjudicators (anyone else: 404, as on the page).

The same filters as the page, as query parameters; the same report: a stored snapshot when
the data has not changed since it was computed, else computed during the request.
"""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access, reports
from annotator.codebook import get_codebook
from annotator.models import Role

REPORT_ROLES = {Role.MANAGER, Role.ADJUDICATOR}
NOT_FOUND = OpenApiResponse(
    description="no such project, or you are not its manager or adjudicator"
)
BAD_INPUT = OpenApiResponse(description="{parameter: [messages]} naming each parameter at fault")


class AgreementQuerySerializer(serializers.Serializer):
    label = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="label names (repeat); all if none"
    )
    coder = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="user ids (repeat); all if none"
    )
    documents = serializers.CharField(
        required=False, allow_blank=True, help_text="comma-separated document ids"
    )
    published_from = serializers.DateField(required=False)
    published_to = serializers.DateField(required=False)
    sample = serializers.IntegerField(
        required=False, min_value=1, help_text="a random sample of this many counted documents"
    )
    seed = serializers.IntegerField(required=False, min_value=0, default=0)
    codebook_version = serializers.IntegerField(required=False, min_value=1)

    def validate_documents(self, value: str) -> tuple[int, ...]:
        try:
            return tuple(int(part) for part in re.split(r"[\s,]+", value) if part)
        except ValueError:
            raise serializers.ValidationError("document ids are whole numbers") from None

    def validate(self, data):
        start, end = data.get("published_from"), data.get("published_to")
        if start and end and start > end:
            raise serializers.ValidationError({"published_to": ["the range ends before it starts"]})
        known = set(self.context["labels"])
        unknown = sorted(set(data.get("label", ())) - known)
        if unknown:
            raise serializers.ValidationError({"label": [f"unknown label: {', '.join(unknown)}"]})
        return data

    def filters(self) -> reports.AgreementFilters:
        data = self.validated_data
        return reports.AgreementFilters(
            labels=tuple(data.get("label", ())),
            coders=tuple(data.get("coder", ())),
            document_ids=data.get("documents", ()),
            published_from=data.get("published_from"),
            published_to=data.get("published_to"),
            sample=data.get("sample"),
            seed=data.get("seed", 0),
            codebook_version=data.get("codebook_version"),
        )


class AgreementCoderSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="the pseudonym the report uses (Coder A, Coder B, ...)")
    name = serializers.CharField(help_text="the username, or the pseudonym if names are hidden")
    id = serializers.IntegerField(allow_null=True, help_text="user id, null if names are hidden")


class AgreementSerializer(serializers.Serializer):
    """The report (documents for the schema; the view returns the stored payload)."""

    payload_version = serializers.IntegerField()
    project = serializers.IntegerField()
    filters = serializers.DictField()
    mode = serializers.ChoiceField(
        choices=["submitted", "all annotations"],
        help_text="submitted: only documents submitted by two or more coders count; "
        "all annotations: the project uses no assignments yet",
    )
    reason = serializers.CharField(allow_null=True, help_text="why there are no figures")
    coders = AgreementCoderSerializer(many=True)
    label_counts = serializers.ListField(child=serializers.DictField())
    document_titles = serializers.DictField(child=serializers.CharField())
    report = serializers.DictField(
        help_text="counts, overall, labels, matrices, confusion, attributes, relations, "
        "documents, coders; every value beside its counts, null with a reason when undefined"
    )
    trend = serializers.ListField(child=serializers.DictField(), help_text="per ISO week")
    gold = serializers.DictField(
        allow_null=True,
        help_text="each coder against the gold of the adjudicated documents they coded: "
        "documents, reason (why there is nothing, else null), coders [{key, id, username, "
        "documents, rows [{label (null: all labels), exact, overlap: {precision, recall, f1, "
        "tp, n_reference (gold spans), n_predicted (the coder's)}}]}]; null for those who may "
        "not see coder names",
    )
    computed_at = serializers.DateTimeField()
    compute_seconds = serializers.FloatField()


@extend_schema(tags=["agreement"])
class ProjectAgreement(APIView):
    @extend_schema(
        parameters=[AgreementQuerySerializer],
        responses={200: AgreementSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def get(self, request, project_id: int):
        """Inter-coder agreement of the project's submitted work, with the page's filters."""
        project = access.get_project_for_user(request.user, project_id, roles=REPORT_ROLES)
        labels = [label.name for label in get_codebook(project).labels]
        query = AgreementQuerySerializer(data=request.query_params, context={"labels": labels})
        query.is_valid(raise_exception=True)
        snapshot = reports.snapshot_for(project, query.filters(), background=False)
        if not snapshot.is_ready:
            raise exceptions.APIException(f"the report could not be computed: {snapshot.error}")
        show = reports.shows_coder_names(request.user, project)
        names = reports.coder_names(snapshot.payload, show_names=show)
        gold = reports.gold_report(project, query.filters()) if show else None
        return Response(
            {**reports.public_payload(snapshot.payload, names, show_names=show), "gold": gold}
        )
