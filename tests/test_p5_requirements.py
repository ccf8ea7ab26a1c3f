"""P5 customer requirement management (issue 16): the flow end to end through the actions and
the REST API, bad input, who may do what, the record's PDF, the audit trail; and the pure
KANO, QFD and priority-matrix calculations (REQUIREMENTS.md CR-1…7, KANO-1…3, QFD-1, PM-1)."""
import datetime
import subprocess
from fractions import Fraction

import pytest
from api_driver import client_for, do
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from flow_driver import act, open_tasks, start
from viewflow.workflow.status import STATUS

from core.errors import InvalidInput, NotPermitted
from core.models import AuditEntry, Record, RecordFile, Signature
from core.verification import verify_all
from pdf_face import cjk_face
from procedures.requirements import analysis
from procedures.requirements.flows import RequirementFlow as FLOW
from procedures.requirements.models import (
    CustomerRequirement,
    PriorityMatrix,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()


def day(n):
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def collect_data(**extra):
    return {"customer": "C001", "channel": "visit", "requirement_type": "explicit", "product": "P-1001",
            "received_on": day(0), "customer_words": "外壳颜色改为 RAL 7035 housing colour RAL 7035",
            "meaning": "涂装工艺需调整 the painting process changes", **extra}


def analysis_data(**extra):
    return {"importance": 4, "urgency": 4, "kano_category": "O", "feasibility": "可行 feasible",
            "review_departments": ["quality", "engineering"], **extra}


def review_all(process, people, departments=("quality", "engineering"), verdict="feasible"):
    for dept in departments:
        act(process, "review", people[dept], {"verdict": verdict, "comment": "意见 comment"}, meaning="reviewed")


def to_approval(people, **collect):
    process = start(FLOW, "start", people["market"], collect_data(**collect))
    act(process, "analyse", people["market"], analysis_data(), meaning="authored")
    review_all(process, people)
    return process


def approve(process, people, approver="market_mgr", owner="engineering"):
    act(process, "approve", people[approver], {"conclusion": "同意 agreed", "owner": owner, "due_date": day(10)},
        meaning="approved")


def req_of(process):
    process.refresh_from_db()
    return CustomerRequirement.objects.get(record__process=process)


def pdf_text(path):
    return " ".join(subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())


def pdf_fonts(path):
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]


# --- the flow, every path ---------------------------------------------------------------------------------


def test_the_main_path_collect_to_answer_with_versions_signatures_pdf_and_a_clean_audit(people):
    process = start(FLOW, "start", people["market"], collect_data())
    req = req_of(process)
    assert (req.status, req.record.number[:3], req.customer.code) == ("registered", "CR-", "C001")
    assert req.record.form_code == "QR-MK-005" and req.record.form_revision == "A/0"
    assert FLOW.subjects([process])[process.pk].startswith(
        f"{req.record.number} · East China Electronics Co., Ltd. · 外壳颜色改为 RAL 7035 housing")

    act(process, "analyse", people["market"], analysis_data(), meaning="authored")
    req = req_of(process)
    assert (req.status, req.priority) == ("in_review", "A")  # 4 × 4 = 16 ≥ 15
    # one review task per department named, in that department's queue only
    tasks = open_tasks(process, "review")
    assert sorted(t.data["department"] for t in tasks) == ["engineering", "quality"]
    assert sorted(t.owner_permission for t in tasks) == ["accounts.dept_engineering_staff",
                                                         "accounts.dept_quality_staff"]
    review_all(process, people, verdict="conditions")
    assert req_of(process).status == "awaiting_approval"

    approve(process, people)
    req = req_of(process)
    assert (req.status, req.owner, req.due_date) == ("approved", people["engineering"], TODAY + datetime.timedelta(10))
    (track,) = open_tasks(process, "track")
    assert track.owner == people["engineering"] and track.owner_permission in (None, "")

    act(process, "track", people["engineering"], {"outcome": "in_implementation", "progress": "打样中 sampling"})
    assert req_of(process).status == "in_implementation"
    act(process, "track", people["engineering"], {"outcome": "implemented", "progress": "已量产 in production"})
    act(process, "evaluate", people["market2"], {
        "fulfilment": "met", "evidence": "首件检验报告 first-article report", "answer_date": day(0),
        "answer_channel": "email", "answer_content": "颜色已按要求更改 colour changed as asked"}, meaning="verified")
    req = req_of(process)
    assert (req.status, req.fulfilment, req.answer_channel) == ("completed", "met", "email")
    process.refresh_from_db()
    assert process.status == STATUS.DONE

    # a version at each step: registered (the first, with the content), analysed, 2 reviews, reviews in, approved,
    # 2× progress, answered
    assert req.record.current_version == 9
    assert Signature.objects.filter(record_version__record=req.record).count() == 5
    version = req.record.get_version()
    assert version.data["reviews"][0]["verdict"] == "conditions" and version.data["answer_date"] == day(0)
    actions_logged = set(AuditEntry.objects.filter(record=req.record).values_list("action", flat=True))
    assert {"requirement.registered", "requirement.analysed", "requirement.reviewed", "requirement.decided",
            "requirement.tracked", "requirement.answered"} <= actions_logged

    # the PDF: bilingual title, CJK text, every signer, fonts embedded
    file = RecordFile.objects.get(record_version=version, kind="pdf")
    text = pdf_text(file.file.path)
    assert "顾客需求评审表" in text and "Customer Requirement Review Form" in text
    assert req.record.number in text and "QR-MK-005" in text
    assert "外壳颜色改为" in text and "颜色已按要求更改" in text and "有条件满足" in text
    for name in ("李娜 Li Na", "王芳 Wang Fang", "杨磊 Yang Lei", "张伟 Zhang Wei", "孙丽 Sun Li"):
        assert name in text, name
    fonts = pdf_fonts(file.file.path)
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)
    assert any(cjk_face() in line.replace("-", "").lower() for line in fonts), fonts

    _counts, problems, _warnings = verify_all()
    assert problems == [], problems


def test_a_duplicate_is_registered_linked_and_closed(people):
    first = start(FLOW, "start", people["market"], collect_data())
    number = req_of(first).record.number
    dup = start(FLOW, "start", people["market2"], collect_data(channel="email", duplicate_of=number))
    req = req_of(dup)
    dup.refresh_from_db()
    assert req.status == "duplicate" and dup.status == STATUS.DONE
    assert [(l.kind, l.target.record.number) for l in req.links.all()] == [("duplicate_of", number)]
    assert req_of(first).duplicates.get() == req
    assert not open_tasks(dup, "analyse")


def test_rejection_closes_the_requirement_with_the_reason(people):
    process = to_approval(people)
    act(process, "approve", people["market_mgr"], {"conclusion": "成本过高 too costly"}, meaning="rejected",
        reason="成本过高 too costly")
    req = req_of(process)
    process.refresh_from_db()
    assert (req.status, req.decision, req.decision_reason, req.owner) == ("rejected", "rejected", "成本过高 too costly",
                                                                         None)
    assert process.status == STATUS.DONE and not open_tasks(process, "track")


def test_withdrawn_by_the_customer_while_tracked(people):
    process = to_approval(people)
    approve(process, people)
    act(process, "track", people["engineering"], {"outcome": "withdrawn", "progress": "客户取消 customer withdrew"})
    process.refresh_from_db()
    assert req_of(process).status == "withdrawn" and process.status == STATUS.DONE


def test_conflicts_and_dependencies_are_links(people):
    other = start(FLOW, "start", people["market"], collect_data())
    third = start(FLOW, "start", people["market"], collect_data())
    process = start(FLOW, "start", people["market"], collect_data())
    n1, n2 = req_of(other).record.number, req_of(third).record.number
    act(process, "analyse", people["market"], analysis_data(conflicts_with=n1, depends_on=f"{n1}, {n2}"),
        meaning="authored")
    links = sorted((l.kind, l.target.record.number) for l in req_of(process).links.all())
    assert links == sorted([("conflicts_with", n1), ("depends_on", n1), ("depends_on", n2)])
    assert len(req_of(process).record.get_version().data["links"]) == 3


def test_approval_route_general_manager_for_a_customer_specific_change(people):
    process = start(FLOW, "start", people["market"], collect_data(requirement_type="customer_specific"))
    act(process, "analyse", people["market"], analysis_data(changes_product_or_process=True), meaning="authored")
    review_all(process, people)
    (task,) = open_tasks(process, "approve")
    assert task.owner_permission == "accounts.dept_management_manager"
    assert not task.flow_task.can_assign(people["market_mgr"], task)
    approve(process, people, approver="gm")
    version = req_of(process).record.get_version()
    assert Signature.objects.filter(record_version=version).get().role == "总经理 General Manager"


def test_customer_specific_without_a_product_change_goes_to_the_market_manager(people):
    process = to_approval(people, requirement_type="customer_specific")
    (task,) = open_tasks(process, "approve")
    assert task.owner_permission == "accounts.dept_market_manager"


# --- who may do what ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username,allowed", [("market", True), ("market2", True), ("market_mgr", True),
                                              ("quality", False), ("engineering_mgr", False), ("gm", False)])
def test_who_may_register(people, username, allowed):
    if allowed:
        assert req_of(start(FLOW, "start", people[username], collect_data())).status == "registered"
    else:
        with pytest.raises(NotPermitted):
            start(FLOW, "start", people[username], collect_data())
        assert not CustomerRequirement.objects.exists()


def test_who_may_analyse_review_and_approve(people):
    process = start(FLOW, "start", people["market"], collect_data())
    (task,) = open_tasks(process, "analyse")
    assert [u for u in ("market", "market2", "quality", "gm") if task.flow_task.can_assign(people[u], task)] \
        == ["market", "market2"]
    act(process, "analyse", people["market"], analysis_data(review_departments=["quality"]), meaning="authored")
    (task,) = open_tasks(process, "review")
    assert [u for u in ("quality", "quality_mgr", "engineering", "production", "market")
            if task.flow_task.can_assign(people[u], task)] == ["quality", "quality_mgr"]
    review_all(process, people, ("quality",))
    (task,) = open_tasks(process, "approve")
    assert [u for u in ("market", "market_mgr", "gm", "quality_mgr") if task.flow_task.can_assign(people[u], task)] \
        == ["market_mgr"]


def test_the_manager_who_registered_it_may_not_approve_it(people):
    process = start(FLOW, "start", people["market_mgr"], collect_data())
    act(process, "analyse", people["market"], analysis_data(review_departments=["quality"]), meaning="authored")
    review_all(process, people, ("quality",))
    (task,) = open_tasks(process, "approve")
    assert "registered this requirement" in task.flow_task.refusal(people["market_mgr"], task)


def test_only_the_owner_tracks(people):
    process = to_approval(people)
    approve(process, people, owner="production")
    (task,) = open_tasks(process, "track")
    for user in ("engineering", "market", "market_mgr"):
        assert task.flow_task.refusal(people[user], task), user
    assert task.flow_task.refusal(people["production"], task) is None


# --- bad input: 400 with field errors, nothing saved ----------------------------------------------------------


@pytest.mark.parametrize("change,field", [
    ({"customer": "C999"}, "customer"),
    ({"customer_words": "   "}, "customer_words"),
    ({"customer": "", "customer_name": ""}, "customer_name"),
    ({"channel": "fax"}, "channel"),
    ({"requirement_type": "wish"}, "requirement_type"),
    ({"received_on": day(3)}, "received_on"),
    ({"duplicate_of": "CR-1999-0001"}, "duplicate_of"),
    ({"importance": 3}, "importance"),  # not a field of the start
])
def test_bad_registration_is_a_400_naming_the_field_and_saves_nothing(people, change, field):
    before = (Record.objects.count(), AuditEntry.objects.count())
    response = client_for("market").post("/api/requirements/", collect_data(**change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert (Record.objects.count(), AuditEntry.objects.count()) == before
    assert not CustomerRequirement.objects.exists()


@pytest.mark.parametrize("change,field", [
    ({"importance": 6}, "importance"), ({"urgency": 0}, "urgency"), ({"importance": "x"}, "importance"),
    ({"review_departments": []}, "review_departments"), ({"review_departments": ["market"]}, "review_departments"),
    ({"conflicts_with": "CR-1999-0009"}, "conflicts_with"), ({"feasibility": ""}, "feasibility"),
])
def test_bad_analysis_is_a_400_and_changes_nothing(people, change, field):
    api = client_for("market")
    response = api.post("/api/requirements/", collect_data(), format="json")
    assert response.status_code == 201, response.content
    process = response.json()["process"]
    before = (AuditEntry.objects.count(), Record.objects.get(number=response.json()["record"]).current_version)
    response = do(api, process, "analyse", analysis_data(**change), meaning="authored")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"], body
    req = CustomerRequirement.objects.get()
    assert (req.status, req.importance, req.priority) == ("registered", None, "")
    assert before[1] == req.record.current_version
    assert not Signature.objects.filter(record_version__record=req.record).exists()


def test_approving_without_owner_or_due_date_is_refused(people):
    process = to_approval(people)
    with pytest.raises(InvalidInput) as error:
        act(process, "approve", people["market_mgr"], {"conclusion": "同意 agreed"}, meaning="approved")
    assert set(error.value.field_errors) == {"owner", "due_date"}
    assert req_of(process).status == "awaiting_approval"


# --- the API ---------------------------------------------------------------------------------------------------


def test_the_api_walks_the_whole_flow(people):
    market = client_for("market")
    response = market.post("/api/requirements/", collect_data(customer="", customer_name="潜在客户 Prospect Ltd",
                                                              product=""), format="json")
    assert response.status_code == 201, response.content
    process, number = response.json()["process"], response.json()["record"]
    assert do(market, process, "analyse", analysis_data(importance=2, urgency=3, review_departments=["finance"]),
              meaning="authored").status_code == 200
    assert do(client_for("finance"), process, "review", {"verdict": "feasible"}, meaning="reviewed").status_code == 200
    manager = client_for("market_mgr")
    assert do(manager, process, "approve", {"conclusion": "同意 agreed", "owner": "market2", "due_date": day(5)},
              meaning="approved").status_code == 200
    owner = client_for("market2")
    assert do(owner, process, "track", {"outcome": "implemented", "progress": "完成 done"}).status_code == 200
    assert do(market, process, "evaluate", {"fulfilment": "partly_met", "evidence": "报价单 quotation",
                                           "answer_date": day(0), "answer_channel": "letter",
                                           "answer_content": "部分满足 partly met"},
              meaning="verified").status_code == 200
    detail = market.get(f"/api/requirements/{number}/").json()
    assert (detail["status"], detail["priority"], detail["potential_customer"]) == ("completed", "C", True)
    assert detail["form"]["fulfilment"] == "partly_met" and detail["form"]["reviews"][0]["department"] == "finance"
    assert market.get("/api/requirements/CR-1999-0001/").status_code == 404


def test_the_register_filters_and_pages(people):
    a = to_approval(people)  # 4 × 4 → A, awaiting approval
    approve(a, people)
    b = start(FLOW, "start", people["market"], collect_data(customer="C002", requirement_type="statutory"))
    start(FLOW, "start", people["market"], collect_data(customer="", customer_name="展会客户 Expo Visitor",
                                                       channel="exhibition"))
    CustomerRequirement.objects.filter(record__process=a).update(due_date=TODAY - datetime.timedelta(1))
    api = client_for("quality_mgr")

    def numbers(query=""):
        response = api.get(f"/api/requirements/{query}")
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["results"]]

    na, nb = req_of(a).record.number, req_of(b).record.number
    assert len(numbers()) == 3
    assert numbers("?customer=C002") == [nb]
    assert len(numbers("?customer=Expo")) == 1
    assert numbers("?type=statutory") == [nb]
    assert numbers("?priority=A") == [na]
    assert numbers("?status=approved") == [na]
    assert numbers("?overdue=1") == [na]
    assert na not in numbers("?overdue=0")
    body = api.get("/api/requirements/").json()
    assert body["count"] == 3 and "next" in body and body["results"][0]["overdue"] is False
    for bad in ("?status=lost", "?type=wish", "?priority=E", "?overdue=maybe"):
        assert api.get(f"/api/requirements/{bad}").status_code == 400, bad


def test_the_register_costs_the_same_queries_for_one_row_or_many(people):
    api = client_for("market")
    start(FLOW, "start", people["market"], collect_data())
    with CaptureQueriesContext(connection) as one:
        assert api.get("/api/requirements/").status_code == 200
    for _ in range(4):
        start(FLOW, "start", people["market"], collect_data())
    with CaptureQueriesContext(connection) as five:
        assert len(api.get("/api/requirements/").json()["results"]) == 5
    assert len(five.captured_queries) == len(one.captured_queries)


# --- the priority matrix (PM-1) -------------------------------------------------------------------------------


def test_the_priority_matrix_is_changed_only_by_its_managers_with_an_audit_entry(people):
    url = "/api/requirements/priority-matrix/"
    assert client_for("market").put(url, {"a_min": 20, "b_min": 10, "c_min": 5, "reason": "x"},
                                     format="json").status_code == 403
    manager = client_for("market_mgr")
    assert manager.put(url, {"a_min": 10, "b_min": 12, "c_min": 5, "reason": "x"}, format="json").status_code == 400
    assert manager.put(url, {"a_min": 20, "b_min": 10, "c_min": 5}, format="json").status_code == 400
    assert PriorityMatrix.current().as_data() == {"a_min": 15, "b_min": 9, "c_min": 4}
    response = manager.put(url, {"a_min": 20, "b_min": 10, "c_min": 5, "reason": "年度评审 annual review"},
                           format="json")
    assert response.status_code == 200 and response.json() == {"a_min": 20, "b_min": 10, "c_min": 5}
    entry = AuditEntry.objects.get(action="requirement.priority_matrix_changed")
    assert (entry.old_values, entry.new_values, entry.actor) == (
        {"a_min": 15, "b_min": 9, "c_min": 4}, {"a_min": 20, "b_min": 10, "c_min": 5}, people["market_mgr"])
    # the new thresholds classify the next analysis: 4 × 4 = 16 is now B
    process = start(FLOW, "start", people["market"], collect_data())
    act(process, "analyse", people["market"], analysis_data(), meaning="authored")
    assert req_of(process).priority == "B"
    assert manager.get(url).json()["a_min"] == 20


# --- KANO, QFD and the priority class: pure functions -----------------------------------------------------------

# REQUIREMENTS.md KANO-2, written out: rows functional, columns dysfunctional
KANO_ROWS = {
    "like": "Q A A A O", "must_be": "R I I I M", "neutral": "R I I I M", "live_with": "R I I I M",
    "dislike": "R R R R Q",
}
ORDER = ["like", "must_be", "neutral", "live_with", "dislike"]
ALL_PAIRS = [(f, d, KANO_ROWS[f].split()[j]) for f in ORDER for j, d in enumerate(ORDER)]


@pytest.mark.parametrize("functional,dysfunctional,expected", ALL_PAIRS)
def test_kano_table_all_25_pairs(functional, dysfunctional, expected):
    assert analysis.kano_category(functional, dysfunctional) == expected


def test_kano_table_has_exactly_25_entries_and_refuses_other_answers():
    assert len(ALL_PAIRS) == len(analysis.KANO_TABLE) == 25
    with pytest.raises(ValueError):
        analysis.kano_category("love", "dislike")


def test_kano_worked_example_by_hand():
    """12 respondents: 4 A (like/neutral), 3 O (like/dislike), 2 M (neutral/dislike), 1 I
    (neutral/neutral), 1 R (dislike/like), 1 Q (like/like). Category A (4 is the most);
    base A+O+M+I = 10; Better = (4+3)/10 = 0.7; Worse = −(3+2)/10 = −0.5."""
    pairs = ([("like", "neutral")] * 4 + [("like", "dislike")] * 3 + [("neutral", "dislike")] * 2
             + [("neutral", "neutral"), ("dislike", "like"), ("like", "like")])
    result = analysis.kano_evaluate(pairs)
    assert result.counts == {"A": 4, "O": 3, "M": 2, "I": 1, "R": 1, "Q": 1}
    assert result.category == "A"
    assert result.better == Fraction(7, 10) and result.worse == Fraction(-1, 2)


def test_kano_ties_go_to_the_category_that_matters_more_and_no_answers_give_nothing():
    tie = analysis.kano_evaluate([("like", "neutral"), ("neutral", "dislike")])  # 1 A, 1 M
    assert tie.category == "M" and tie.better == Fraction(1, 2) and tie.worse == Fraction(-1, 2)
    only_reverse = analysis.kano_evaluate([("dislike", "like")])
    assert only_reverse.category == "R" and only_reverse.better == 0 and only_reverse.worse == 0
    assert analysis.kano_evaluate([]).category == ""


def test_qfd_worked_example_by_hand():
    """Needs: durable (5), light (3), cheap (2). Characteristics: wall thickness, alloy, machining.
    thickness: durable 9, light 3 → 5×9 + 3×3 = 54
    alloy:     durable 3, light 9, cheap 3 → 15 + 27 + 6 = 48
    machining: cheap 9, durable 1 → 18 + 5 = 23        total 125."""
    weights = {"durable": 5, "light": 3, "cheap": 2}
    rel = {("durable", "thickness"): 9, ("light", "thickness"): 3, ("durable", "alloy"): 3, ("light", "alloy"): 9,
           ("cheap", "alloy"): 3, ("cheap", "machining"): 9, ("durable", "machining"): 1}
    rows = analysis.qfd_importance(weights, ["machining", "alloy", "thickness"], rel)
    assert [(r.characteristic, r.importance, r.rank) for r in rows] == [
        ("thickness", 54, 1), ("alloy", 48, 2), ("machining", 23, 3)]
    assert rows[0].relative == pytest.approx(54 / 125)
    with pytest.raises(ValueError):
        analysis.qfd_importance(weights, ["alloy"], {("durable", "alloy"): 5})
    tied = analysis.qfd_importance({"n": 1}, ["x", "y"], {("n", "x"): 3, ("n", "y"): 3})
    assert [r.rank for r in tied] == [1, 1]


@pytest.mark.parametrize("importance,urgency,expected", [
    (5, 5, "A"), (3, 5, "A"), (4, 3, "B"), (3, 3, "B"), (2, 4, "C"), (2, 2, "C"), (1, 3, "D"), (1, 1, "D")])
def test_priority_class_under_the_default_matrix(importance, urgency, expected):
    assert analysis.priority_class(importance, urgency, a_min=15, b_min=9, c_min=4) == expected


def test_priority_class_refuses_scores_out_of_range():
    for bad in (0, 6, 2.5, "3"):
        with pytest.raises(ValueError):
            analysis.priority_class(bad, 3, a_min=15, b_min=9, c_min=4)
    assert analysis.matrix_errors(15, 9, 4) == {}
    assert set(analysis.matrix_errors(9, 9, 4)) == {"a_min"}
    assert set(analysis.matrix_errors(30, 9, 0)) == {"a_min", "c_min"}


# --- the browser ------------------------------------------------------------------------------------------------


def test_the_browser_walks_the_flow_and_shows_the_summary_in_chinese(people, settings):
    from drivers import WebDriver

    web = WebDriver(base="/qms/flows/requirement")
    pid = web.start("market", collect_data())
    assert web.do("market", pid, "analyse", analysis_data(), meaning="authored") == 200
    for dept in ("quality", "engineering"):
        assert web.do(dept, pid, "review", {"verdict": "feasible"}, meaning="reviewed") == 200
    # a page of a step shows the requirement above the form, in the reader's language
    from flow_driver import open_tasks as tasks_of
    from viewflow.workflow.models import Process

    (task,) = tasks_of(Process.objects.get(pk=pid), "approve")
    client = web.client("market_mgr")
    assert client.post(f"/qms/flows/requirement/{pid}/approve/{task.pk}/assign/").status_code == 302
    page = client.get(f"/qms/flows/requirement/{pid}/approve/{task.pk}/execute/",
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="requirement-summary"' in page and "外壳颜色改为 RAL 7035" in page
    assert "A 级（立即处理）" in page or "A (act now)" in page
    assert web.do("market_mgr", pid, "approve", {"conclusion": "同意 agreed", "owner": "engineering",
                                                 "due_date": day(7)}, meaning="approved") == 200
    assert web.do("engineering", pid, "track", {"outcome": "implemented", "progress": "完成 done"}) == 200
    # bad input in the browser: the form comes back, nothing moves
    assert web.do("market", pid, "evaluate", {"fulfilment": "met", "evidence": "", "answer_date": day(0),
                                              "answer_channel": "email", "answer_content": "x"},
                  meaning="verified") == 400
    assert CustomerRequirement.objects.get().status == "in_implementation"
    assert web.do("market", pid, "evaluate", {"fulfilment": "met", "evidence": "照片 photo", "answer_date": day(0),
                                              "answer_channel": "email", "answer_content": "已完成 done"},
                  meaning="verified") == 200
    assert CustomerRequirement.objects.get().status == "completed"


# --- attachments (P5.1: the customer's letter, drawings, photos) ---------------------------------------

LETTER = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
          b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _with_files(data, *files):
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"payload": json.dumps(data), "attachments": [SimpleUploadedFile(name, content) for name, content in files]}


def test_attachments_are_registered_with_their_hash_in_the_signed_version_and_the_pdf(people):
    import hashlib

    from procedures.requirements.models import RequirementAttachment

    response = client_for("market").post("/api/requirements/", _with_files(collect_data(), ("客户来函 letter.pdf", LETTER)),
                                         format="multipart")
    assert response.status_code == 201, response.content
    req = CustomerRequirement.objects.get(record__number=response.json()["record"])
    attachment = req.attachments.get()
    assert attachment.sha256 == hashlib.sha256(LETTER).hexdigest() and attachment.file.read() == LETTER
    data = req.record.get_version().data
    assert data["attachments"] == [{"name": "客户来函 letter.pdf", "size": len(LETTER), "sha256": attachment.sha256}]
    assert RequirementAttachment.objects.count() == 1
    _counts, problems, _warnings = verify_all()
    assert not problems, problems
    from forms.pdf import render_html

    printed = render_html(req.record.get_version())
    assert "客户来函 letter.pdf" in printed and attachment.sha256 in printed


def test_an_attachment_of_the_wrong_type_registers_nothing(people):
    before = (Record.objects.count(), CustomerRequirement.objects.count())
    response = client_for("market").post("/api/requirements/", _with_files(collect_data(), ("run.exe", b"MZ\x90\x00")),
                                         format="multipart")
    assert response.status_code == 400 and "attachments" in response.json()["errors"], response.content
    assert (Record.objects.count(), CustomerRequirement.objects.count()) == before
