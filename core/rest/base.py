"""What every API view shares, so that hostile input is refused in one place with a 400
naming what is wrong, never a 500 and never stored:

- one JSON parser with a nesting limit (a 100,000-deep array is refused, not a RecursionError);
- no NUL character anywhere in the query string or the body (PostgreSQL can neither store
  nor compare one): refused with the parameter or field path named;
- no query parameter value longer than MAX_QUERY_VALUE characters;
- an id in a path is at most 18 digits (IdConverter, `<id:pk>`, registered below);
- the body of a write is a JSON object (or multipart with a JSON object in `payload`):
  `json_object(request)`, and `reject_unknown(...)` names the fields an endpoint does not take.

Every view under /api/ derives from APIView or ViewSet below (or mixes InputGuard in);
tests/test_hostile_input.py checks that none is left out."""
import json

from django.urls import register_converter
from drf_spectacular.types import DJANGO_PATH_CONVERTER_MAPPING, OpenApiTypes

from django.utils.translation import gettext as _
from rest_framework import views, viewsets
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from core.bounds import NULL_CHARACTER_MESSAGE, unknown_field_errors

#: the deepest nesting of arrays and objects a JSON body may have (a step's payload needs 4)
MAX_JSON_DEPTH = 20
#: the longest value of a query parameter (a filter is a word, a number or a date)
MAX_QUERY_VALUE = 200


class IdConverter:
    """`<id:pk>` in an API path: a database id, at most 18 digits. A longer number is no id
    (a 404), never an integer too large for the database (an OverflowError, a 500)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


# registered when the REST layer is imported, before any router builds its paths
# (lookup_value_converter = "id"), and described in the OpenAPI schema as the integer it is
register_converter(IdConverter, "id")
DJANGO_PATH_CONVERTER_MAPPING.setdefault("id", OpenApiTypes.INT)


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser (strict: no NaN or Infinity) with a nesting limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply (at most %(depth)s levels).")
                             % {"depth": MAX_JSON_DEPTH})
        if _depth(data) > MAX_JSON_DEPTH:
            raise ParseError(_("The JSON is nested too deeply (at most %(depth)s levels).")
                             % {"depth": MAX_JSON_DEPTH})
        return data


def _depth(data):
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _nul_paths(value, path=""):
    """The paths (`lines[0].product`) of every string or key holding a NUL character."""
    found, stack = [], [(value, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(path or "body")
        elif isinstance(value, dict):
            for key, child in value.items():
                key_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and "\x00" in key:
                    found.append(key_path.replace("\x00", "\\0"))
                    continue
                stack.append((child, key_path))
        elif isinstance(value, (list, tuple)):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(value))
    return sorted(found)


def check_query(params):
    """400 naming the parameters that hold a NUL character or are too long."""
    errors = {}
    for name in params:
        for value in params.getlist(name):
            if "\x00" in name or "\x00" in value:
                errors[name.replace("\x00", "\\0")] = [str(NULL_CHARACTER_MESSAGE)]
            elif len(value) > MAX_QUERY_VALUE:
                errors[name] = [_("At most %(n)s characters.") % {"n": MAX_QUERY_VALUE}]
    if errors:
        raise ValidationError(errors)


def check_body(data):
    """400 naming every field of the body (nested: `data.lines[0].product`) holding a NUL."""
    if hasattr(data, "lists"):  # a multipart or form QueryDict: each key with its values
        data = {key: values for key, values in data.lists()}
    paths = _nul_paths(data)
    if paths:
        raise ValidationError({path: [str(NULL_CHARACTER_MESSAGE)] for path in paths})


class InputGuard:
    # Mixed into every API view: the parsers above, then (after authentication, permissions and
    # throttling) the query string and body checks. (No docstring: the schema would show it.)

    parser_classes = [BoundedJSONParser, MultiPartParser, FormParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        check_query(request.query_params)
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            check_body(request.data)


class APIView(InputGuard, views.APIView):
    pass


class ViewSet(InputGuard, viewsets.ViewSet):
    pass


def json_object(request, *, allow_multipart=True):
    """The body as a dict, and the uploaded files (None for JSON): a JSON object, or
    multipart with that object in a `payload` part and files beside it. Anything else —
    an array, a string, a number — is a 400, never a TypeError."""
    if allow_multipart and request.content_type.startswith("multipart/"):
        raw = request.data.get("payload") or "{}"
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as error:
            raise ValidationError({"payload": [_("Not valid JSON: %(error)s") % {"error": error}]})
        if _depth(data) > MAX_JSON_DEPTH:
            raise ValidationError({"payload": [_("The JSON is nested too deeply (at most %(depth)s levels).")
                                               % {"depth": MAX_JSON_DEPTH}]})
        check_body(data)
        if not isinstance(data, dict):
            raise ValidationError({"payload": [_("Send a JSON object.")]})
        unexpected = sorted(set(request.data) - set(request.FILES) - {"payload"})
        if unexpected:
            raise ValidationError(unknown_field_errors(unexpected, set()))
        return data, request.FILES
    data = request.data
    if hasattr(data, "dict"):  # a form-encoded body: single values
        data = data.dict()
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    return dict(data), None


def reject_unknown(data, known, prefix=""):
    """400 naming each key of `data` that is not in `known`."""
    errors = unknown_field_errors(data, set(known), prefix=prefix)
    if errors:
        raise ValidationError(errors)
