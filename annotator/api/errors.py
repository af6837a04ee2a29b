"""Turn the services' exceptions into API responses.

The services raise Django's ValidationError with a {field: [messages]} dict and ConflictError
for stale versions; the API answers 400 with that dict and 409 with the current version, so a
client can tell "fix your input" from "reload and try again". AssignmentStateError (a submitted
document is read-only, a document taken meanwhile) is a 409 with its message as `detail`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from annotator.services import AssignmentStateError, ConflictError


def exception_handler(exc, context):
    if isinstance(exc, ConflictError):
        set_rollback()
        body = {"detail": str(exc), "current_version": exc.current_version}
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, AssignmentStateError):
        # The request was fine; the assignment's state refuses it (submitted, released, the
        # document taken meanwhile): 409, as for a stale version.
        set_rollback()
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    return drf_exception_handler(exc, context)
