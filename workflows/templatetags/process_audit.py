"""The process page's audit facts: why a process was cancelled (SIG-13)."""
from django import template

from workflows.cancel import cancellation_of

register = template.Library()


@register.simple_tag
def process_cancellation(process):
    """The audit entry of the process's cancellation (actor_name, timestamp, reason), or None."""
    return cancellation_of(process)
