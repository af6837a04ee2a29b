"""Imports and exports over the API, through the same services as the pages and the commands.

`POST /api/v1/projects/{id}/imports/` (managers): multipart with `file` (repeatable), `format`
and `options` (a JSON object). 201 with the summary when everything was imported; 400 with
every problem (file, line, field, message, kind) when nothing was; 200 for a dry run; 413 for
a file over the upload limit.

`GET /api/v1/projects/{id}/export/?format=&layer=` (managers and adjudicators): the file,
streamed. Coders and outsiders get a 404 for both.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access
from annotator.models import Role
from annotator.services import exports, imports

MANAGERS_ONLY = OpenApiResponse(
    description="no such project, or you do not manage it (both look the same)"
)
SEE_ALL_ONLY = OpenApiResponse(
    description="no such project, or you neither manage nor adjudicate it (both look the same)"
)


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="the file to import (repeat the part for several)")
    format = serializers.ChoiceField(choices=list(imports.FORMATS.items()))
    options = serializers.JSONField(
        required=False,
        help_text="a JSON object: on_duplicate (skip|update), user_map ({file name: username}), "
        "create_coders, offsets (utf16|codepoints, doccano), user (doccano: whose spans; brat: "
        "the coder, empty for gold), text_key, text_column, id_column, metadata_columns, "
        "delimiter (CSV), discontinuous (error|split, brat), dry_run",
    )


class ImportErrorSerializer(serializers.Serializer):
    file = serializers.CharField()
    line = serializers.IntegerField(allow_null=True, help_text="1-based; null for a whole file")
    field = serializers.CharField(help_text="where in the record, e.g. spans[2].label")
    message = serializers.CharField()
    kind = serializers.CharField(help_text="bad_json, missing_text, quote_mismatch, ...")
    value = serializers.JSONField(allow_null=True, help_text="the offending value, shortened")


class ImportResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    written = serializers.BooleanField(help_text="false for a dry run or when anything is wrong")
    summary = serializers.DictField(
        help_text="counts (documents_read, documents_created, documents_updated, "
        "duplicates_skipped, spans, relations, gold_spans, ...), duplicates, warnings, and "
        "samples: a few spans with their text"
    )
    errors = ImportErrorSerializer(many=True)


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(exports.EXPORT_FORMATS), default="jsonl")
    layer = serializers.CharField(
        default=exports.GOLD, help_text="gold, all, or a coder's username (coder-A ... when hidden)"
    )
    include_unadjudicated = serializers.BooleanField(default=False)
    guard_formulas = serializers.BooleanField(default=False, help_text="claims-csv only")


class _NoFormatOverride(DefaultContentNegotiation):
    """`format` names the export's format here, not the API's renderer (DRF's default reading
    of that query parameter)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(tags=["imports and exports"])
class ProjectImports(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: ImportResultSerializer,
            201: ImportResultSerializer,
            400: ImportResultSerializer,
            404: MANAGERS_ONLY,
            413: ImportResultSerializer,
        },
    )
    def post(self, request, project_id: int):
        """Import documents (and annotations) from a file: everything, or nothing and every
        problem with its file, line and field."""
        project = access.get_project_for_user(request.user, project_id, roles={Role.MANAGER})
        files = request.FILES.getlist("file")
        body = ImportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = imports.documents_import(
            project=project,
            user=request.user,
            source=files,
            format=body.validated_data["format"],
            options=body.validated_data.get("options") or {},
        )
        if result.written:
            code = status.HTTP_201_CREATED
        elif result.ok:
            code = status.HTTP_200_OK
        elif any(e.kind == imports.TOO_LARGE for e in result.errors):
            code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        else:
            code = status.HTTP_400_BAD_REQUEST
        return Response(result.as_dict(), status=code)


@extend_schema(tags=["imports and exports"])
class ProjectExport(APIView):
    content_negotiation_class = _NoFormatOverride

    @extend_schema(
        parameters=[ExportQuerySerializer],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="the file, streamed: JSONL, CoNLL, a brat zip, spaCy JSONL or CSV",
            ),
            400: OpenApiResponse(description="{format|layer: [messages]}, e.g. nothing to export"),
            404: SEE_ALL_ONLY,
        },
    )
    def get(self, request, project_id: int):
        """Export the project's documents with one layer (gold, all coders, or one coder)."""
        project = access.get_project_for_adjudicator(request.user, project_id)
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        export = exports.documents_export(project=project, **query.validated_data)
        response = StreamingHttpResponse(export.chunks(), content_type=export.content_type)
        response["Content-Disposition"] = content_disposition_header(True, export.filename)
        response["Cache-Control"] = "private, no-store"
        return response
