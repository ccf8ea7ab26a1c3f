from django import template

from evidence import access

register = template.Library()


@register.filter
def is_auditor(user):
    """Whether `user` is an auditor (read-only; holds or held a grant): the menu leaves out task lists."""
    return access.is_auditor(user)
