"""Schemathesis over every operation of the OpenAPI schema (/api/schema/), as a real
user with real data present (an order review, a complaint, a corrective action and a
document under way, a calendar, an absence, notifications):

- no generated request, valid or not, answers a server error (status >= 500);
- a refused write (4xx) changes no row: the record, process, task and audit-entry
  tables have as many rows after it as before (the only audit entries a refusal
  writes on purpose are a wrong signing password and a failed login — SIG-12).

Path parameters are drawn half the time from the ids that exist, so the operations on
one task, record or document are exercised beyond "404". The default run is bounded
and derandomised (the same examples every run, a few minutes at most on SQLite);
`pytest -m fuzz tests/test_schema_fuzz.py` runs many more, random, examples and shrinks
what it finds (QMS_FUZZ_EXAMPLES, default 200, per operation and mode)."""
import collections
import datetime
import os
import sys
import traceback

import pytest
import schemathesis
from schemathesis.core.control import SkipTest
from django.core.signals import got_request_exception
from django.test.client import ClientHandler
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from django.utils import timezone
from rest_framework.authtoken.models import Token
from viewflow.workflow.models import Process, Task

from api_driver import client_for
from core.models import AuditEntry, Record

pytestmark = pytest.mark.django_db

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
#: audit entries a refused request writes on purpose (a wrong signing password counts towards the lockout; a
#: failed login is recorded): nothing else may be written by a refusal
REFUSAL_AUDIT_ACTIONS = {"esign.failed", "esign.locked", "auth.login_failed"}
#: who sends each operation (the one allowed to, so that its input is validated beyond "403"); default quality_mgr
SENDERS = {("POST", "/api/order-reviews/"): "market", ("POST", "/api/order-reviews/change/"): "market",
           ("POST", "/api/complaints/"): "market", ("POST", "/api/complaint-analyses/"): "market_mgr"}


def wsgi_app():
    """The project as a WSGI application for schemathesis, through Django's test handler
    (which keeps the test's database connection open between requests)."""
    handler = ClientHandler(enforce_csrf_checks=False)

    def app(environ, start_response):
        response = handler(environ)
        headers = list(response.items()) + [("Set-Cookie", c.output(header="")) for c in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return response

    return app


def row_counts():
    return {"records": Record.objects.count(), "processes": Process.objects.count(), "tasks": Task.objects.count(),
            "audit": AuditEntry.objects.count()}


@pytest.fixture
def world(people, order_data):
    """Something of every kind for the operations to find, started through the API.
    Returns {username: API client} of the senders."""
    from p2_support import intake
    from p3_support import raise_data
    from p4_support import new_document_data

    market, quality_mgr = client_for("market"), client_for("quality_mgr")
    soon = timezone.localdate() + datetime.timedelta(days=3)
    for client, url, body, status in [
        (market, "/api/order-reviews/", order_data(), 201),
        (market, "/api/complaints/", intake(), 201),
        (quality_mgr, "/api/capas/", raise_data(), 201),
        (client_for("quality"), "/api/documents/", new_document_data("QP-QA-09"), 201),
        (quality_mgr, "/api/calendar/", {"date": "2027-02-08", "kind": "holiday"}, 201),
        (quality_mgr, "/api/evidence/bundles/", {"search": {"q": "OR"}}, 202),
        (quality_mgr, "/api/me/delegations/", {"substitute": "quality", "starts_on": soon.isoformat(),
                                               "ends_on": (soon + datetime.timedelta(days=2)).isoformat(),
                                               "reason": "出差 trip"}, 201),
    ]:
        response = client.post(url, body, format="json")
        assert response.status_code == status, (url, response.content)
    return {name: client_for(name) for name in {"quality_mgr", *SENDERS.values()}}


def known_path_values():
    """Real values for each path parameter, by the path it appears in."""
    from evidence.models import EvidenceBundle
    from procedures.capa.models import CapaCase
    from procedures.complaints.models import Lot
    from inbox.models import CalendarDay, Notification
    from procedures.documents.models import ApprovalRule, Document, RevisionFile
    from inbox.models import Delegation

    tasks = list(Task.objects.filter(flow_task_type="HUMAN").values_list("pk", flat=True))
    return {
        "/api/tasks/": {"id": tasks, "pk": tasks},
        "/api/records/": {"id": list(Record.objects.values_list("pk", flat=True))},
        "/api/processes/": {"id": list(Process.objects.values_list("pk", flat=True))},
        "/api/lots/": {"id": list(Lot.objects.values_list("pk", flat=True))},
        "/api/documents/": {"id": list(Document.objects.values_list("pk", flat=True)),
                            "file_id": list(RevisionFile.objects.values_list("pk", flat=True))},
        "/api/approval-rules/": {"id": list(ApprovalRule.objects.values_list("pk", flat=True))},
        "/api/evidence/bundles/": {"id": list(EvidenceBundle.objects.values_list("pk", flat=True))},
        "/api/calendar/": {"id": list(CalendarDay.objects.values_list("pk", flat=True))},
        "/api/me/delegations/": {"id": list(Delegation.objects.values_list("pk", flat=True))},
        "/api/notifications/": {"id": list(Notification.objects.values_list("pk", flat=True))},
        "/api/capas/": {"number": list(CapaCase.objects.values_list("record__number", flat=True))},
        "/api/step-targets/": {"flow": ["OrderReviewFlow", "ComplaintFlow"], "step": ["review_quality", "inspect"]},
    }


def with_real_ids(operation, strategy, known):
    """Cases of `strategy` whose path parameters are, half the time, ids that exist."""
    values = next((v for prefix, v in known.items() if operation.path.startswith(prefix)), {})
    names = [p.name for p in operation.path_parameters] if hasattr(operation, "path_parameters") else []
    choices = {name: values[name] for name in names if values.get(name)}
    if not choices:
        return strategy

    def replace(args):
        case, use_real, picks = args
        if use_real and case.path_parameters is not None:
            case.path_parameters.update(picks)
        return case

    picks = st.fixed_dictionaries({name: st.sampled_from(options) for name, options in choices.items()})
    return st.tuples(strategy, st.booleans(), picks).map(replace)


class Findings:
    """Server errors and refusals that changed rows, with the request that caused them."""

    def __init__(self):
        self.items = {}
        self.exceptions = []
        self.statuses = collections.Counter()  # (method, path, status) -> requests, shown with -s
        got_request_exception.connect(self._record_exception)

    def _record_exception(self, sender, request=None, **kwargs):
        self.exceptions.append("".join(traceback.format_exception(*sys.exc_info())[-6:]))

    def close(self):
        got_request_exception.disconnect(self._record_exception)

    def add(self, key, text):
        self.items.setdefault(key, text)


def exercise(case, *, app, token, findings):
    write = case.method.upper() in WRITES
    before = row_counts() if write else None
    findings.exceptions.clear()
    response = case.call(app=app, headers={"Authorization": f"Token {token}"})
    status = response.status_code
    findings.statuses[(case.method, case.path, status)] += 1
    if status >= 500:
        text = f"{status} {case.method} {case.formatted_path}\n{case.as_curl_command()}\n" + "".join(findings.exceptions)
        findings.add((case.method, case.path, "server error", findings.exceptions[-1].splitlines()[-1]
                      if findings.exceptions else status), text)
        raise AssertionError(text)
    if write and 400 <= status < 500:
        after = row_counts()
        new_audit = list(AuditEntry.objects.order_by("seq")[before["audit"]:].values_list("action", flat=True))
        changed = {k: (before[k], after[k]) for k in ("records", "processes", "tasks") if before[k] != after[k]}
        unexpected = sorted(set(new_audit) - REFUSAL_AUDIT_ACTIONS)
        if changed or unexpected:
            text = (f"{status} {case.method} {case.formatted_path} changed {changed} audit {unexpected}\n"
                    f"{case.as_curl_command()}")
            findings.add((case.method, case.path, "refusal wrote"), text)
            raise AssertionError(text)


def fuzz_every_operation(clients, *, examples, derandomize, only=None):
    """Run every operation (or those `only(operation)` keeps) in both generation modes;
    returns the Findings."""
    response = clients["quality_mgr"].get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    app, known, findings = wsgi_app(), known_path_values(), Findings()
    tokens = {name: Token.objects.get(user__username=name).key for name in clients}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50, "every operation of the schema"
    operations = [operation for operation in operations if only is None or only(operation)]
    phases = [Phase.explicit, Phase.generate] + ([] if derandomize else [Phase.shrink])
    try:
        for operation in operations:
            sender = SENDERS.get((operation.method.upper(), operation.path), "quality_mgr")
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                # One mode at a time: where nothing of an operation can be made invalid (a plain string in
                # the path, no query or body), schemathesis then says so at once (SkipTest) instead of
                # Hypothesis rejecting some 460 drafts before it gives up (about 2 s per such operation).
                schema.config.generation.update(modes=[mode])
                strategy = with_real_ids(operation, operation.as_strategy(generation_mode=mode), known)

                @hypothesis_settings(max_examples=examples, deadline=None, derandomize=derandomize, database=None,
                                     phases=phases, suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
                @given(case=strategy)
                def run(case):
                    exercise(case, app=app, token=tokens[sender], findings=findings)

                try:
                    run()
                except AssertionError:
                    pass  # kept in findings; go on with the other operations
                except SkipTest:  # a BaseException: nothing of this operation can be made invalid
                    pass
                except Exception as error:  # a mode this operation cannot generate (e.g. nothing negative)
                    if "Unsatisfiable" not in type(error).__name__ and "NoNegative" not in type(error).__name__:
                        raise
    finally:
        findings.close()
    return findings


def test_no_operation_answers_a_server_error_and_no_refusal_writes(world):
    findings = fuzz_every_operation(world, examples=int(os.environ.get("QMS_SCHEMA_EXAMPLES", "12")),
                                    derandomize=True)
    assert not findings.items, "\n\n".join(findings.items.values())


@pytest.mark.fuzz
def test_fuzz_every_operation_at_length(world):
    findings = fuzz_every_operation(world, examples=int(os.environ.get("QMS_FUZZ_EXAMPLES", "200")),
                                    derandomize=False)
    for (method, path, status), n in sorted(findings.statuses.items()):
        print(f"{n:6d}  {status}  {method} {path}")
    assert not findings.items, "\n\n".join(findings.items.values())


def test_a_server_error_would_be_found(world, monkeypatch):
    """The harness itself: an endpoint that fails is reported with its request, not missed."""
    from api import views

    def broken(self, request):
        raise RuntimeError("planted")

    monkeypatch.setattr(views.AcceptAccountabilityView, "get", broken)
    findings = fuzz_every_operation(world, examples=2, derandomize=True,
                                    only=lambda operation: operation.path == "/api/me/accept-accountability/")
    assert [key[:3] for key in findings.items] == [("GET", "/api/me/accept-accountability/", "server error")]
    assert "RuntimeError: planted" in next(iter(findings.items.values()))
