"""The manager's API: a project's members, progress and history.

Managers only: anyone else gets a 404, as on the HTML screens (annotator/views/manage.py).
Writes go through the same services (annotator.services.projects); their ValidationError
becomes a 400 in errors.py.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access
from annotator.api.views import BAD_INPUT, NOT_FOUND, _validated
from annotator.models import AuditEvent, Project, Role
from annotator.services import projects as services

MANAGERS_ONLY = OpenApiResponse(
    description="no such project, or you do not manage it (both look the same)"
)


def _managed(request, project_id: int) -> Project:
    return access.get_project_for_user(request.user, project_id, roles={Role.MANAGER})


# -- Serializers -----------------------------------------------------------------------------


class MemberSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))


class MemberAddSerializer(serializers.Serializer):
    """Shapes only: the service checks that the user exists and the roles are roles."""

    username = serializers.CharField(help_text="an existing account's username")
    roles = serializers.ListField(
        child=serializers.CharField(),
        help_text="one or more of manager, adjudicator, coder; roles already held are kept",
    )


class MemberRemoveSerializer(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=Role.choices,
        required=False,
        help_text="take only this role away; without it, every role (the member leaves)",
    )


class DocumentCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    needs_coders = serializers.IntegerField(help_text="fewer live coders than k")
    in_progress = serializers.IntegerField(help_text="k live coders, fewer than k submitted")
    fully_coded = serializers.IntegerField(help_text="k coders submitted")
    adjudicated = serializers.IntegerField(help_text="adjudication has started")


class CoderProgressSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    is_member = serializers.BooleanField(help_text="false for a coder since removed")
    assigned = serializers.IntegerField(help_text="live assignments, whatever their state")
    in_progress = serializers.IntegerField()
    submitted = serializers.IntegerField()
    annotations = serializers.IntegerField(help_text="spans not deleted")
    median_active_minutes = serializers.FloatField(
        allow_null=True,
        help_text="median active time per submitted document",
    )


class DayCountSerializer(serializers.Serializer):
    day = serializers.DateField()
    submitted = serializers.IntegerField()


class ProgressSerializer(serializers.Serializer):
    overlap_k = serializers.IntegerField()
    documents = DocumentCountsSerializer()
    coders = CoderProgressSerializer(many=True)
    throughput = DayCountSerializer(many=True, help_text="submissions per day, last 30 days")


class AuditEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    before = serializers.JSONField(allow_null=True, read_only=True)
    after = serializers.JSONField(allow_null=True, read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "user_id",
            "user",
            "action",
            "object_type",
            "object_id",
            "document",
            "before",
            "after",
            "undone",
        ]
        read_only_fields = fields


class HistoryFilterSerializer(serializers.Serializer):
    document = serializers.IntegerField(required=False, help_text="only this document's events")
    coder = serializers.IntegerField(required=False, help_text="only what this user did")


# -- Views -----------------------------------------------------------------------------------


def _members(project: Project) -> list[dict]:
    members: dict[int, dict] = {}
    for user_id, username, role in project.memberships.order_by(
        "user__username", "role"
    ).values_list("user_id", "user__username", "role"):
        members.setdefault(user_id, {"user_id": user_id, "username": username, "roles": []})
        members[user_id]["roles"].append(role)
    return list(members.values())


@extend_schema(tags=["members"])
class ProjectMembers(APIView):
    @extend_schema(responses={200: MemberSerializer(many=True), 404: MANAGERS_ONLY})
    def get(self, request, project_id: int):
        """The project's members and their roles (managers only)."""
        project = _managed(request, project_id)
        return Response(MemberSerializer(_members(project), many=True).data)

    @extend_schema(
        request=MemberAddSerializer,
        responses={201: MemberSerializer, 400: BAD_INPUT, 404: MANAGERS_ONLY},
    )
    def post(self, request, project_id: int):
        """Give an existing account one or more roles in the project (managers only)."""
        project = _managed(request, project_id)
        data = _validated(MemberAddSerializer, request.data)
        memberships = services.membership_add(
            project=project, username=data["username"], roles=data["roles"], by=request.user
        )
        user = memberships[0].user
        member = {
            "user_id": user.pk,
            "username": user.get_username(),
            "roles": [m.role for m in memberships],
        }
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["members"])
class ProjectMember(APIView):
    @extend_schema(
        parameters=[MemberRemoveSerializer],
        responses={
            204: None,
            400: OpenApiResponse(description="refused: e.g. the project's last manager"),
            404: NOT_FOUND,
        },
    )
    def delete(self, request, project_id: int, user_id: int):
        """Take a role, or every role, from a member (managers only). The last manager cannot
        be removed; a coder's work stays, their open assignments return to the pool."""
        project = _managed(request, project_id)
        role = _validated(MemberRemoveSerializer, request.query_params).get("role")
        members = get_user_model().objects.filter(memberships__project=project).distinct()
        member = get_object_or_404(members, pk=user_id)
        services.membership_remove(project=project, user=member, role=role, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["progress"])
class ProjectProgress(APIView):
    @extend_schema(responses={200: ProgressSerializer, 404: MANAGERS_ONLY})
    def get(self, request, project_id: int):
        """Documents per state, each coder's work, and submissions per day (managers only)."""
        project = _managed(request, project_id)
        progress = services.project_progress(project)
        data = {
            "overlap_k": project.overlap_k,
            "documents": progress.documents,
            "coders": progress.coders,
            "throughput": progress.throughput,
        }
        return Response(ProgressSerializer(data).data)


@extend_schema(tags=["history"])
class ProjectHistory(generics.ListAPIView):
    """The project's audit trail, newest first: who changed what, when, the state before and
    after (managers only). Filter by document, by the user who acted, or both."""

    serializer_class = AuditEventSerializer

    @extend_schema(
        parameters=[HistoryFilterSerializer],
        responses={200: AuditEventSerializer(many=True), 400: BAD_INPUT, 404: MANAGERS_ONLY},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        project = _managed(self.request, self.kwargs["project_id"])
        filters = _validated(HistoryFilterSerializer, self.request.query_params)
        events = project.audit_events.select_related("user").order_by("-id")
        if "document" in filters:
            events = events.filter(document_id=filters["document"])
        if "coder" in filters:
            events = events.filter(user_id=filters["coder"])
        return events
