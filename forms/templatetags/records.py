from django import template

from accounts.models import Department
from core import registry

register = template.Library()


@register.filter
def status_label(code, record_type=None):
    """The translated label of a record's status code, as its record type names it
    (`{{ record.status|status_label:record.record_type }}`)."""
    return registry.status_label(code, record_type)


@register.filter
def department_names(codes):
    """['market', 'quality'] → '市场部（业务部）, 品质部' in the request language."""
    return ", ".join(str(Department(code).label) for code in codes or [] if code in Department.values)


@register.filter
def record_type_title(code):
    """'order_review' → '订单评审记录表 Order Review Record Sheet' (a registered record type's title)."""
    try:
        return registry.get(code).title
    except KeyError:
        return code
