"""The process page's audit facts: why a process was cancelled, or a step of it cancelled, undone or revived (SIG-13)."""
from django import template

from workflows.cancel import cancellation_of, task_cancellations

register = template.Library()


@register.simple_tag
def process_cancellation(process):
    """The audit entry of the process's cancellation (actor_name, timestamp, reason), or None."""
    return cancellation_of(process)


@register.simple_tag
def step_cancellations(process):
    """[{entry, task, kind, label}] of the steps cancelled, undone or revived one by one (workflows.cancel.task_cancellations)."""
    return task_cancellations(process)
