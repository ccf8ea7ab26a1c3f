"""One error shape for every API failure: {"detail": "...", "errors": {field: [...]}}.
Domain errors map to 400 (invalid input), 403 (not permitted), 409 (wrong state)."""
from rest_framework.exceptions import ValidationError
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
    response = drf_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": "Invalid input.", "errors": errors}
    return response
