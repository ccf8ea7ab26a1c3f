"""DRF exception handler that also answers domain errors: 400 with field errors,
403 not permitted, 409 wrong state."""
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from core.errors import DomainError, WrongState


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"detail": exc.message}
        if exc.field_errors:
            body["errors"] = exc.field_errors
        if isinstance(exc, WrongState) and exc.current_state:
            body["current_state"] = exc.current_state
        return Response(body, status=exc.status_code)
    return drf_handler(exc, context)
