"""The requirement's own page (/qms/requirements/<number>/): the requirement as a user and an auditor
need it — what the customer said, the analysis, the department reviews and the approval, the
tracking, the answer, the links, the change history, what it raised, the houses of quality and
KANO studies that use it, its process and open task — and the actions on it, each shown only to
who may take it. Who sees which requirement: register.py (404 for one not visible). A fixed
number of queries whatever the number of changes, reviews or links."""
from django.http import Http404
from django.views.generic import TemplateView
from viewflow.workflow.models import Task

from core.access import records_visible_to
from evidence.access import is_auditor
from inbox.escalation import task_link
from inbox.queues import OPEN_TASK_STATUSES
from inbox.signals import process_link

from . import links
from .change_text import change_rows, department_labels
from .changes import changeable_reason
from .flows import RequirementChangeFlow
from .models import (
    KanoFeature,
    QfdNeed,
    RaisedKind,
    RequirementChange,
    RequirementLink,
    RequirementStatus,
)
from .register import visible_requirements
from .subjects import customer as customer_label
from .views import RequirementsAccess



def _open_tasks(process_ids):
    tasks = (Task.objects.filter(process_id__in=process_ids, status__in=OPEN_TASK_STATUSES)
             .select_related("process", "owner").order_by("created"))
    return [{"task": t, "title": t.flow_task.task_title or t.flow_task.name if t.flow_task else "", "url": task_link(t),
             "owner": t.owner.printed_name if t.owner_id else ""} for t in tasks]


def _links(req, visible):
    """Both directions: the links this requirement made and those made to it, and the duplicate-of pointer."""
    rows = []
    for link in RequirementLink.objects.filter(source=req).select_related("target__record"):
        rows.append({"kind": link.get_kind_display(), "number": link.target.record.number, "note": link.note,
                     "words": link.target.customer_words, "visible": link.target.record_id in visible,
                     "incoming": False})
    for link in RequirementLink.objects.filter(target=req).select_related("source__record"):
        rows.append({"kind": link.get_kind_display(), "number": link.source.record.number, "note": link.note,
                     "words": link.source.customer_words, "visible": link.source.record_id in visible,
                     "incoming": True})
    return rows


class RequirementDetailView(RequirementsAccess, TemplateView):
    template_name = "requirements/detail.html"

    def get_context_data(self, number, **kwargs):
        user = self.request.user
        req = (visible_requirements(user).filter(record__number=number)
               .select_related("product", "approved_by", "duplicate_of__record").first())
        if req is None:
            raise Http404
        visible = set(records_visible_to(user).filter(
            pk__in=self._related_record_ids(req)).values_list("pk", flat=True))
        changes = list(RequirementChange.objects.filter(requirement=req)
                       .select_related("requested_by", "decided_by").prefetch_related("reviews__reviewer"))
        change_processes = self._change_processes(changes)
        reviews = list(req.reviews.select_related("reviewer", "signature"))
        raised = list(req.raised.select_related("record", "raised_by"))
        houses = list(QfdNeed.objects.filter(requirement=req).select_related("house__record").order_by("house_id"))
        features = list(KanoFeature.objects.filter(requirement=req).select_related("study__record")
                        .order_by("study_id"))
        process = req.record.process if req.record.process_id else None
        read_only = is_auditor(user)
        score = req.importance * req.urgency if req.importance and req.urgency else None
        return {
            **super().get_context_data(**kwargs), "req": req, "customer": customer_label(req), "score": score,
            "review_departments": department_labels(req.review_departments),
            "reviews": reviews, "links": _links(req, visible), "visible": visible,
            "duplicates": list(req.duplicates.select_related("record")),
            "changes": [{"change": c, "rows": change_rows(c.changes),
                         "departments": department_labels(c.review_departments),
                         "process_url": change_processes.get(c.pk, "")} for c in changes],
            "raised": raised, "houses": houses, "features": features,
            "process": process, "process_url": process_link(process) if process else "",
            "tasks": _open_tasks([p for p in [req.record.process_id, *self._open_change_process_ids(changes)] if p]),
            "pdf_version": req.record.current_version,
            "read_only": read_only,
            "can_change": not read_only and RequirementChangeFlow.start.can_execute(user)
            and changeable_reason(req) is None,
            "can_raise_capa": not read_only and req.status != RequirementStatus.DUPLICATE
            and links.may_raise(user, RaisedKind.CAPA),
            "can_raise_document": not read_only and req.status != RequirementStatus.DUPLICATE
            and links.may_raise(user, RaisedKind.DOCUMENT_CHANGE),
        }

    @staticmethod
    def _related_record_ids(req):
        """The records the page may link to (linked requirements, raised records, houses, studies)."""
        ids = set(RequirementLink.objects.filter(source=req).values_list("target__record_id", flat=True))
        ids |= set(RequirementLink.objects.filter(target=req).values_list("source__record_id", flat=True))
        ids |= set(req.raised.values_list("record_id", flat=True))
        ids |= set(QfdNeed.objects.filter(requirement=req).values_list("house__record_id", flat=True))
        ids |= set(KanoFeature.objects.filter(requirement=req).values_list("study__record_id", flat=True))
        if req.duplicate_of_id:
            ids.add(req.duplicate_of.record_id)
        ids |= set(req.duplicates.values_list("record_id", flat=True))
        return ids

    def _change_processes(self, changes):
        """{change pk: its process page}: the RequirementChangeFlow processes whose artifact is a change."""
        self._change_process = {}
        if not changes:
            return {}
        from django.contrib.contenttypes.models import ContentType  # noqa: PLC0415

        kind = ContentType.objects.get_for_model(RequirementChange)
        processes = RequirementChangeFlow.process_class.objects.filter(
            artifact_content_type=kind, artifact_object_id__in=[c.pk for c in changes])
        self._change_process = {p.artifact_object_id: p for p in processes}
        return {pk: process_link(p) for pk, p in self._change_process.items()}

    def _open_change_process_ids(self, changes):
        from .models import OPEN_CHANGE_STATUSES  # noqa: PLC0415

        return [self._change_process[c.pk].pk for c in changes
                if c.status in OPEN_CHANGE_STATUSES and c.pk in self._change_process]
