"""What a P3 process is about, in one line for the task lists, notifications and e-mails
(CapaFlow.subjects): the 8D report's number and the problem title, e.g.
"CA-2026-0001 · 轴承座内孔尺寸超差"."""
from workflows.models import artifacts_of

from .models import CapaCase


def subject(case):
    return f"{case.record.number} · {case.title}"


def subjects(processes):
    """{process pk: subject} in one query however many processes. A process object that already
    holds its case with the record (workflows.models.artifact_of's cache, e.g. during a step of
    the flow) costs none: the report's number and the problem title never change once raised."""
    processes = list(processes)
    found = {p.pk: subject(p._artifact) for p in processes if _holds_case(p)}
    rest = [p for p in processes if p.pk not in found]
    if rest:
        found.update({pk: subject(case) for pk, case in
                      artifacts_of(rest, CapaCase, select_related=("record",),
                                   only=("record__number", "title")).items()})
    return found


def _holds_case(process):
    cached = getattr(process, "_artifact", None)
    return isinstance(cached, CapaCase) and "record" in cached._state.fields_cache
