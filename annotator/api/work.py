"""The API of the work queue: take the next document, list assignments, submit, reopen,
release. Thin views over `access` and `services.assignments`, as in views.py; a refusal by an
assignment's state is a 409 (errors.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access, services
from annotator.api import serializers as s
from annotator.api.views import NOT_FOUND, _validated
from annotator.models import Role

STATE_REFUSES = OpenApiResponse(
    s.DetailSerializer, description="the assignment's state does not allow it; `detail` says why"
)
NOT_YOURS = OpenApiResponse(description="a manager acting on another coder's assignment")


def _fetched(assignments):
    return assignments.select_related("document", "coder", "assigned_by").defer(
        "document__text", "document__metadata"
    )


@extend_schema(tags=["assignments"])
class NextAssignment(APIView):
    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(
                s.AssignmentSerializer,
                description="your open assignment in the project if you have one, else a "
                "newly taken document (automatic mode)",
            ),
            204: OpenApiResponse(description="nothing left for you to code"),
            404: NOT_FOUND,
        },
    )
    def post(self, request, project_id: int):
        """The next document to code (coders): the one you have open, or the next one in the
        project's order that still needs coders and that you never had. In manual mode only
        what a manager assigned you."""
        project = access.get_project_for_user(request.user, project_id, roles={Role.CODER})
        assignment = services.assignment_next(project=project, coder=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        assignment = _fetched(access.assignments_for(request.user, project)).get(pk=assignment.pk)
        return Response(s.AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["assignments"])
class ProjectAssignments(generics.ListAPIView):
    """The project's assignments: your own as a coder, everyone's as a manager (who may filter
    by coder), newest first."""

    serializer_class = s.AssignmentSerializer

    @extend_schema(
        parameters=[s.AssignmentFilterSerializer],
        responses={
            200: s.AssignmentSerializer(many=True),
            400: OpenApiResponse(description="an unknown state"),
            404: NOT_FOUND,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        user = self.request.user
        project = access.get_project_for_user(user, self.kwargs["project_id"])
        filters = _validated(s.AssignmentFilterSerializer, self.request.query_params)
        assignments = access.assignments_for(user, project)
        if "coder" in filters:
            assignments = assignments.filter(coder__username=filters["coder"])
        if "state" in filters:
            assignments = assignments.filter(state=filters["state"])
        return _fetched(assignments).order_by("-created", "-id")


@extend_schema(tags=["assignments"])
class AssignmentSubmit(APIView):
    @extend_schema(
        request=None,
        responses={200: s.SubmittedSerializer, 403: NOT_YOURS, 404: NOT_FOUND, 409: STATE_REFUSES},
    )
    def post(self, request, assignment_id: int):
        """Submit your assignment: the document becomes read-only for you until you reopen it.
        The pre-submit checks' warnings come back with it (they do not stop the submission)."""
        assignment = access.get_assignment_for_coder(request.user, assignment_id)
        warnings = services.assignment_warnings(assignment=assignment)
        assignment = services.assignment_submit(assignment=assignment, coder=request.user)
        body = {"assignment": assignment, "warnings": warnings}
        return Response(s.SubmittedSerializer(body).data)


@extend_schema(tags=["assignments"])
class AssignmentReopen(APIView):
    @extend_schema(
        request=None,
        responses={200: s.AssignmentSerializer, 403: NOT_YOURS, 404: NOT_FOUND, 409: STATE_REFUSES},
    )
    def post(self, request, assignment_id: int):
        """Reopen your submitted assignment to change it again, until adjudication of the
        document starts."""
        assignment = access.get_assignment_for_coder(request.user, assignment_id)
        assignment = services.assignment_reopen(assignment=assignment, coder=request.user)
        return Response(s.AssignmentSerializer(assignment).data)


@extend_schema(tags=["assignments"])
class AssignmentRelease(APIView):
    @extend_schema(
        request=None,
        responses={200: s.AssignmentSerializer, 404: NOT_FOUND, 409: STATE_REFUSES},
    )
    def post(self, request, assignment_id: int):
        """Give an open assignment back to the pool (a manager, or the coder their own). The
        coder's spans stay, visible to managers and adjudicators."""
        assignment = access.get_assignment_for_user(request.user, assignment_id)
        assignment = services.assignment_release(assignment=assignment, user=request.user)
        return Response(s.AssignmentSerializer(assignment).data)
