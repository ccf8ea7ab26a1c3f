from django import template

from procedures.order_review.models import order_review_of

register = template.Library()


@register.filter
def order_review(process):
    try:
        return order_review_of(process)
    except Exception:  # not a P1 process
        return None


@register.filter
def document_revision(process):
    from procedures.documents.flowdata import revision_of

    try:
        return revision_of(process)
    except Exception:  # not a P4 process
        return None
