"""The records registry search (DOC-8): one query over every record type.

Every filter is a WHERE clause on the record table (the signer filter an EXISTS on
signatures), so a page of results costs the same number of queries whatever the
number of rows. Free text matches Chinese and English alike (case-insensitive
substring over number, title, customer, products, lots and the search text)."""
import datetime

from django.db.models import Exists, OuterRef, Q

from .models import Signature

FILTERS = ("q", "number", "type", "status", "customer", "product", "lot", "signer", "date_from", "date_to")
SORTS = {"number": "number", "-number": "-number", "created": "created_at", "-created": "-created_at",
         "type": "record_type", "-type": "-record_type", "status": "status", "-status": "-status",
         "customer": "customer_name", "-customer": "-customer_name"}
DEFAULT_SORT = "-created"


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
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
        qs = qs.filter(customer_name__icontains=get("customer"))
    if get("product"):
        qs = qs.filter(product_text__icontains=get("product"))
    if get("lot"):
        qs = qs.filter(lot_text__icontains=get("lot"))
    if get("signer"):
        signer = get("signer")
        qs = qs.filter(Exists(Signature.objects.filter(
            record_version__record=OuterRef("pk")).filter(
            Q(printed_name__icontains=signer) | Q(signer_username__iexact=signer))))
    if _date(get("date_from")):
        qs = qs.filter(created_at__date__gte=_date(get("date_from")))
    if _date(get("date_to")):
        qs = qs.filter(created_at__date__lte=_date(get("date_to")))
    if get("q"):
        q = get("q")
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(search_text__icontains=q)
                       | Q(customer_name__icontains=q) | Q(product_text__icontains=q) | Q(lot_text__icontains=q))
    sort = SORTS.get(params.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT])
    return qs.order_by(sort, "-id" if sort.startswith("-") else "id")
