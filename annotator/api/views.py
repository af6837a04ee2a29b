"""The JSON API: thin views over `access` (who may see what) and `services` (every write).

Each method fetches through `access` (out of reach is a 404, as on the htmx screens), checks
the input's shape with a serializer, calls one service and serialises the result. The
services' ValidationError and ConflictError become 400 and 409 in `errors.py`.
"""

from __future__ import annotations

from axes.helpers import get_cool_off, get_lockout_message
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access, services
from annotator.api import serializers as s
from annotator.codebook import get_codebook
from annotator.models import Membership

BAD_INPUT = OpenApiResponse(description="{field: [messages]} naming each field at fault")
NOT_FOUND = OpenApiResponse(description="no such object within your reach")
STALE = OpenApiResponse(s.ConflictSerializer, description="the version sent is not current")
READ_ONLY = OpenApiResponse(
    s.DetailSerializer,
    description="your assignment refuses it: you submitted this document (reopen it first), "
    "or the document got its coders meanwhile",
)
STALE_OR_READ_ONLY = OpenApiResponse(
    s.ConflictSerializer,
    description="the version sent is not current; or your assignment refuses the change "
    "(`detail` says which, without current_version)",
)
MANAGERS_ONLY = "only the project's managers may add documents"


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _my_roles(user) -> Prefetch:
    """The user's own memberships, read by ProjectSerializer.roles."""
    mine = Membership.objects.filter(user_id=user.pk)
    return Prefetch("memberships", queryset=mine, to_attr="my_memberships")


# -- Authentication --------------------------------------------------------------------------


@extend_schema(tags=["auth"])
class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (`Authorization: Token <key>`)."""

    # The password is the credential here; a session must not make this a CSRF target.
    authentication_classes = ()

    @extend_schema(
        responses={
            200: s.TokenSerializer,
            400: BAD_INPUT,
            429: OpenApiResponse(description="locked out after repeated failed logins"),
        }
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes flags the request it refused (or just locked) and authenticate()
            # then returns None: say so rather than "unable to log in".
            if getattr(request, "axes_locked_out", False):
                cool_off = get_cool_off(request)
                wait = cool_off.total_seconds() if cool_off else None
                raise exceptions.Throttled(wait=wait, detail=str(get_lockout_message()))
            raise exceptions.ValidationError(serializer.errors)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


# -- Projects --------------------------------------------------------------------------------


@extend_schema(tags=["projects"])
class ProjectList(generics.ListAPIView):
    """The projects you are a member of, with your roles in each."""

    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        user = self.request.user
        return access.projects_for(user).prefetch_related(_my_roles(user))


@extend_schema(tags=["projects"])
class ProjectDetail(APIView):
    @extend_schema(responses={200: s.ProjectDetailSerializer, 404: NOT_FOUND})
    def get(self, request, project_id: int):
        """A project with its codebook (labels and their attributes, relation types) and its
        guidelines, for every member."""
        project = access.get_project_for_user(request.user, project_id)
        prefetch_related_objects([project], _my_roles(request.user))
        return Response(s.ProjectDetailSerializer(project).data)


# -- Documents -------------------------------------------------------------------------------


@extend_schema(tags=["documents"])
class ProjectDocuments(generics.ListAPIView):
    """The project's documents you may read, without their text, in coding order: all of them
    for managers and adjudicators; for a coder, those the coding screen lets them open (their
    assignments, and in automatic mode the documents that still need coders)."""

    serializer_class = s.DocumentSerializer

    def get_queryset(self):
        user = self.request.user
        project = access.get_project_for_user(user, self.kwargs["project_id"])
        return access.documents_readable(user, project).without_text()

    @extend_schema(
        request=s.DocumentCreateSerializer,
        responses={
            201: s.DocumentDetailSerializer,
            400: BAD_INPUT,
            403: OpenApiResponse(description="you are a member but not a manager"),
            404: NOT_FOUND,
        },
    )
    def post(self, request, project_id: int):
        """Add one document (managers only). CRLF becomes LF; nothing else is changed."""
        project = access.get_project_for_user(request.user, project_id)
        if not access.is_manager(request.user, project):
            raise exceptions.PermissionDenied(MANAGERS_ONLY)
        data = _validated(s.DocumentCreateSerializer, request.data)
        document = services.document_create(project=project, **data)
        return Response(s.DocumentDetailSerializer(document).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["documents"])
class DocumentDetail(APIView):
    @extend_schema(responses={200: s.DocumentDetailSerializer, 404: NOT_FOUND})
    def get(self, request, document_id: int):
        """A document with its text; offsets index into `text` by code point."""
        document = access.get_document_for_reader(request.user, document_id)
        return Response(s.DocumentDetailSerializer(document).data)


# -- Annotations -----------------------------------------------------------------------------


def _span_data(span) -> dict:
    codebook = get_codebook(span.document.project)
    names = {label.id: label.name for label in codebook.labels}
    return s.AnnotationSerializer(span, context={"label_names": names}).data


@extend_schema(tags=["annotations"])
class DocumentAnnotations(generics.ListAPIView):
    """The document's spans you may see: your own as a coder, every coder's as a manager or
    adjudicator."""

    serializer_class = s.AnnotationSerializer

    def get_queryset(self):
        user = self.request.user
        document = access.get_document_for_reader(user, self.kwargs["document_id"])
        self.document = document
        return access.visible_annotations(user, document)

    def list(self, request, *args, **kwargs):
        """AnnotationSerializer's fields, built from plain rows: a long document lists
        hundreds of spans per page, and model instances plus a serializer per span cost
        several times the query."""
        fields = ("pk", "document_id", "label_id", "start", "end", "text", "attributes")
        rows = self.paginate_queryset(
            self.get_queryset().values_list(*fields, "coder__username", "version")
        )
        names = {label.id: label.name for label in get_codebook(self.document.project).labels}
        data = [
            {
                "id": pk,
                "document": document_id,
                "label": names.get(label_id, "?"),
                "start": start,
                "end": end,
                "text": text,
                "attributes": attributes,
                "coder": coder,
                "version": version,
            }
            for pk, document_id, label_id, start, end, text, attributes, coder, version in rows
        ]
        return self.get_paginated_response(data)

    @extend_schema(
        request=s.AnnotationCreateSerializer,
        responses={
            201: s.AnnotationSerializer,
            200: OpenApiResponse(s.AnnotationSerializer, description="client_id seen before"),
            400: BAD_INPUT,
            404: NOT_FOUND,
            409: READ_ONLY,
        },
    )
    def post(self, request, document_id: int):
        """Create a span (coders only, through an open assignment; in automatic mode the first
        change to a document with room takes it). Retrying with the same client_id returns
        the first."""
        document, assignment = access.get_document_for_coding(request.user, document_id, write=True)
        data = _validated(s.AnnotationCreateSerializer, request.data)
        with transaction.atomic():
            services.assignment_take(document=document, coder=request.user, current=assignment)
            span, created = services.span_create(document=document, coder=request.user, **data)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(_span_data(span), status=code)


@extend_schema(tags=["annotations"])
class AnnotationDetail(APIView):
    @extend_schema(responses={200: s.AnnotationSerializer, 404: NOT_FOUND})
    def get(self, request, annotation_id: int):
        """One of your spans, or any coder's as a manager or adjudicator."""
        span = access.get_annotation_for_user(request.user, annotation_id)
        return Response(s.AnnotationSerializer(span).data)

    @extend_schema(
        request=s.AnnotationUpdateSerializer,
        responses={
            200: s.AnnotationSerializer,
            400: BAD_INPUT,
            404: NOT_FOUND,
            409: STALE_OR_READ_ONLY,
        },
    )
    def patch(self, request, annotation_id: int):
        """Change one of your spans; refused with 409, changing nothing, unless `version` is
        current and your assignment on the document is open. `attributes`, when sent,
        replaces them all."""
        span = access.get_annotation_for_coder(request.user, annotation_id)
        data = _validated(s.AnnotationUpdateSerializer, request.data)
        assignment = access.coding_assignment(request.user, span.document, write=True)
        with transaction.atomic():
            services.assignment_take(document=span.document, coder=request.user, current=assignment)
            services.span_update(annotation=span, coder=request.user, **data)
        return Response(_span_data(span))

    @extend_schema(
        parameters=[s.VersionSerializer],
        responses={204: None, 400: BAD_INPUT, 404: NOT_FOUND, 409: STALE_OR_READ_ONLY},
    )
    def delete(self, request, annotation_id: int):
        """Delete one of your spans and its links, if `version` is current and your
        assignment on the document is open."""
        span = access.get_annotation_for_coder(request.user, annotation_id)
        version = _validated(s.VersionSerializer, request.query_params)["version"]
        assignment = access.coding_assignment(request.user, span.document, write=True)
        with transaction.atomic():
            services.assignment_take(document=span.document, coder=request.user, current=assignment)
            services.span_delete(annotation=span, coder=request.user, version=version)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- Relations -------------------------------------------------------------------------------


@extend_schema(tags=["relations"])
class DocumentRelations(generics.ListAPIView):
    """The document's links you may see: your own as a coder, every coder's as a manager or
    adjudicator."""

    serializer_class = s.RelationSerializer

    def get_queryset(self):
        user = self.request.user
        document = access.get_document_for_reader(user, self.kwargs["document_id"])
        return access.visible_relations(user, document).select_related("type", "coder")

    @extend_schema(
        request=s.RelationCreateSerializer,
        responses={
            201: s.RelationSerializer,
            200: OpenApiResponse(s.RelationSerializer, description="client_id seen before"),
            400: BAD_INPUT,
            404: NOT_FOUND,
            409: READ_ONLY,
        },
    )
    def post(self, request, document_id: int):
        """Link two of your spans in this document (coders only, through an open assignment)."""
        document, assignment = access.get_document_for_coding(request.user, document_id, write=True)
        data = _validated(s.RelationCreateSerializer, request.data)
        with transaction.atomic():
            services.assignment_take(document=document, coder=request.user, current=assignment)
            relation, created = services.relation_create(
                document=document,
                coder=request.user,
                type=data["type"],
                source_id=data["source"],
                target_id=data["target"],
                client_id=data.get("client_id"),
            )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.RelationSerializer(relation).data, status=code)


@extend_schema(tags=["relations"])
class RelationDetail(APIView):
    @extend_schema(responses={204: None, 404: NOT_FOUND, 409: READ_ONLY})
    def delete(self, request, relation_id: int):
        """Delete one of your links (through an open assignment on its document)."""
        relation = access.get_relation_for_coder(request.user, relation_id)
        assignment = access.coding_assignment(request.user, relation.document, write=True)
        with transaction.atomic():
            services.assignment_take(
                document=relation.document, coder=request.user, current=assignment
            )
            services.relation_delete(relation=relation, coder=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
