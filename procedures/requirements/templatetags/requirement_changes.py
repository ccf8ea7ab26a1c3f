"""{% load requirement_changes %}: a requirement change's fields by their labels, departments by
name, and whether the reader may request a change or raise a CAPA / a document change (the
step summaries show those actions only to who may take them)."""
from django import template

from evidence.access import is_auditor

from ..change_text import change_rows as _change_rows
from ..change_text import department_labels as _department_labels

register = template.Library()


@register.filter
def change_rows(changes):
    """{% for row in change.changes|change_rows %}{{ row.label }}: {{ row.old }} → {{ row.new }}"""
    return _change_rows(changes or {})


@register.filter
def department_labels(codes):
    return _department_labels(codes)


def _may_act(user):
    return bool(user and user.is_authenticated and not is_auditor(user))


@register.simple_tag
def may_request_change(req, user):
    """The requirement may be changed now and `user` may start the change (Market)."""
    from ..changes import changeable_reason  # noqa: PLC0415
    from ..flows import RequirementChangeFlow  # noqa: PLC0415

    return (_may_act(user) and RequirementChangeFlow.start.can_execute(user)
            and changeable_reason(req) is None)


@register.simple_tag
def may_raise(req, user, kind):
    """`user` may raise `kind` (capa | document_change) from the requirement (links.may_raise)."""
    from ..links import may_raise as allowed  # noqa: PLC0415
    from ..models import RequirementStatus  # noqa: PLC0415

    return _may_act(user) and req.status != RequirementStatus.DUPLICATE and allowed(user, kind)
