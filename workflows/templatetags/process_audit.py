"""The process page's audit facts: why a process, or a step of it, was cancelled (SIG-13)."""
from django import template

from workflows.cancel import cancellation_of, task_cancellations

register = template.Library()


@register.simple_tag
def process_cancellation(process):
    """The audit entry of the process's cancellation (actor_name, timestamp, reason), or None."""
    return cancellation_of(process)


@register.simple_tag
def step_cancellations(process):
    """[{entry, task}] of the steps cancelled one by one (workflows.cancel.task_cancellations)."""
    return task_cancellations(process)
