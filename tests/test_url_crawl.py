"""Every URL of the site × every role.

Each resolvable URL of `config.urls` (tests/crawl_support.py fills its path parameters from
real objects of the demo world: processes running and finished, tasks of every node type —
human, start, gateway, function, join, timer, job, end — records, documents and revision
files, bundles, notifications, delegations, calendar days, lots …) is fetched with GET as
the anonymous visitor, a staff member of each department, a department manager, the General
Manager, an auditor with an active grant, an auditor whose grant expired, a user without any
membership and the superuser. No page may fail (5xx); the anonymous visitor is sent to sign
in (the API answers 401/403); a user without membership is refused everything but their own
pages; an auditor is never shown a write form that would succeed.

Every node keeps its own task page and form; viewflow's generic task pages (assign, cancel,
undo, revive …) are fetched once per node type and task status (crawl_support._task_kind).
Every role on SQLite; on PostgreSQL one role of each kind (POSTGRES_ROLES). Each request is
undone (a savepoint) so that every (URL, role) sees the same world.

The world is seeded once for the module (the demo seed, its document PDFs replaced by a
one-page PDF and its record PDFs not rendered, except the approved contract's) inside a
transaction that is rolled back when the module ends."""
import datetime
import io
import re
from collections import Counter
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from crawl_support import flow_label, has_param, site_urls

pytestmark = pytest.mark.django_db

DEPARTMENT_STAFF = ["market", "quality", "production", "engineering", "materials", "finance", "warehouse"]
# The auditors first: each of their requests is audited (and undone), which on PostgreSQL grows the row
# versions of the audit chain's head within the module's transaction and slows every later audited request.
ROLES = ["anonymous", "auditor", "auditor_expired", *DEPARTMENT_STAFF, "quality_mgr", "gm", "no_membership", "admin"]
# On PostgreSQL (CI's second run) one role of each kind, to keep the module near a minute there too; every
# role on SQLite (CI's first run and the developers' default).
POSTGRES_ROLES = ["anonymous", "auditor", "auditor_expired", "quality", "quality_mgr", "no_membership", "admin"]


def crawled_roles():
    from django.db import connection

    return POSTGRES_ROLES if connection.vendor == "postgresql" else ROLES


# Pages of one's own (or of nobody's data) that a signed-in user without membership may open.
OWN_PAGES = (
    "/accounts/", "/admin/login/", "/admin/logout/", "/i18n/",  # signing in and out, password, language
    "/api/me/", "/api/notifications/", "/api/dashboard/",  # their own settings, notifications, tasks
    "/api/schema/", "/api/docs/", "/api/evidence/bundles/public-key/",  # the API's description; the public key
)
OPEN_TO_ANONYMOUS = ("/accounts/login/", "/accounts/password_reset/", "/accounts/reset/", "/admin/login/",
                     "/admin/logout/", "/i18n/setlang/",
                     "/answer/")  # a customer's one-time questionnaire link: no account (an unknown token is a 404)
# The writes an auditor may make (evidence/permissions.py).
from evidence.permissions import ALLOWED_WRITES as AUDITOR_WRITES  # noqa: E402  (the one list)


def one_page_pdf(*args, **kwargs):
    import pikepdf
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf, buffer = pikepdf.new(), io.BytesIO()
    pdf.add_blank_page()
    pdf.save(buffer)
    return SimpleUploadedFile(f"{args[0] if args else 'document'}.pdf", buffer.getvalue(),
                              content_type="application/pdf")


def run_jobs(process, *, render):
    """Run the waiting Celery job tasks of `process` here, as the worker would (their queueing
    waits for a commit that the module's transaction never makes)."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from workflows.jobs import run_flow_job

    for task in Task.objects.filter(process=process, flow_task_type="JOB", status=STATUS.SCHEDULED):
        if not render:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(task.flow_task, "_func", lambda activation: None)
                run_flow_job.apply(args=[task.pk])
        else:
            run_flow_job.apply(args=[task.pk])


def seed_world():
    import forms.pdf
    import procedures.documents.seed
    from inbox.delegation import create_delegation
    from accounts.models import User
    from core.models import Record
    from evidence.bundles import request_bundle
    from evidence.grants import grant_auditor_access
    from procedures.order_review.models import OrderReview
    from viewflow.workflow.models import Process
    from viewflow.workflow.status import STATUS

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forms.pdf, "queue_render", lambda version: None)
        patch.setattr(procedures.documents.seed, "_pdf", one_page_pdf)
        # two procedures and two forms of the demo's thirteen documents (each runs the whole document flow)
        patch.setattr(procedures.documents.seed, "PROCEDURES", procedures.documents.seed.PROCEDURES[:2])
        patch.setattr(procedures.documents.seed, "FORMS", procedures.documents.seed.FORMS[:2])
        call_command("seed_demo", stdout=io.StringIO())
    # Celery jobs: the approved contract's record PDF is rendered (its page and PDF link are crawled);
    # the closed complaint cases' jobs run without rendering; the documents' stay scheduled.
    contract = OrderReview.objects.get(order_number="CT-DEMO-004").record.process
    run_jobs(contract, render=True)
    for process in Process.objects.filter(flow_class__endswith="ComplaintFlow", status=STATUS.NEW):
        run_jobs(process, render=False)

    users = {user.username: user for user in User.objects.all()}
    admin = users["admin"]
    now = timezone.now()
    for username in ("auditor", "auditor_expired", "no_membership"):
        User.objects.create_user(username, password="Crawl-pass-2026", display_name=username)
    auditor, expired = User.objects.get(username="auditor"), User.objects.get(username="auditor_expired")
    grant_auditor_access(auditor, granted_by=admin, reason="external audit 2026")
    grant_auditor_access(expired, granted_by=admin, reason="external audit 2025",
                         valid_from=now - datetime.timedelta(days=60), valid_until=now - datetime.timedelta(days=1))
    request_bundle(actor=users["quality_mgr"], records=Record.objects.filter(pk__in=Record.objects.order_by("pk").values("pk")[:3]),
                   title="crawl")
    from evidence import stray_sweeps  # the nightly verification's look at the storage (the stored-files page)

    stray_sweeps.record_nightly([])
    today = timezone.localdate()
    admin_rows(users, now)
    material_movement(users, today)
    create_delegation(delegator=users["quality"], substitute=users["quality_mgr"], starts_on=today,
                      ends_on=today + datetime.timedelta(days=3), reason="leave", actor=users["quality"])


def material_movement(users, today):
    """A receipt into the store, through its action (the demo records no material movement)."""
    from forms.models import Product
    from procedures.complaints.actions import record_material_movement
    from procedures.complaints.models import MovementKind

    record_material_movement(actor=users["materials"], data={
        "kind": MovementKind.RECEIPT, "product": Product.objects.order_by("pk").first(), "lot_number": "CRAWL-LOT-1",
        "quantity": 100, "supplier": "宁波精工五金 Ningbo Precision Hardware", "moved_on": today})


def admin_rows(users, now):
    """One row for each admin page that the seed leaves empty (a destroyed record's tombstone aside)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )
    from rest_framework.authtoken.models import Token
    from viewflow.workflow.models import Task

    from inbox.models import Escalation, StepTarget

    Group.objects.create(name="crawl")
    Token.objects.create(user=users["market"])
    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    CrontabSchedule.objects.create(minute="0", hour="3")
    SolarSchedule.objects.create(event="sunrise", latitude=31.23, longitude=121.47)
    ClockedSchedule.objects.create(clocked_time=now)
    PeriodicTask.objects.create(name="crawl", task="workflows.jobs.requeue_stalled_jobs", interval=every)
    attempt = dict(username="market", ip_address="127.0.0.1", user_agent="crawl", path_info="/accounts/login/")
    AccessAttempt.objects.create(**attempt, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**attempt)
    AccessFailureLog.objects.create(**attempt, locked_out=False)
    StepTarget.objects.create(flow="OrderReviewFlow", step="approve", working_days=2)
    task = Task.objects.filter(flow_task_type="HUMAN").order_by("pk").first()
    Escalation.objects.create(task=task, level=Escalation.Level.REMINDER, recipients=["quality"], sent_at=now)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The seeded world and its URLs, for the whole module; rolled back at its end."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            seed_world()
            urls, unfilled = site_urls(distinct_task_pages=True)
            yield {"urls": urls, "unfilled": unfilled}
            transaction.set_rollback(True)


def client_for(role):
    from accounts.models import User

    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(User.objects.get(username=role))
    return client


def get_and_undo(client, path):
    """GET `path`, then undo what the request wrote (audit entries of an auditor's views, sessions …),
    so that every (URL, role) sees the same world, and a database error in one cannot abort the rest."""
    savepoint = transaction.savepoint()
    try:
        return client.get(path)
    finally:
        transaction.savepoint_rollback(savepoint)


@pytest.fixture(scope="module")
def crawl(world, django_db_blocker):
    """role -> [(url, response)], every URL fetched once per role."""
    import logging

    logging.disable(logging.ERROR)  # a 5xx is reported by the tests, with its URL, not as a logged traceback
    results = {}
    try:
        with django_db_blocker.unblock():
            for role in crawled_roles():
                client = client_for(role)
                results[role] = [(url, get_and_undo(client, url.path)) for url in world["urls"]]
    finally:
        logging.disable(logging.NOTSET)
    return results


def describe(url, response):
    return f"{response.status_code} {url.path} ({url.route}{' ' + url.note if url.note else ''})"


# --- the crawl reaches the whole site ----------------------------------------------------------------------------


def test_the_crawl_fills_every_url_pattern_but_a_few_task_steps_the_demo_never_reaches(world):
    from core.registry import flows

    unfilled = world["unfilled"]
    # Only task pages of steps the demo world has no task of (a CAPA extension, a periodic review …),
    # and the admin's pages of a destroyed record's tombstone.
    assert all(route.startswith("qms/flows/") and has_param(route, "task_pk")
               or route.startswith("admin/core/tombstone/<path:object_id>/") for route in unfilled), unfilled
    covered = {url.note.split()[1] for url in world["urls"] if url.note.startswith("node=")}
    assert {"type=HUMAN", "type=HUMAN_START", "type=JOB", "type=END", "type=FUNCTION",
            "type=EXCLUSIVE_GATEWAY"} <= covered
    assert any("type=JOB status=DONE" in url.note for url in world["urls"])
    assert any("type=JOB status=SCHEDULED" in url.note for url in world["urls"])
    assert any("type=TIMER" in url.note or "type=START_TIMER" in url.note for url in world["urls"]), covered
    labels = {flow_label(flow) for flow in flows()}
    assert {url.route.split("/")[2] for url in world["urls"] if url.route.startswith("qms/flows/") and
            url.route.count("/") > 3} == labels
    routes = {re.sub(r"<\w+:(\w+)>", r"<\1>", url.route) for url in world["urls"]}  # converters aside
    assert {"qms/records/<number>/v<version>/pdf/", "qms/documents/<number>/<label>/files/<file_id>/",
            "qms/evidence/bundles/<pk>/", "qms/delegations/<pk>/cancel/", "api/lots/<pk>/",
            "admin/core/record/<object_id>/change/"} <= routes


# --- no page fails --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_no_page_answers_a_server_error(crawl, role):
    if role not in crawl:
        pytest.skip(f"{role}: crawled on SQLite only (POSTGRES_ROLES)")
    failures = [describe(url, response) for url, response in crawl[role] if response.status_code >= 500]
    assert failures == [], f"{len(failures)} pages fail for {role}:\n" + "\n".join(failures)


def test_the_pages_that_used_to_fail_now_open(crawl):
    """Regressions: a flow's task list and the pages of a job task and its neighbours (NoReverseMatch
    'index'), and the flows section for an auditor (ValueError)."""
    def status(role, path_pattern):
        return {url.path: response.status_code for url, response in crawl[role] if re.fullmatch(path_pattern, url.path)}

    from core.registry import flows

    task_lists = status("quality_mgr", r"/qms/flows/\w+/tasks/")
    assert len(task_lists) == len(flows()) and set(task_lists.values()) == {200}, task_lists
    job_pages = {url.path: response.status_code for url, response in crawl["admin"] if "type=JOB" in url.note}
    assert job_pages and set(job_pages.values()) <= {200, 302}, job_pages
    assert status("auditor", r"/qms/flows/") == {"/qms/flows/": 403}  # no flow to show: refused, not a crash
    assert status("quality", r"/qms/flows/") == {"/qms/flows/": 302}


# --- who is refused what ------------------------------------------------------------------------------------------


def test_the_anonymous_visitor_is_sent_to_sign_in_and_the_api_answers_401(crawl):
    wrong = []
    for url, response in crawl["anonymous"]:
        if url.path.startswith(OPEN_TO_ANONYMOUS):
            continue
        if url.is_api:
            ok = response.status_code in (401, 403) or (url.path == "/api/auth/token/" and response.status_code == 405)
        else:
            location = response.get("Location", "")
            ok = response.status_code == 302 and location.startswith(("/accounts/login/?next=", "/admin/login/?next="))
        if not ok:
            wrong.append(describe(url, response) + " " + response.get("Location", ""))
    assert wrong == [], "\n".join(wrong)


def _is_empty_list(response):
    """An API answer that lists nothing: [] or a page of no results."""
    if response.get("Content-Type", "").split(";")[0] != "application/json":
        return False
    data = response.json()
    return data == [] or (isinstance(data, dict) and data.get("results") == [] and data.get("count", 0) == 0)


@pytest.mark.parametrize("role", ["no_membership", "auditor_expired"])
def test_a_user_without_membership_or_current_grant_sees_nothing_but_their_own_pages(crawl, role):
    wrong, shown = [], Counter()
    for url, response in crawl[role]:
        status = response.status_code
        own = url.path == "/" or url.path.startswith(OWN_PAGES)  # "/": the landing page's redirect
        to_admin_login = status == 302 and response.get("Location", "").startswith("/admin/login/?next=")
        if status in (403, 404, 405) or to_admin_login or own and status in (200, 302):
            shown[status] += 1
            continue
        if url.is_api and status == 200 and _is_empty_list(response):  # a list of what they may see: nothing
            shown["empty list"] += 1
            continue
        wrong.append(describe(url, response) + " " + response.get("Location", ""))
    assert wrong == [], "\n".join(wrong)
    assert shown[403] >= 200  # the qms application and every flow


def test_the_expired_auditor_and_the_active_one_differ(crawl):
    """The denied case beside the allowed one: the records registry opens only while the grant runs."""
    def status(role, path):
        return next(response.status_code for url, response in crawl[role] if url.path == path)

    assert status("auditor", "/qms/records/") == 200
    assert status("auditor_expired", "/qms/records/") == 403
    assert status("no_membership", "/qms/records/") == 403


POST_FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S | re.I)
INPUT = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"(?P<name>[^\"]+)\"(?:[^>]*\bvalue=\"(?P<value>[^\"]*)\")?",
                   re.I)


def _post_forms(url, response):
    """(action path, data) of every method="post" form of an HTML page."""
    if not response.get("Content-Type", "").startswith("text/html") or response.status_code != 200:
        return []
    forms = []
    for match in POST_FORM.finditer(response.content.decode()):
        attrs = match.group("attrs")
        if not re.search(r"method=\"post\"", attrs, re.I):
            continue
        action = re.search(r"action=\"([^\"]*)\"", attrs)
        path = urlsplit(urljoin(url.path, action.group(1) if action else "")).path or url.path
        data = {field.group("name"): field.group("value") or "" for field in INPUT.finditer(match.group("body"))}
        forms.append((path.replace("&amp;", "&"), data))
    return forms


def test_an_auditor_is_never_shown_a_write_form_that_would_succeed(crawl):
    from core.models import AuditEntry

    forms = {}
    for url, response in crawl["auditor"]:
        for path, data in _post_forms(url, response):
            forms.setdefault(path, (url.path, data))
    assert forms, "the auditor's pages show no form at all: the crawl saw no page"
    client = client_for("auditor")
    refused_before = AuditEntry.objects.filter(action="auditor.refused").count()
    succeeded, refused = [], 0
    for path, (page, data) in sorted(forms.items()):
        if path.startswith(AUDITOR_WRITES):
            continue
        response = client.post(path, data)
        if response.status_code != 403:
            succeeded.append(f"{response.status_code} POST {path} (form on {page})")
        else:
            refused += 1
    assert succeeded == [], "\n".join(succeeded)
    assert AuditEntry.objects.filter(action="auditor.refused").count() == refused_before + refused


def test_staff_and_managers_open_their_own_department_pages(crawl):
    """The allowed side of the matrix: the pages every member needs open for each of them."""
    for role in [*DEPARTMENT_STAFF, "quality_mgr", "gm"]:
        if role not in crawl:
            continue
        statuses = {url.path: response.status_code for url, response in crawl[role]}
        for path in ("/qms/dashboard/", "/qms/inbox/", "/qms/queue/", "/qms/notifications/", "/api/tasks/"):
            assert statuses[path] == 200, (role, path, statuses[path])
