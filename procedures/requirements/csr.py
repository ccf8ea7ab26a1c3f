"""CR-4: the customer-specific requirements (顾客特殊要求) of a customer reach every later P1
order review of that customer: frozen into the order review when it is received (number and
the customer's words as they then stood), shown on its review steps, and each reviewing
department states how the order addresses them. P1 reaches this only through entry.py."""
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput

from .models import (
    CustomerRequirement,
    OrderCsr,
    OrderCsrStatement,
    RequirementStatus,
    RequirementType,
)

#: the states of a customer-specific requirement that binds later orders
IN_FORCE = (RequirementStatus.APPROVED, RequirementStatus.IN_IMPLEMENTATION, RequirementStatus.COMPLETED)


def in_force(customer):
    """The customer's approved, open or completed customer-specific requirements, oldest first."""
    return (CustomerRequirement.objects
            .filter(customer=customer, requirement_type=RequirementType.CUSTOMER_SPECIFIC, status__in=IN_FORCE)
            .select_related("record").order_by("id"))


def freeze_for_order(order_record, customer):
    """Freeze the customer-specific requirements in force into an order review when it is
    received: [(number, words)]. Later changes to them do not alter what this review considered."""
    rows = [OrderCsr(order_record=order_record, requirement=req, words=req.customer_words)
            for req in in_force(customer)]
    OrderCsr.objects.bulk_create(rows)
    return _as_frozen(rows)  # as frozen_for_order() reads them back: by requirement, the order of in_force()


def frozen_for_order(order_record):
    return _as_frozen(OrderCsr.objects.filter(order_record=order_record).select_related("requirement__record")
                      .order_by("requirement_id"))


def _as_frozen(rows):
    """[(number, words)] of an order's frozen requirements (OrderCsr rows with their requirement's record)."""
    return [(row.requirement.record.number, row.words) for row in rows]


def state_addressed(order_record, *, round_number, department, statement, actor, frozen=None):
    """A reviewing department states how the order addresses the frozen requirements. Required
    (400 naming `csr_addressed`) when there are any; nothing is stored when there are none.
    `frozen`: the order's frozen requirements when the caller has read them (frozen_for_order)."""
    if not (frozen if frozen is not None else OrderCsr.objects.filter(order_record=order_record).exists()):
        return None
    statement = (statement or "").strip()
    if not statement:
        raise InvalidInput(
            _("State how the order addresses the customer-specific requirements."),
            field_errors={"csr_addressed": [_("Required: this customer has customer-specific requirements.")]})
    return OrderCsrStatement.objects.create(order_record=order_record, round_number=round_number,
                                            department=department, statement=statement, stated_by=actor,
                                            stated_at=timezone.now())


def statements_for_order(order_record):
    """{(round number, department): statement}."""
    return {(s.round_number, s.department): s.statement
            for s in OrderCsrStatement.objects.filter(order_record=order_record)}
