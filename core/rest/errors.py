"""One error shape for every API failure: {"detail": "...", "errors": {field: [...]}}.
Domain errors map to 400 (invalid input), 403 (not permitted), 409 (wrong state); a
unique constraint lost to a concurrent request is a 409 naming the fields (core.errors.
Duplicate); a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, too many fields or files a
400, and a model's own validation a 400 naming the fields — JSON, never Django's HTML page."""
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as ModelValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from core.errors import DomainError, Duplicate, WrongState


def _domain_response(exc):
    body = {"detail": exc.message}
    if exc.field_errors:
        body["errors"] = exc.field_errors
    if isinstance(exc, WrongState) and exc.current_state:
        body["current_state"] = exc.current_state
    return Response(body, status=exc.status_code)


def exception_handler(exc, context):
    if isinstance(exc, IntegrityError):
        duplicate = Duplicate.from_integrity_error(exc)
        if duplicate is None:
            return None  # not a lost race but a bug: let it be a 500 and be seen
        exc = duplicate
    if isinstance(exc, DomainError):
        return _domain_response(exc)
    if isinstance(exc, RequestDataTooBig):
        limit = _("The request body is too large: at most %(mb)s MB.") % {
            "mb": round(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024), 1)}
        return Response({"detail": limit, "errors": {"body": [limit]}},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        message = _("Too many fields or files in one request.")
        return Response({"detail": message, "errors": {"body": [message]}}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ModelValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        errors = {("non_field_errors" if k == "__all__" else k): [str(m) for m in v] for k, v in errors.items()}
        return Response({"detail": _("Please correct the errors below."), "errors": errors},
                        status=status.HTTP_400_BAD_REQUEST)
    response = drf_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": "Invalid input.", "errors": errors}
    elif response is not None and isinstance(exc, ParseError):
        response.data = {"detail": response.data.get("detail"), "errors": {"body": [response.data.get("detail")]}}
    return response
