"""Keyset (cursor) pagination for the lists that grow with the plant (tasks, notifications,
delegations): a page is "the next N rows after this one" in the list's own order, so page
500 costs what page 1 costs (no OFFSET), a row added meanwhile is neither skipped nor shown
twice, and nothing is ever silently cut: every page says whether more follow (`next`).

DRF's CursorPagination is not used because it orders by one field and cannot page over a
nullable key (a task's due date: tasks without one sort last) nor over "unread first"; this
one takes any ordering of fields, each ascending or descending with its NULLs first or last,
ending in the primary key.

    ORDER = Keyset("due", [Key("due_at", nulls="last"), Key("pk")])
    page = ORDER.page(queryset, request)      # the rows, in order
    {"results": ..., "next": page.next_url, "count": page.count}

The cursor is opaque to clients (base64 of JSON naming the ordering and the last row's key);
a cursor made for another ordering, or tampered with, is a 400 naming the parameter."""
import base64
import binascii
import datetime
import json
from dataclasses import dataclass, field

from django.db.models import F, Q
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from core.deferred import first_rows_and_total, page_rows
from core.rest import params as query

CURSOR = "cursor"
PAGE_SIZE = "page_size"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

PAGE_PARAMETERS = [
    OpenApiParameter(CURSOR, OpenApiTypes.STR, description="the `next` of the previous page"),
    OpenApiParameter(PAGE_SIZE, OpenApiTypes.INT, description=f"rows per page, 1-{MAX_PAGE_SIZE} (default "
                                                               f"{DEFAULT_PAGE_SIZE})"),
]


def page_body(results_serializer, name):
    """The OpenAPI schema of a keyset page: the total, the next page's address (null on the last), the rows."""
    return inline_serializer(name, {"count": serializers.IntegerField(),
                                    "next": serializers.URLField(allow_null=True),
                                    "results": results_serializer})


@dataclass(frozen=True)
class Key:
    """One field of the ordering: `descending`, and where its NULLs sort ("first", "last" or
    None for a field that is never NULL)."""

    field: str
    descending: bool = False
    nulls: str | None = None

    def order_by(self):
        expression = F(self.field)
        if self.descending:
            return expression.desc(nulls_first=self.nulls == "first" or None, nulls_last=self.nulls == "last" or None)
        return expression.asc(nulls_first=self.nulls == "first" or None, nulls_last=self.nulls == "last" or None)

    def after(self, value):
        """The rows whose value of this field sorts after `value`."""
        if value is None:  # NULLs last: nothing sorts after a NULL; NULLs first: every value does
            return Q(**{f"{self.field}__isnull": False}) if self.nulls == "first" else Q(pk__in=[])
        beyond = Q(**{f"{self.field}__{'lt' if self.descending else 'gt'}": value})
        if self.nulls == "last":
            beyond |= Q(**{f"{self.field}__isnull": True})
        return beyond

    def equal(self, value):
        return Q(**{f"{self.field}__isnull": True}) if value is None else Q(**{self.field: value})


def _encode_value(value):
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value):
    if isinstance(value, dict) and set(value) == {"dt"}:
        return datetime.datetime.fromisoformat(value["dt"])
    if isinstance(value, dict) and set(value) == {"d"}:
        return datetime.date.fromisoformat(value["d"])
    if value is None or isinstance(value, (int, str)):
        return value
    raise ValueError("not a key value")


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    count: int | None
    request: object = None

    @property
    def next_url(self):
        if self.next_cursor is None:
            return None
        if self.request is None:
            return self.next_cursor
        params = self.request.GET.copy()
        params[CURSOR] = self.next_cursor
        return self.request.build_absolute_uri(f"{self.request.path}?{params.urlencode()}")

    def body(self, results):
        """The response body every keyset list returns."""
        return {"count": self.count, "next": self.next_url, "results": results}


@dataclass(frozen=True)
class Keyset:
    """A named ordering (`name` goes into the cursor, so a cursor of one ordering is refused by another)."""

    name: str
    keys: list = field(default_factory=list)
    #: choose the page's keys on the list's own table, then read its rows with their joins (core.deferred)
    deferred_join: bool = False

    def __post_init__(self):
        if not self.keys or self.keys[-1].field != "pk":
            raise ValueError("a keyset ordering ends with the primary key")

    def order(self, queryset):
        return queryset.order_by(*(key.order_by() for key in self.keys))

    def encode(self, row_values):
        payload = json.dumps({"o": self.name, "k": [_encode_value(v) for v in row_values]}, separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    def decode(self, cursor):
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            payload = json.loads(raw)
            if payload.get("o") != self.name or len(payload.get("k", ())) != len(self.keys):
                raise ValueError("another ordering")
            return [_decode_value(v) for v in payload["k"]]
        except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError):
            raise ValidationError({CURSOR: [_("This cursor is not valid for this list; start again from the "
                                              "first page.")]}) from None

    def after(self, values):
        """Q of the rows after the row whose key is `values`."""
        condition, equal_so_far = Q(pk__in=[]), Q()
        for key, value in zip(self.keys, values):
            condition |= equal_so_far & key.after(value)
            equal_so_far &= key.equal(value)
        return condition

    def page(self, queryset, request=None, *, cursor=None, size=None, count=True):
        """One page of `queryset` in this order: from the request's ?cursor= and ?page_size=
        (1…MAX_PAGE_SIZE, default DEFAULT_PAGE_SIZE), or from `cursor` and `size`."""
        if request is not None:
            given = getattr(request, "query_params", request.GET)
            cursor = query.text(given, CURSOR, max_length=190)
            size = query.integer(given, PAGE_SIZE, min_value=1, max_value=MAX_PAGE_SIZE)
        size = size or DEFAULT_PAGE_SIZE
        annotated = queryset.annotate(**{f"_keyset_{i}": F(key.field) for i, key in enumerate(self.keys)
                                         if key.field != "pk"})
        if cursor:
            annotated = annotated.filter(self.after(self.decode(cursor)))
        ordered = self.order(annotated)
        if self.deferred_join and count and not cursor:
            # the first page's keys carry the list's total (core.deferred: one scan instead of two)
            rows, total = first_rows_and_total(ordered, size + 1)
        else:
            total = queryset.count() if count else None
            rows = page_rows(ordered, 0, size + 1) if self.deferred_join else list(ordered[:size + 1])
        more = len(rows) > size
        rows = rows[:size]
        next_cursor = None
        if more:
            last = rows[-1]
            next_cursor = self.encode([last.pk if key.field == "pk" else getattr(last, f"_keyset_{i}")
                                       for i, key in enumerate(self.keys)])
        return Page(rows=rows, next_cursor=next_cursor, count=total, request=request)
