"""{% task_delegation task user as info %}: what the task page says about delegation —
whom the viewer works for on this task, and whether they may reassign it."""
from django import template
from django.urls import NoReverseMatch, reverse
from viewflow.workflow.models import Task

from inbox import delegation as service

register = template.Library()


@register.simple_tag
def task_delegation(task, user):
    if task is None or not getattr(task, "pk", None) or user is None or not user.is_authenticated:
        return {}
    # the page's activation may have moved the task in memory (viewflow starts it): ask the stored row
    task = Task.objects.select_related("owner").filter(pk=task.pk).first()
    if task is None:
        return {}
    on_behalf_of = service.acting_for(task, user)
    info = {"on_behalf_of": on_behalf_of,
            "absence": service.active_delegation(on_behalf_of) if on_behalf_of else None,
            "can_reassign": service.can_reassign(user, task)}
    if info["can_reassign"]:
        try:
            info["reassign_url"] = reverse("qms:delegations:reassign", args=[task.pk])
        except NoReverseMatch:
            info["can_reassign"] = False
    return info
