"""What other procedures may ask of P5 (the only module of it they may import).
CR-4: the customer-specific requirements of a customer, for every later order review."""
from .models import (
    OPEN_STATUSES,
    CustomerRequirement,
    RequirementStatus,
    RequirementType,
)


def customer_specific_requirements(customer):
    """The approved, open or completed customer-specific requirements of `customer` (a
    forms.models.Customer): [(record number, the customer's words)], oldest first."""
    rows = (CustomerRequirement.objects
            .filter(customer=customer, requirement_type=RequirementType.CUSTOMER_SPECIFIC,
                    status__in=[*OPEN_STATUSES, RequirementStatus.COMPLETED])
            .select_related("record").order_by("id"))
    return [(r.record.number, r.customer_words) for r in rows]
