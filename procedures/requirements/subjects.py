"""What a P5 process is about, in one line for the task lists, notifications and e-mails
(RequirementFlow.subjects): the record number, the customer and the requirement's first words,
e.g. "CR-2026-0003 · 华东电子科技有限公司 · 外壳颜色改为 RAL 7035…"."""
from core.choices import in_language
from workflows.models import artifacts_of

from .models import CustomerRequirement

SHOWN = 40  # characters of the customer's words


def short(text):
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"


def customer(req):
    """The customer in the reader's language; a potential customer as registered."""
    if req.customer_id:
        return str(in_language(req.customer.name_zh, req.customer.name_en or req.customer.name_zh))
    return req.customer_name


def subject(req):
    return " · ".join(part for part in (req.record.number, customer(req), short(req.customer_words)) if part)


#: the columns a subject prints (workflows.models.artifacts_of's `only`)
FIELDS = ("record__number", "customer", "customer__name_zh", "customer__name_en", "customer_name", "customer_words")


def subjects(processes):
    """{process pk: subject} in a fixed number of queries however many processes."""
    reqs = artifacts_of(processes, CustomerRequirement, select_related=("record", "customer"), only=FIELDS)
    return {pk: subject(req) for pk, req in reqs.items()}


def change_subjects(processes):
    """{process pk: subject} of change processes (CR-5): "CR-2026-0003 Δ1 · customer · words…"."""
    from .models import RequirementChange  # noqa: PLC0415

    changes = artifacts_of(processes, RequirementChange,
                           select_related=("requirement__record", "requirement__customer"),
                           only=("number", *(f"requirement__{field}" for field in FIELDS)))
    return {pk: " · ".join(part for part in (f"{c.requirement.record.number} Δ{c.number}", customer(c.requirement),
                                             short(c.requirement.customer_words)) if part)
            for pk, c in changes.items()}
