"""What a P3 process is about, in one line for the task lists, notifications and e-mails
(CapaFlow.subjects): the 8D report's number and the problem title, e.g.
"CA-2026-0001 · 轴承座内孔尺寸超差"."""
from workflows.models import artifacts_of

from .models import CapaCase


def subject(case):
    return f"{case.record.number} · {case.title}"


def subjects(processes):
    """{process pk: subject} in one query however many processes."""
    return {pk: subject(case) for pk, case in artifacts_of(processes, CapaCase, select_related=("record",)).items()}
