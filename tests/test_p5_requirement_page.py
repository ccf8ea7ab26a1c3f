"""The requirement's page (issue 16, /qms/requirements/<number>/): every section read with its labels
in English and in Chinese (a change's fields by their labels, never their keys), the actions shown only
to who may take them (a change: Market; a CAPA: Quality; a document change: Market or Quality; none to
an auditor), 404 for a number not visible, 403 for who may not see the register, the other P5 paths
still reached, and a fixed number of queries whatever the number of changes."""
import re

import pytest
from api_driver import client_for
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.db import connection
from evidence_support import AUDITOR_PASSWORD, make_auditor, other_record_type
from flow_driver import act
from test_browser_journey import browser  # noqa: F401 (the fixture)
from test_p5_change_and_links import approved_requirement, day, request, review_change

from accounts.models import User
from inbox.signals import process_link
from procedures.requirements.models import RequirementChange, RequirementProcess
from workflows.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PAGE = "/qms/requirements/{}/"


def web(username, password=DEMO_PASSWORD):
    client = Client()
    assert client.post("/accounts/login/", {"username": username, "password": password}).status_code == 302
    return client


def read(client, number, language="en"):
    response = client.get(PAGE.format(number), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def reject_change(people, req, **values):
    process = request(people, req, **values)
    review_change(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "不同意 no"}, meaning="rejected", reason="不同意 no")
    return process


@pytest.fixture
def changed(people):
    """An approved requirement with one approved change, one rejected change and a CAPA raised by Quality."""
    req, main = approved_requirement(people)
    process = request(people, req, importance=5, urgency=5, due_date=day(20), kano_category="A")
    review_change(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "同意变更 agreed"}, meaning="approved")
    reject_change(people, req, urgency=1)
    raised = client_for("quality").post(f"/api/requirements/{req.record.number}/raise/",
                                        {"kind": "capa", "reason": "未满足 not met"}, format="json")
    assert raised.status_code == 201, raised.content
    req.refresh_from_db()
    return req, main, raised.json()["number"]


def test_the_page_shows_each_section_with_labels_in_english(people, changed):
    req, main, capa = changed
    html = read(web("market"), req.record.number)
    for section in ("collected", "analysis", "approval", "answer", "links", "changes", "raised", "houses", "process"):
        assert f'id="section-{section}"' in html, section
    assert "外壳颜色 RAL 7035 colour" in html  # the customer's words
    assert "Explicit" in html and "Customer visit" in html  # type and channel by their labels
    assert re.search(r"A \(act now\) · Importance 5 × Urgency 5 = 25", html)
    assert "Attractive" in html  # the KANO category the change set
    departments = re.search(r'id="review-departments">([^<]*)<', html).group(1)
    assert set(departments.split(" · ")) == {"Quality", "Engineering"}  # the reviewing departments by name
    assert "王芳 Wang Fang" in html and "杨磊 Yang Lei" in html  # the reviews' signers
    assert "张伟 Zhang Wei" in html and "同意 agreed" in html  # the approval
    # the change history: fields by their labels, values formatted, outcome, who
    changes = html[html.index('id="section-changes"'):html.index('id="section-raised"')]
    assert "Change 1" in changes and "Change 2" in changes and "Approved" in changes and "Rejected" in changes
    for label in ("Importance", "Urgency", "Due date", "KANO category"):
        assert f">{label}<" in changes, label
    for key in (">importance<", ">urgency<", ">due_date<", ">kano_category<"):
        assert key not in changes
    assert day(20) in changes and "Attractive" in changes and "客户来函 customer letter" in changes
    assert "李娜 Li Na" in changes and "不同意 no" in changes
    # what was raised, linked to its record; the record page and the PDF; the process and its open task
    assert f'href="/qms/records/{capa}/"' in html
    assert f'href="/qms/records/{req.record.number}/"' in html
    assert f'/qms/records/{req.record.number}/v{req.record.current_version}/pdf/' in html
    assert process_link(main) in html and 'id="open-tasks"' in html


def test_the_page_reads_in_chinese(people, changed):
    req, _main, _capa = changed
    html = read(web("market"), req.record.number, "zh-hans")
    changes = html[html.index('id="section-changes"'):html.index('id="section-raised"')]
    for label in ("重要度", "紧急度", "完成期限", "KANO 分类"):
        assert f">{label}<" in changes, label
    assert "魅力型" in changes and "已批准" in changes and "已驳回" in changes
    assert "明示要求" in html and "客户拜访" in html
    assert set(re.search(r'id="review-departments">([^<]*)<', html).group(1).split(" · ")) == {"品质部", "工程部"}


def test_actions_are_shown_only_to_who_may_take_them(people, changed):
    req, main, _capa = changed
    market = read(web("market"), req.record.number)
    assert 'id="request-change"' in market and 'id="raise-document"' in market and 'id="raise-capa"' not in market
    quality = read(web("quality"), req.record.number)
    assert 'id="raise-capa"' in quality and 'id="raise-document"' in quality and 'id="request-change"' not in quality
    production = read(web("production"), req.record.number)
    assert not any(f'id="{a}"' in production for a in ("request-change", "raise-capa", "raise-document"))
    # the step summary shows "Request a change" to Market only
    def summary(username):
        http = RequestFactory().get("/")
        http.user = people[username]
        fresh = RequirementProcess.objects.get(pk=main.pk)  # its requirement as it is now (not the one cached)
        return render_to_string("requirements/step_summary.html", {"process": fresh}, request=http)

    assert 'id="request-change"' in summary("market") and 'id="raise-link"' in summary("market")
    assert 'id="request-change"' not in summary("quality") and 'id="raise-link"' in summary("quality")
    assert 'id="request-change"' not in summary("production") and 'id="raise-link"' not in summary("production")
    # a change in review: no second request offered
    request(people, req, urgency=3)
    assert 'id="request-change"' not in read(web("market"), req.record.number)
    assert RequirementChange.objects.filter(requirement=req).count() == 3


def test_auditors_read_only_others_refused_and_unknown_numbers_404(people, changed):
    req, _main, _capa = changed
    make_auditor(people)
    auditor = web("auditor", AUDITOR_PASSWORD)
    html = read(auditor, req.record.number)
    assert "Change history" in html
    assert not any(f'id="{a}"' in html for a in ("request-change", "raise-capa", "raise-document", "raise"))
    assert auditor.post(f"/qms/requirement_links/requirement/{req.record.number}/raise/",
                        {"kind": "capa", "reason": "x"}).status_code in (403, 404, 405)
    scoped = make_auditor(people, "auditor2", record_types=[other_record_type(req.record)])
    assert scoped and web("auditor2", AUDITOR_PASSWORD).get(PAGE.format(req.record.number)).status_code == 404
    assert web("market").get(PAGE.format("CR-1999-0001")).status_code == 404
    User.objects.create_user("nobody", password=DEMO_PASSWORD, display_name="No One")
    assert web("nobody").get(PAGE.format(req.record.number)).status_code == 403


def test_the_other_p5_pages_still_win_over_the_number(people):
    market = web("market")
    for url, marker in (("/qms/requirements/kano/", "kano"), ("/qms/requirements/qfd/", "qfd"),
                        ("/qms/requirements/report/", "report"), ("/qms/requirements/priority-matrix/", "matrix")):
        response = market.get(url)
        assert response.status_code == 200, url
        assert response.resolver_match.url_name != "detail", url


def test_the_register_links_each_number_to_its_page(people, changed):
    req, _main, _capa = changed
    html = web("market").get("/qms/requirements/").content.decode()
    assert f'href="{PAGE.format(req.record.number)}"' in html


def test_the_query_count_does_not_grow_with_the_changes(people, django_assert_num_queries):
    req, _main = approved_requirement(people)
    reject_change(people, req, urgency=1)
    market = web("market")
    read(market, req.record.number)  # warm the caches (content types, sessions)
    with CaptureQueriesContext(connection) as one:
        read(market, req.record.number)
    for urgency in (3, 4, 5, 1):
        reject_change(people, req, urgency=urgency)
    assert req.changes.count() == 5
    with django_assert_num_queries(len(one.captured_queries)):
        html = read(market, req.record.number)
    assert "Change 5" in html


# --- the page in a browser: both languages, a laptop's and a phone's width -------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_page_reads_well_at_desk_and_phone_width(browser, live_server, people, language,  # noqa: F811
                                                     monkeypatch):
    import test_screens
    from test_screens import log_in, look

    monkeypatch.setattr(test_screens, "SCREENS", test_screens.SHOTS / "requirement-page")
    req, _main = approved_requirement(people)
    process = request(people, req, importance=5, urgency=5, due_date=day(20), kano_category="A",
                      customer_words="外壳颜色改为 RAL 9005 黑色 housing colour RAL 9005 black")
    review_change(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "同意变更 agreed"}, meaning="approved")
    reject_change(people, req, urgency=1)
    assert client_for("quality").post(f"/api/requirements/{req.record.number}/raise/",
                                      {"kind": "capa", "reason": "未满足 not met"}, format="json").status_code == 201
    problems = []
    for user in ("quality", "market"):
        context, page, errors = log_in(browser, live_server.url, user, language)
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            problems += look(page, errors, live_server.url + PAGE.format(req.record.number),
                             f"requirement-{user}-{language}-{width}")
        context.close()
    assert not problems, problems
