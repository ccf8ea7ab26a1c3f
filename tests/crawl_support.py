"""Every resolvable URL of the site with its path parameters filled from real objects,
for the URL × role crawl (tests/test_url_crawl.py).

`site_urls()` walks the `config.urls` resolver and yields one `Url` per pattern (a few
patterns get two: a process page for a running and for a finished process); a pattern
whose parameters no object can fill is reported by `unfilled()` instead, so a new URL
that the crawl cannot reach shows up rather than being silently skipped."""
import re
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def has_param(route, name):
    """Whether `route` has the path parameter `name`, whatever its converter."""
    return any(match.group("name") == name for match in PARAM.finditer(route))


@dataclass(frozen=True)
class Url:
    route: str  # the pattern as declared, e.g. "qms/records/<str:number>/"
    path: str  # filled, e.g. "/qms/records/OR-2026-0001/"
    note: str = ""  # which object filled it, e.g. "node=render_record status=DONE"

    @property
    def is_api(self):
        return self.path.startswith("/api/")


def walk(patterns=None, prefix=""):
    """(route, pattern) for every endpoint; routes of regex patterns keep their regex."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def flow_label(flow_class):
    """The flow's URL segment under qms/flows/ (viewflow's default: the class name without "Flow")."""
    return flow_class.__name__.removesuffix("Flow").lower()


class World:
    """Lookups of real objects, read once from the database."""

    def __init__(self):
        from viewflow.workflow.models import Process, Task
        from viewflow.workflow.status import STATUS

        from core.registry import flows

        self.flows = {flow_label(flow_class): flow_class for flow_class in flows()}
        self.tasks = {}  # (flow label, node name) -> [task, ...] newest first
        for task in Task.objects.select_related("process").order_by("-pk"):
            flow_class = task.process.flow_class
            if flow_class is None or task.flow_task is None:
                continue
            self.tasks.setdefault((flow_label(flow_class), task.flow_task.name), []).append(task)
        self.processes = {}  # flow label -> {"running": process, "done": process}
        for process in Process.objects.order_by("-pk"):
            if process.flow_class is None:
                continue
            state = "done" if process.status == STATUS.DONE else "running"
            self.processes.setdefault(flow_label(process.flow_class), {}).setdefault(state, process)
        self.human_task = Task.objects.filter(flow_task_type="HUMAN").order_by("-pk").first()
        self.any_process = Process.objects.order_by("-pk").first()

    # --- one object per kind; None when the database has none ------------------------------------------

    @staticmethod
    def first(model, **filters):
        return model._default_manager.filter(**filters).order_by("pk").first()

    def record(self):
        from core.models import Record

        return self.first(Record, current_version__gt=0)

    def rendered_version(self):
        from core.models import RecordFile

        file = RecordFile.objects.select_related("record_version__record").order_by("pk").first()
        return file.record_version if file else None

    def revision_file(self):
        from procedures.documents.models import RevisionFile

        return RevisionFile.objects.select_related("revision__document").order_by("pk").first()


def _value(world, route, name, converter):
    """The value of one path parameter of `route`, or None."""
    from accounts.models import User
    from inbox.models import Delegation
    from core.models import Record
    from evidence.models import AuditorGrant, EvidenceBundle, StraySweep
    from procedures.capa.models import CapaCase
    from procedures.complaints.models import Lot
    from inbox.models import CalendarDay, Notification, StepTarget
    from procedures.documents.models import ApprovalRule, Document

    def pk(obj):
        return None if obj is None else str(obj.pk)

    if route.startswith("admin/"):
        if name == "content_type_id":
            return str(ContentType.objects.get_for_model(Record).pk)
        if name == "object_id" and route.startswith("admin/r/"):
            return pk(world.record())
        if name in ("object_id", "id"):
            app_label, model_name = route.split("/")[1:3]
            model = ContentType.objects.get_by_natural_key(app_label, model_name).model_class()
            return pk(world.first(model))
        if name == "url":
            return "no-such-page/"
    if route.startswith("accounts/reset/"):
        return {"uidb64": "MQ", "token": "no-such-token"}.get(name)
    if route.startswith(("qms/requirements/", "qms/requirement_links/", "api/kano-studies/", "api/qfd/", "answer/")):
        return _p5_value(route, name)
    if route.startswith(("qms/satisfaction/", "api/satisfaction-surveys/", "api/complaint-follow-ups/",
                         "qms/management_review/", "api/management-reviews/", "qms/ledger/", "api/ledger/",
                         "api/material-movements/")):
        return _issue_15_17_value(world, route, name)
    if route.startswith("api/flows/") and name == "name":
        return "OrderReviewFlow"
    if route.startswith("qms/records/"):
        if has_param(route, "version"):
            version = world.rendered_version()
            if version is None:
                return None
            return {"number": version.record.number, "version": str(version.version)}[name]
        record = world.record()
        return record.number if record else None
    if route.startswith("qms/documents/"):
        file = world.revision_file()
        if has_param(route, "file_id"):
            if file is None:
                return None
            return {"number": file.revision.document.number, "label": file.revision.label,
                    "file_id": str(file.pk)}[name]
        document = world.first(Document)
        return document.number if document else None
    if route.startswith(("qms/auditor-grants/", "api/auditor-grants/")):
        return pk(world.first(AuditorGrant))
    if route.startswith(("qms/evidence/stored-files/", "api/stray-files/")):
        return pk(world.first(StraySweep))
    if route.startswith("qms/evidence/"):
        if name == "number":
            record = world.record()
            return record.number if record else None
        return pk(world.first(EvidenceBundle))
    if route.startswith("qms/notifications/"):
        return pk(world.first(Notification))
    if route.startswith("qms/delegations/"):
        return pk(world.human_task) if name == "task_pk" else pk(world.first(Delegation))
    if route.startswith("qms/dashboard/"):
        return pk(world.human_task) if "/task/" in route else pk(world.any_process)
    if route.startswith("api/"):
        if route.startswith("api/tasks/"):
            return pk(world.human_task)
        if route.startswith("api/processes/"):
            return pk(world.any_process)
        if route.startswith("api/records/"):
            return pk(world.record())
        if route.startswith("api/lots/"):
            return pk(world.first(Lot))
        if route.startswith("api/documents/"):
            file = world.revision_file()
            if name == "file_id":
                return pk(file)
            return str(file.revision.document_id) if file else pk(world.first(Document))
        if route.startswith("api/approval-rules/"):
            return pk(world.first(ApprovalRule))
        if route.startswith("api/evidence/bundles/"):
            return pk(world.first(EvidenceBundle))
        if route.startswith("api/notifications/"):
            return pk(world.first(Notification))
        if route.startswith("api/calendar/"):
            return pk(world.first(CalendarDay))
        if route.startswith("api/me/delegations/"):
            return pk(world.first(Delegation))
        if route.startswith("api/capas/"):
            case = CapaCase.objects.select_related("record").order_by("pk").first()
            return case.record.number if case else None
        if route.startswith("api/requirements/"):
            from procedures.requirements.models import CustomerRequirement

            requirement = CustomerRequirement.objects.select_related("record").order_by("pk").first()
            return requirement.record.number if requirement else None
        if route.startswith("api/step-targets/"):
            target = world.first(StepTarget)
            if target is None:
                return {"flow": "OrderReviewFlow", "step": "approve"}.get(name)
            return {"flow": target.flow, "step": target.step}.get(name)
    if name == "pk" and converter == "int" and route.startswith("accounts/"):
        return pk(world.first(User))
    return None


def _p5_value(route, name):
    """P5's pages: a KANO study, a house of quality, a requirement (the demo seeds one of each)."""
    from forms.models import OneTimeLink
    from procedures.requirements.models import CustomerRequirement, HouseOfQuality, KanoStudy

    if route.startswith("answer/"):
        return "no-such-token" if name == "token" else None  # a public page: an unknown link is a 404
    if route.startswith(("qms/requirements/kano/", "api/kano-studies/")):
        study = KanoStudy.objects.select_related("record").order_by("pk").first()
        if study is None:
            return None
        if name == "link":
            link = OneTimeLink.objects.filter(purpose="kano_study", object_id=study.pk).order_by("pk").first()
            return None if link is None else str(link.pk)
        return study.record.number
    if route.startswith(("qms/requirements/qfd/", "api/qfd/")):
        house = HouseOfQuality.objects.select_related("record").order_by("pk").first()
        return house.record.number if house else None
    requirement = CustomerRequirement.objects.select_related("record").order_by("pk").first()
    return requirement.record.number if requirement else None


def _issue_15_17_value(world, route, name):
    """The satisfaction surveys (and their one-time links), P2's follow-up of a complaint, the
    management-review packs, the contract ledger and the material movements."""
    from forms.models import OneTimeLink
    from procedures.complaints.models import ComplaintCase, MaterialMovement
    from procedures.management_review.models import ManagementReview
    from procedures.order_review.models import LedgerEntry
    from procedures.satisfaction.models import SatisfactionSurvey
    from procedures.satisfaction.records import PURPOSE as SURVEY_LINK

    def number(model):
        row = model.objects.select_related("record").order_by("pk").first()
        return row.record.number if row else None

    if route.startswith(("qms/satisfaction/", "api/satisfaction-surveys/")):
        link = OneTimeLink.objects.filter(purpose=SURVEY_LINK).order_by("pk").first()
        if name == "link":
            return None if link is None else str(link.pk)
        if has_param(route, "link"):  # the survey that link belongs to
            survey = SatisfactionSurvey.objects.filter(pk=link.object_id).select_related("record").first() if link else None
            return survey.record.number if survey else None
        return number(SatisfactionSurvey)
    if route.startswith("api/complaint-follow-ups/"):
        return number(ComplaintCase)
    if route.startswith(("qms/management_review/", "api/management-reviews/")):
        return number(ManagementReview)
    model = MaterialMovement if route.startswith("api/material-movements/") else LedgerEntry
    row = world.first(model)
    return None if row is None else str(row.pk)


def _fill(route, values):
    return "/" + PARAM.sub(lambda match: values[match.group("name")], route)


def _flow_urls(world, route):
    """Routes under qms/flows/<flow>/: tasks by node, processes running and done."""
    parts = route.split("/")
    label = parts[2]
    if label not in world.flows:
        return None
    if has_param(route, "task_pk"):
        node = parts[4]
        tasks = world.tasks.get((label, node))
        if not tasks:
            return None
        task = tasks[0]
        return [Url(route, _fill(route, {"process_pk": str(task.process_id), "task_pk": str(task.pk)}),
                    f"node={node} type={task.flow_task_type} status={task.status}")]
    if has_param(route, "process_pk"):
        processes = world.processes.get(label, {})
        return [Url(route, _fill(route, {"process_pk": str(process.pk)}), f"process {state}")
                for state, process in sorted(processes.items())] or None
    return [Url(route, "/" + route)]


def _task_kind(url):
    """The kind of a task page, for `site_urls(distinct_task_pages=True)`; None for a page kept as it is.

    Kept for every node: a human step's task page and its form (`execute`), which differ by node.
    viewflow's generic pages are kept once per kind: a task page or detail page of any other node
    once per flow, node type and task status; the assign, unassign, cancel, undo and revive pages
    (the same views and permission checks in every flow) once per node type and task status."""
    if not (url.route.startswith("qms/flows/") and has_param(url.route, "task_pk")):
        return None
    action = url.route.rstrip("/").split("/")[-1]
    action = "index" if action.startswith("<") else action
    fields = dict(item.split("=", 1) for item in url.note.split())
    if action == "execute" or action == "index" and fields["type"] == "HUMAN":
        return None
    if action in ("index", "detail"):
        return url.route.split("/")[2], action, fields["type"], fields["status"]
    return action, fields["type"], fields["status"]


def site_urls(world=None, *, distinct_task_pages=False):
    """(urls, unfilled routes) over the whole site. With `distinct_task_pages`, viewflow's generic
    task pages are kept once per kind (`_task_kind`), which takes the demo world's ~570 pages to ~350."""
    urls, unfilled = _site_urls(world or World())
    if distinct_task_pages:
        seen, kept = set(), []
        for url in urls:
            kind = _task_kind(url)
            if kind is None or kind not in seen:
                kept.append(url)
                seen.add(kind)
        urls = kept
    return urls, unfilled


def _site_urls(world):
    urls, unfilled = [], []
    for route, pattern in walk():
        if isinstance(pattern.pattern, RegexPattern) or "(?P<" in route:
            route = _regex_route(route)
        if route.startswith("qms/flows/") and route.count("/") > 3:
            found = _flow_urls(world, route)
        elif "<" not in route:
            found = [Url(route, "/" + route)]
        else:
            values = {match.group("name"): _value(world, route, match.group("name"), match.group("converter"))
                      for match in PARAM.finditer(route)}
            found = None if None in values.values() else [Url(route, _fill(route, values))]
        if found:
            urls.extend(found)
        else:
            unfilled.append(route)
    return urls, unfilled


def _regex_route(route):
    """The admin's two regex patterns as routes: its app index (one app) and its catch-all."""
    if "(?P<app_label>" in route:
        app_label = re.search(r"\(\?P<app_label>([^|)]+)", route).group(1)
        return route.split("^")[0] + f"{app_label}/"
    if "(?P<url>" in route:
        return route.split("(?P<url>")[0] + "<path:url>"
    return route
