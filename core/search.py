"""The records registry search (DOC-8): one query over every record type.

Every filter is a WHERE clause on the record table (the signer filter an EXISTS on
signatures), so a page of results costs the same number of queries whatever the
number of rows. Free text matches Chinese and English alike (case-insensitive
substring over number, title, customer, products, lots and the search text).

On PostgreSQL the free text is one LIKE over a stored generated column (core migration 0008): the
six columns upper-cased and joined by a separator no query contains, every character written
twice, under a pg_trgm GIN index. Doubling is what makes a two-character Chinese word
searchable by trigrams ("轴承" → "轴轴承承": two trigrams, where "轴承" has none), and it changes
no result: the doubled query occurs in the doubled text exactly when the query occurs in the
text. The number filter compares upper(number) (indexed too). SQLite runs the plain
case-insensitive substring search over the columns."""
import datetime

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .models import Signature

FILTERS = ("q", "number", "type", "status", "customer", "product", "lot", "signer", "date_from", "date_to")
SORTS = {"number": "number", "-number": "-number", "created": "created_at", "-created": "-created_at",
         "type": "record_type", "-type": "-record_type", "status": "status", "-status": "-status",
         "customer": "customer_name", "-customer": "-customer_name"}
DEFAULT_SORT = "-created"


SEPARATOR = "\x1f"
#: how a record's products column ends when its products did not all fit (the search text keeps them all)
CUT_MARK = ", …"
HAYSTACK_COLUMNS = ("number", "title", "search_text", "customer_name", "product_text", "lot_text")


def haystack_sql(table=""):
    """The expression of core migration 0008's generated column `search_haystack`: the columns joined
    by U+001F, upper-cased, each character doubled."""
    prefix = f'"{table}".' if table else ""
    joined = " || E'\\x1f' || ".join(f"{prefix}{column}" for column in HAYSTACK_COLUMNS)
    return f"regexp_replace(upper({joined}), '(.)', '\\1\\1', 'g')"


def doubled(text):
    return "".join(character * 2 for character in text)


def _like_escaped(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def free_text(q):
    """The condition of ?q= (a substring of any of the six columns, case-insensitive)."""
    if connection.vendor == "postgresql":
        pattern = f"%{_like_escaped(doubled(q.replace(SEPARATOR, '')))}%"
        return Q(RawSQL('"core_record"."search_haystack" LIKE upper(%s)', [pattern], output_field=BooleanField()))
    return (Q(number__icontains=q) | Q(title__icontains=q) | Q(search_text__icontains=q)
            | Q(customer_name__icontains=q) | Q(product_text__icontains=q) | Q(lot_text__icontains=q))


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _start_of(day):
    """The first instant of `day` in the current time zone (its midnight, or the first moment after a gap); None
    for a day at the calendar's edge whose instant no database holds (every record is after the first such day and
    before the last)."""
    try:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min)).astimezone(datetime.timezone.utc)
    except (OverflowError, ValueError):
        return None


def search_records(qs, params):
    """Filter `qs` (records the user may see) by the registry's query parameters."""
    # a NUL can match nothing stored (PostgreSQL cannot even compare one): dropped, never sent to the database
    get = lambda name: (params.get(name) or "").replace("\x00", "").strip()  # noqa: E731
    if get("type"):
        qs = qs.filter(record_type=get("type"))
    if get("status"):
        qs = qs.filter(status=get("status"))
    if get("number"):
        qs = qs.filter(number__iexact=get("number"))
    if get("customer"):
        # a customer found in a name is not the empty name (half the registry: records of no customer), and saying
        # so lets a page sorted by customer start past them in the (customer_name, id) index
        qs = qs.filter(customer_name__icontains=get("customer"), customer_name__gt="")
    if get("product"):
        # a record whose products did not all fit their column ends it in CUT_MARK: its search text names them all
        qs = qs.filter(Q(product_text__icontains=get("product"))
                       | Q(product_text__endswith=CUT_MARK, search_text__icontains=get("product")))
    if get("lot"):
        qs = qs.filter(lot_text__icontains=get("lot"))
    if get("signer"):
        signer = get("signer")
        qs = qs.filter(Exists(Signature.objects.filter(
            record_version__record=OuterRef("pk")).filter(
            Q(printed_name__icontains=signer) | Q(signer_username__iexact=signer))))
    # a day in the current time zone, as `created_at__date` reads it, but as a range of instants: the created_at
    # index finds them (the date of each record, computed row by row, scanned the table: 0.46 s at a million)
    since = _date(get("date_from")) and _start_of(_date(get("date_from")))
    if since:
        qs = qs.filter(created_at__gte=since)
    until = _date(get("date_to"))
    until = until and until < datetime.date.max and _start_of(until + datetime.timedelta(days=1))
    if until:
        qs = qs.filter(created_at__lt=until)
    if get("q"):
        qs = qs.filter(free_text(get("q")))
    sort = SORTS.get(params.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT])
    return qs.order_by(sort, "-id" if sort.startswith("-") else "id")
