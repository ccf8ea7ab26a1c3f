"""The requirement register (CR-7): who sees which requirements, and the register's filters and
sort orders — one function used by the API (GET /api/requirements/), the register page and its CSV,
so each rule lives once. A value that cannot be what its parameter means is refused (DRF's
ValidationError naming the parameter: a 400 in the API, an error beside the filters on the page)."""
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from core.access import can_view_processes, can_view_records, records_visible_to
from core.rest import params
from evidence.access import is_auditor

from .models import OPEN_STATUSES, CustomerRequirement, KanoCategory, PriorityClass, RequirementStatus, RequirementType

#: sort keys of the register: (the parameter's value, the ordering); the first is the default
SORTS = {
    "-number": ("-pk",),
    "received": ("received_on", "pk"),
    "-received": ("-received_on", "-pk"),
    "priority": ("priority_rank", "-pk"),
    "-priority": ("-priority_rank", "-pk"),
    "due": (F("due_date").asc(nulls_last=True), "-pk"),
    "-due": (F("due_date").desc(nulls_last=True), "-pk"),
}
#: how many of the newest requirements a field that takes a requirement's number suggests as one types (a KANO
#: feature's, a QFD need's <datalist>); any requirement's number may be typed
SUGGESTED_REQUIREMENTS = 200

FILTERS = ("customer", "type", "priority", "kano", "status", "overdue", "received_from", "received_to", "q")


def can_view_requirements(user):
    """The register, the priority matrix and the progress report: members, and auditors (read-only)
    while their grant is current; what an auditor sees of them is what the grant covers."""
    if is_auditor(user):
        return can_view_records(user)
    return can_view_processes(user)


def visible_requirements(user):
    return CustomerRequirement.objects.filter(record__in=records_visible_to(user)).select_related(
        "record", "customer", "owner")


def late():
    """Approved (or in implementation) and past its due date (models.is_overdue, as a query)."""
    return Q(status__in=OPEN_STATUSES, due_date__lt=timezone.localdate())


def filter_register(qs, query):
    """`qs` filtered and ordered by the register's parameters (a QueryDict or dict): customer (code,
    or part of the name), type, priority, kano, status, overdue (1/0), received_from / received_to
    (YYYY-MM-DD), q (number, customer, product or the customer's words), sort (SORTS)."""
    customer = params.text(query, "customer", max_length=200)
    kind = params.choice(query, "type", RequirementType.values)
    priority = params.choice(query, "priority", PriorityClass.values)
    kano = params.choice(query, "kano", KanoCategory.values)
    state = params.choice(query, "status", RequirementStatus.values)
    overdue = params.boolean(query, "overdue")
    received_from, received_to = params.date(query, "received_from"), params.date(query, "received_to")
    text = params.text(query, "q", max_length=200)
    sort = params.choice(query, "sort", list(SORTS)) or "-number"
    if customer:
        qs = qs.filter(Q(customer__code=customer) | Q(customer_name__icontains=customer))
    if kind:
        qs = qs.filter(requirement_type=kind)
    if priority:
        qs = qs.filter(priority=priority)
    if kano:
        qs = qs.filter(kano_category=kano)
    if state:
        qs = qs.filter(status=state)
    if overdue is True:
        qs = qs.filter(late())
    elif overdue is False:
        qs = qs.exclude(late())
    if received_from:
        qs = qs.filter(received_on__gte=received_from)
    if received_to:
        qs = qs.filter(received_on__lte=received_to)
    if text:
        qs = qs.filter(Q(record__number__icontains=text) | Q(customer_name__icontains=text)
                       | Q(customer__code__icontains=text) | Q(product_text__icontains=text)
                       | Q(customer_words__icontains=text))
    # A before B … D, a requirement not yet analysed (no class) last
    qs = qs.annotate(priority_rank=Case(When(priority="", then=Value("Z")), default=F("priority")))
    return qs.order_by(*SORTS[sort])
