"""Customer satisfaction (issue 17, CA-6): the satisfaction survey — index and gaps on a worked example
computed by hand, the reproducible random sample, one-time links refused when expired, used or withdrawn
(410), bad input 400 with nothing saved, who may do what, the signed report PDF with its CJK fonts
embedded, a CAPA / a P5 requirement raised from a low indicator, P2's follow-up satisfaction and the
management-review summary (period_summary)."""
import datetime
import io
import subprocess

import openpyxl
import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from core.models import AuditEntry, RecordFile, Signature
from forms.models import Customer, OneTimeLink
from procedures.satisfaction import actions, results
from procedures.satisfaction.models import SatisfactionSurvey, SurveyAnswer, SurveyRaised, SurveyResponse
from workflows.demo import DEMO_PASSWORD
from forms import sheets

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

INDICATORS = [
    {"code": "quality", "name_zh": "产品质量", "name_en": "Quality", "weight": "3"},
    {"code": "delivery", "name_zh": "交货期", "name_en": "Delivery", "weight": "2"},
    {"code": "price", "name_zh": "价格", "name_en": "Price", "weight": "1"},
]
# The worked example, by hand (scale 1–5; (expectation, experience)):
#   C001: quality (5, 4), delivery (4, 2), price (3, 3)      segment A
#   C002: quality (5, 5), delivery (5, 3), price (4, 2)      segment B
#   C003: no response                                        → response rate 2/3 = 0.6667
# means: quality E 5.0 X 4.5 gap −0.5, satisfaction (4.5−1)/4×100 = 87.5
#        delivery E 4.5 X 2.5 gap −2.0, satisfaction (2.5−1)/4×100 = 37.5
#        price    E 3.5 X 2.5 gap −1.0, satisfaction 37.5
# index = (3×0.875 + 2×0.375 + 1×0.375) / (3+2+1) × 100 = 3.75/6 × 100 = 62.5
# segment A (C001): (3×0.75 + 2×0.25 + 1×0.5)/6 = 3.25/6 → 54.2; segment B (C002): (3×1 + 2×0.5 + 1×0.25)/6 → 70.8
# quadrants (mean weight 2, mean satisfaction (87.5+37.5+37.5)/3 = 54.17): quality keep, delivery improve first,
#   price low priority; low (satisfaction < 60 or gap < −1): delivery and price
WORKED = {"C001": {1: (5, 4), 2: (4, 2), 3: (3, 3)}, "C002": {1: (5, 5), 2: (5, 3), 3: (4, 2)}}


def api(username):
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


def web(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def no_render(monkeypatch):
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)


def plan(**extra):
    return {"title": "2026 H1 survey", "period_start": "2026-01-01", "period_end": "2026-06-30",
            "indicators": INDICATORS, "sample_method": "all", **extra}


def only_demo_customers():
    Customer.objects.exclude(code__in=["C001", "C002", "C003"]).update(active=False)


def collecting(people, **extra):
    only_demo_customers()
    with transaction.atomic():
        survey = actions.create_survey(actor=people["market"], data=plan(**extra))
        actions.open_survey(survey, actor=people["market"])
    return survey


def enter(survey, people, code, scores, user="market"):
    with transaction.atomic():
        return actions.enter_response(survey, actor=people[user], data={
            "customer": Customer.objects.get(code=code), "scores": scores})


def worked(people):
    with transaction.atomic():
        actions.set_segment(Customer.objects.get(code="C001"), actor=people["market"], segment="A")
        actions.set_segment(Customer.objects.get(code="C002"), actor=people["market"], segment="B")
    survey = collecting(people)
    for code, scores in WORKED.items():
        enter(survey, people, code, scores)
    return survey


def close(survey, user="market_mgr", password=DEMO_PASSWORD):
    return api(user).post(f"/api/satisfaction-surveys/{survey.record.number}/close/",
                          {"username": user, "password": password, "conclusion": "结论 conclusion"}, format="json")


# --- the figures ------------------------------------------------------------------------------------------------------


def test_worked_example_index_gaps_quadrants_by_hand(people):
    survey = worked(people)
    r = api("quality").get(f"/api/satisfaction-surveys/{survey.record.number}/results/")
    assert r.status_code == 200
    got = r.json()
    assert got["index"] == 62.5
    assert (got["sample_size"], got["responses"], got["response_rate"]) == (3, 2, 0.6667)
    rows = {row["code"]: row for row in got["indicators"]}
    assert [(rows[c]["mean_expectation"], rows[c]["mean_experience"], rows[c]["gap"], rows[c]["satisfaction"])
            for c in ("quality", "delivery", "price")] == [(5.0, 4.5, -0.5, 87.5), (4.5, 2.5, -2.0, 37.5),
                                                           (3.5, 2.5, -1.0, 37.5)]
    assert [rows[c]["quadrant"] for c in ("quality", "delivery", "price")] == ["keep", "improve_first",
                                                                               "low_priority"]
    assert [rows[c]["low"] for c in ("quality", "delivery", "price")] == [False, True, True]
    assert {s["segment"]: s["index"] for s in got["segments"]} == {"A": 54.2, "B": 70.8}
    # the fourth quadrant: less important than the mean, more satisfied than the mean
    assert results.quadrant(1, 90, 2, 50) == "overkill"


def test_trend_and_period_summary_against_earlier_closed_surveys(people, no_render):
    earlier = worked(people)
    assert close(earlier).status_code == 200
    with transaction.atomic():
        later = actions.create_survey(actor=people["market"], data=plan(period_start="2026-07-01",
                                                                        period_end="2026-12-31"))
        actions.open_survey(later, actor=people["market"])
    # C001 all 5/5: index 100
    enter(later, people, "C001", {1: (5, 5), 2: (5, 5), 3: (5, 5)})
    assert close(later).status_code == 200
    later.refresh_from_db()
    assert later.trend == [{"number": earlier.record.number, "period_end": "2026-06-30", "index": 62.5}]
    summary = results.period_summary(datetime.date(2026, 7, 1), datetime.date(2026, 12, 31))
    assert [s["number"] for s in summary["surveys"]] == [later.record.number]
    assert summary["index"] == 100.0 and summary["index_change"] == 37.5
    assert [(p["number"], p["index"]) for p in summary["trend"]] == [(earlier.record.number, 62.5),
                                                                      (later.record.number, 100.0)]
    assert summary["response_rate"] == round(1 / 3, 4)
    assert summary["follow_up"]["count"] == 0
    whole_year = results.period_summary(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    assert whole_year["response_rate"] == 0.5  # (2 + 1) / (3 + 3)
    assert [i["code"] for i in whole_year["surveys"][0]["low_indicators"]] == ["delivery", "price"]


# --- the sample ----------------------------------------------------------------------------------------------------------


def test_random_sample_is_reproducible_from_its_recorded_seed(people):
    for n in range(20):
        Customer.objects.create(code=f"S{n:03d}", name_zh=f"样本客户 {n}", name_en=f"Sample customer {n}")
    first = [c.code for c, _s in actions.draw_sample("random", size=5, seed=4242)]
    again = [c.code for c, _s in actions.draw_sample("random", size=5, seed=4242)]
    other = [c.code for c, _s in actions.draw_sample("random", size=5, seed=4243)]
    assert first == again and len(set(first)) == 5 and other != first
    # a survey records the seed it drew with: the same seed draws the same customers
    r = api("market").post("/api/satisfaction-surveys/", plan(sample_method="random", sample_size=5,
                                                               sample_seed=4242), format="json")
    assert r.status_code == 201, r.content
    assert r.json()["sample_seed"] == 4242
    assert sorted(s["customer_code"] for s in r.json()["sample"]) == sorted(first)
    # without a seed one is drawn and recorded; redrawing with it gives the same sample
    r = api("market").post("/api/satisfaction-surveys/", plan(sample_method="random", sample_size=7), format="json")
    assert r.status_code == 201
    seed = r.json()["sample_seed"]
    assert isinstance(seed, int)
    assert sorted(s["customer_code"] for s in r.json()["sample"]) == sorted(
        c.code for c, _s in actions.draw_sample("random", size=7, seed=seed))
    assert SatisfactionSurvey.objects.get(record__number=r.json()["number"]).record.get_version().data[
        "sample_seed"] == seed


def test_sample_by_segment(people):
    with transaction.atomic():
        actions.set_segment(Customer.objects.get(code="C002"), actor=people["market"], segment="汽车 Automotive")
    r = api("market").post("/api/satisfaction-surveys/", plan(sample_method="segment",
                                                               sample_segment="汽车 Automotive"), format="json")
    assert r.status_code == 201
    assert [s["customer_code"] for s in r.json()["sample"]] == ["C002"]


# --- one-time links ---------------------------------------------------------------------------------------------------------


def issue(survey, code="C001", days=14):
    r = api("market").post(f"/api/satisfaction-surveys/{survey.record.number}/links/",
                           {"customer": code, "days_valid": days}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def public_form(lang="en", **override):
    form = {"lang": lang, "s1-expectation": "5", "s1-experience": "4", "s2-expectation": "4",
            "s2-experience": "2", "s3-expectation": "3", "s3-experience": "3", "remark": "交期需改进"}
    return {**form, **override}


def test_link_answers_once_then_is_refused_with_410(people):
    survey = collecting(people)
    issued = issue(survey)
    token = issued["token"]
    assert issued["url"].endswith(f"/answer/survey/{token}/")
    assert token not in OneTimeLink.objects.get().token_sha256
    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(f"/answer/survey/{token}/?lang=en")
    assert page.status_code == 200 and "Delivery" in page.content.decode()
    assert "交货期" in anonymous.get(f"/answer/survey/{token}/?lang=zh-hans").content.decode()
    csrf = anonymous.cookies["csrftoken"].value
    # incomplete: 400, the link is not spent
    r = anonymous.post(f"/answer/survey/{token}/", {"lang": "en", "s1-expectation": "5", "csrfmiddlewaretoken": csrf})
    assert r.status_code == 400 and SurveyResponse.objects.count() == 0
    r = anonymous.post(f"/answer/survey/{token}/", {**public_form(), "csrfmiddlewaretoken": csrf})
    assert r.status_code == 200 and "Thank you" in r.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.source, response.customer.code, response.remark) == ("link", "C001", "交期需改进")
    assert sorted(response.answers.values_list("expectation", "experience")) == [(3, 3), (4, 2), (5, 4)]
    # reused: 410, nothing more saved
    again = anonymous.post(f"/answer/survey/{token}/", {**public_form(), "csrfmiddlewaretoken": csrf})
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert anonymous.get(f"/answer/survey/{token}/").status_code == 410
    assert SurveyResponse.objects.count() == 1 and SurveyAnswer.objects.count() == 3
    assert AuditEntry.objects.filter(action="link.used").count() == 1
    # a customer who answered gets no second link
    r = api("market").post(f"/api/satisfaction-surveys/{survey.record.number}/links/", {"customer": "C001"},
                           format="json")
    assert r.status_code == 400 and "already answered" in r.content.decode()
    assert Client().get("/answer/survey/not-a-token/").status_code == 404


def test_link_refused_when_expired_or_withdrawn(people):
    survey = collecting(people)
    token = issue(survey, "C001", days=1)["token"]
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        r = Client().post(f"/answer/survey/{token}/", public_form())
        assert r.status_code == 410 and "expired" in r.content.decode()
    issued = issue(survey, "C002")
    r = api("market").post(f"/api/satisfaction-surveys/{survey.record.number}/links/{issued['id']}/revoke/",
                           {"reason": "wrong contact"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    r = Client().post(f"/answer/survey/{issued['token']}/", public_form())
    assert r.status_code == 410 and "withdrawn" in r.content.decode()
    assert SurveyResponse.objects.count() == 0
    # the rest of the site still needs an account
    assert Client().get(f"/qms/satisfaction/{survey.record.number}/").status_code == 302
    assert Client().get("/api/satisfaction-surveys/").status_code == 401


def test_closed_survey_refuses_its_open_links(people, no_render):
    survey = collecting(people)
    token = issue(survey, "C003")["token"]
    enter(survey, people, "C001", WORKED["C001"])
    assert close(survey).status_code == 200
    assert Client().get(f"/answer/survey/{token}/").status_code == 410


# --- bad input: 400, nothing saved -------------------------------------------------------------------------------------------


def csv_file(rows, name="responses.csv"):
    out = io.StringIO()
    out.write("customer,respondent,remark,quality expectation,quality experience,delivery expectation,"
              "delivery experience,price expectation,price experience\n")
    for row in rows:
        out.write(",".join(row) + "\n")
    data = io.BytesIO(out.getvalue().encode("utf-8"))
    data.name = name
    return data


def test_bad_input_is_400_and_saves_nothing(people):
    only_demo_customers()
    market = api("market")
    surveys = SatisfactionSurvey.objects.count()
    r = market.post("/api/satisfaction-surveys/", plan(period_end="2025-01-01", indicators=[
        {"name_zh": "质量", "name_en": "Quality", "weight": "-1"}]), format="json")
    assert r.status_code == 400
    body = r.content.decode()
    assert "period_end" in body and "indicators.1.weight" in body
    assert market.post("/api/satisfaction-surveys/", {**plan(), "colour": "red"}, format="json").status_code == 400
    assert SatisfactionSurvey.objects.count() == surveys
    survey = collecting(people)
    number = survey.record.number
    versions = survey.record.versions.count()
    # a score off the scale, a customer outside the sample
    r = market.post(f"/api/satisfaction-surveys/{number}/responses/", {"customer": "C001", "scores": [
        {"indicator": 1, "expectation": 6, "experience": 4}, {"indicator": 2, "expectation": 4, "experience": 2},
        {"indicator": 3, "expectation": 3, "experience": 3}]}, format="json")
    assert r.status_code == 400 and "scores.1.expectation" in r.content.decode()
    Customer.objects.create(code="C999", name_zh="外部", name_en="Outside", active=True)
    r = market.post(f"/api/satisfaction-surveys/{number}/responses/", {"customer": "C999", "scores": []},
                    format="json")
    assert r.status_code == 400 and "not in the survey" in r.content.decode()
    # an import with one bad row: 400 naming row and column, nothing saved (not even the good row)
    r = market.post(f"/api/satisfaction-surveys/{number}/import/", {"file": csv_file([
        ["C001", "Mr. Chen", "", "5", "4", "4", "2", "3", "3"],
        ["C002", "Ms. Li", "", "5", "7", "5", "3", "4", "2"]])}, format="multipart")
    assert r.status_code == 400
    errors = r.json()
    text = str(errors)
    assert "row 3" in text and "column E (quality experience)" in text and "row 2" not in text
    assert SurveyResponse.objects.count() == 0 and survey.record.versions.count() == versions
    # the same file corrected is imported
    r = market.post(f"/api/satisfaction-surveys/{number}/import/", {"file": csv_file([
        ["C001", "Mr. Chen", "", "5", "4", "4", "2", "3", "3"],
        ["C002", "Ms. Li", "", "5", "5", "5", "3", "4", "2"]])}, format="multipart")
    assert r.status_code == 201 and r.json() == {"imported": 2}
    assert results.survey_index(survey) == 62.5  # the worked example again, imported
    # an XLSX that is not one; a wrong header
    fake = io.BytesIO(b"not a workbook")
    fake.name = "r.xlsx"
    assert market.post(f"/api/satisfaction-surveys/{number}/import/", {"file": fake},
                       format="multipart").status_code == 400
    book = openpyxl.Workbook()
    book.active.append(["customer", "respondent"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    data.name = "r.xlsx"
    r = market.post(f"/api/satisfaction-surveys/{number}/import/", {"file": data}, format="multipart")
    assert r.status_code == 400 and "row 1" in r.content.decode()
    assert SurveyResponse.objects.count() == 2


# --- who may do what ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def auditor(people):
    from evidence_support import make_auditor

    return make_auditor(people)


def test_role_matrix(people, auditor, no_render):
    survey = collecting(people)
    number = survey.record.number
    User.objects.create_user("outsider", password="Outsider-pass-1", display_name="外人 Outsider")
    for role, status in {"market": 201, "market_mgr": 201, "quality": 403, "gm": 403, "auditor": 403,
                         "production": 403, "outsider": 403}.items():
        with transaction.atomic():
            assert api(role).post("/api/satisfaction-surveys/", plan(), format="json").status_code == status, role
            transaction.set_rollback(True)
    scores = [{"indicator": p, "expectation": e, "experience": x} for p, (e, x) in WORKED["C001"].items()]
    for role, status in {"market": 201, "market2": 201, "market_mgr": 201, "quality": 403, "gm": 403,
                         "auditor": 403, "production": 403}.items():
        with transaction.atomic():
            r = api(role).post(f"/api/satisfaction-surveys/{number}/responses/", {"customer": "C001",
                                                                                   "scores": scores}, format="json")
            assert r.status_code == status, (role, r.content)
            transaction.set_rollback(True)
    # reading: Market, Quality, the General Manager and the auditor; not production, not an outsider
    for role, status in {"market": 200, "market_mgr": 200, "quality": 200, "gm": 200, "auditor": 200,
                         "production": 403, "outsider": 403}.items():
        assert api(role).get("/api/satisfaction-surveys/").status_code == status, role
        assert web(role).get(f"/qms/satisfaction/{number}/").status_code == status, role
    listed = api("quality").get("/api/satisfaction-surveys/").json()
    assert listed["count"] == 1 and listed["results"][0]["number"] == number
    # write pages: Market only; closing: the Market manager only
    for url in ("new/", f"{number}/responses/", f"{number}/import/", f"{number}/links/"):
        assert web("market").get(f"/qms/satisfaction/{url}").status_code == 200, url
        assert web("quality").get(f"/qms/satisfaction/{url}").status_code == 403, url
    enter(survey, people, "C001", WORKED["C001"])
    for role in ("market", "quality", "gm", "auditor"):
        assert close(survey, role).status_code == 403, role
    assert web("market").get(f"/qms/satisfaction/{number}/close/").status_code == 403
    assert web("market_mgr").get(f"/qms/satisfaction/{number}/close/").status_code == 200
    assert close(survey, "market_mgr", "wrong-password").status_code in (400, 403)
    assert close(survey).status_code == 200
    # raising: a CAPA is Quality's, a requirement Market's
    for role, kind, status in (("market", "capa", 403), ("quality", "requirement", 403)):
        r = api(role).post(f"/api/satisfaction-surveys/{number}/raise/",
                           {"indicator": 2, "kind": kind, "reason": "late deliveries"}, format="json")
        assert r.status_code == status, (role, kind)


# --- close, sign, PDF; raise a CAPA / requirement ------------------------------------------------------------------------


def test_close_signs_freezes_the_report_and_the_pdf_embeds_cjk_fonts(people, monkeypatch):
    import forms.pdf
    from forms.pdf import render_version

    survey = worked(people)
    queued = []
    monkeypatch.setattr(forms.pdf, "queue_render", queued.append)  # rendered below, not by the queue
    r = close(survey)
    assert r.status_code == 200, r.content
    survey.refresh_from_db()
    version = survey.record.get_version()
    assert queued == [version]
    assert version.data["status"] == "closed" and version.data["results"]["index"] == 62.5
    signature = Signature.objects.get(record_version=version)
    assert (signature.signer.username, signature.meaning) == ("market_mgr", "approved")
    # the survey takes no more responses
    r = api("market").post(f"/api/satisfaction-surveys/{survey.record.number}/responses/",
                           {"customer": "C003", "scores": []}, format="json")
    assert r.status_code in (400, 409)
    files = render_version(version)
    pdf = next(f for f in files if f.kind == RecordFile.Kind.PDF)
    text = " ".join(subprocess.run(["pdftotext", "-layout", pdf.file.path, "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "顾客满意度调查报告" in text and "QR-MK-007" in text and "62.5" in text
    assert "交货期 Delivery" in text and "优先改进 Improve first" in text
    fonts = subprocess.run(["pdffonts", pdf.file.path], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded
    assert any("CJK" in line or "Noto" in line for line in fonts), fonts  # the Chinese glyphs are a CJK font's
    # the results page shows the charts
    html = web("quality").get(f"/qms/satisfaction/{survey.record.number}/").content.decode()
    assert html.count("<svg") >= 2 and "62.5" in html and "Improve first" in html


def test_low_indicator_raises_a_capa_and_a_requirement_linked_both_ways(people, no_render):
    survey = worked(people)
    number = survey.record.number
    r = api("quality").post(f"/api/satisfaction-surveys/{number}/raise/",
                            {"indicator": 2, "kind": "capa", "reason": "交货期满意度 37.5 delivery satisfaction 37.5"},
                            format="json")
    assert r.status_code == 201, r.content
    capa_number = r.json()["number"]
    from procedures.capa.models import CapaCase

    capa = CapaCase.objects.get(record__number=capa_number)
    assert capa.source == "satisfaction" and number in capa.source_reference
    r = api("market").post(f"/api/satisfaction-surveys/{number}/raise/",
                           {"indicator": 3, "kind": "requirement", "reason": "price expectations"}, format="json")
    assert r.status_code == 201, r.content
    requirement_number = r.json()["number"]
    from procedures.requirements.models import CustomerRequirement

    req = CustomerRequirement.objects.get(record__number=requirement_number)
    assert number in req.meaning and req.channel == "survey"
    survey.record.refresh_from_db()
    data = survey.record.get_version().data
    assert {(row["kind"], row["number"], row["indicator"]) for row in data["raised"]} == {
        ("capa", capa_number, 2), ("requirement", requirement_number, 3)}
    assert actions.raised_from(capa.record) == survey
    assert SurveyRaised.objects.count() == 2
    r = api("quality").post(f"/api/satisfaction-surveys/{number}/raise/", {"indicator": 9, "kind": "capa",
                                                                          "reason": ""}, format="json")
    assert r.status_code == 400 and SurveyRaised.objects.count() == 2


# --- P2 follow-up satisfaction -------------------------------------------------------------------------------------------------


def closed_complaint(people, monkeypatch):
    from drivers import ApiDriver
    from p2_support import API_START, inspection, intake, judgement, skip_rendering

    skip_rendering(monkeypatch)
    drive = ApiDriver(start_url=API_START)
    pid = drive.start("market", intake(kind="complaint", lot="", quantity="5"))
    assert drive.do("quality", pid, "inspect", inspection(inspected=None, defective=None), meaning="authored") == 200
    assert drive.do("quality_mgr", pid, "judge", judgement(False), meaning="reviewed") == 200
    assert drive.do("market", pid, "negotiate", {"outcome": "customer_withdrew", "notes": "客户撤诉 withdrawn"},
                    meaning="authored") == 200
    from procedures.complaints.models import ComplaintCase

    return ComplaintCase.objects.get(record__process_id=pid)


def test_follow_up_satisfaction_recorded_on_a_closed_complaint_feeds_the_summary(people, monkeypatch):
    case = closed_complaint(people, monkeypatch)
    number = case.record.number
    assert case.status == "closed" and case.follow_up_score is None
    url = f"/api/complaint-follow-ups/{number}/"
    assert api("quality").post(url, {"score": 4}, format="json").status_code == 403
    r = api("market").post(url, {"score": 9, "remark": "x"}, format="json")
    assert r.status_code == 400 and "score" in r.content.decode()
    case.refresh_from_db()
    assert case.follow_up_score is None
    r = api("market").post(url, {"score": 4, "remark": "处理及时 handled quickly"}, format="json")
    assert r.status_code == 200, r.content
    case.refresh_from_db()
    assert (case.follow_up_score, case.follow_up_remark, case.follow_up_by.username) == (4, "处理及时 handled quickly",
                                                                                         "market")
    version = case.record.get_version()
    assert version.data["follow_up"]["score"] == 4
    assert AuditEntry.objects.filter(action="complaint.follow_up_recorded").count() == 1
    today = timezone.localdate()
    summary = results.period_summary(today.replace(day=1), today)
    assert summary["follow_up"]["count"] == 1 and summary["follow_up"]["mean_score"] == 4.0
    assert summary["follow_up"]["index"] == 75.0 and summary["follow_up"]["satisfied"] == 1
    assert summary["follow_up"]["cases"][0]["number"] == number
    # the browser page lists it and Market records it there too
    page = web("market").get("/qms/satisfaction/follow-ups/")
    assert page.status_code == 200 and number in page.content.decode()
    r = web("market").post("/qms/satisfaction/follow-ups/", {"number": number, "score": "5", "remark": "更好"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.follow_up_score == 5
    assert web("quality").post("/qms/satisfaction/follow-ups/", {"number": number, "score": "1"}).status_code == 403


# --- the demo ------------------------------------------------------------------------------------------------------------------


def test_seed_makes_a_completed_survey_and_an_earlier_one(people, no_render):
    from procedures.satisfaction.seed import seed

    line = seed(people)
    assert "closed and signed" in line
    surveys = list(SatisfactionSurvey.objects.order_by("pk"))
    assert [s.status for s in surveys] == ["closed", "closed"]
    current = surveys[1]
    assert current.sample.count() == 6 and current.sample_seed == 20260601
    assert sorted(current.responses.values_list("source", flat=True)) == ["entered", "entered", "imported",
                                                                          "imported", "link"]
    assert current.trend and current.trend[0]["number"] == surveys[0].record.number
    assert Signature.objects.filter(record_version__record=current.record).exists()
    assert seed(people) is None  # idempotent


# --- import: the columns explained, the file to fill in -------------------------------------------------------------------


def test_the_import_page_explains_each_column_and_hands_out_the_file_to_fill_in(people):
    survey = collecting(people)
    number = survey.record.number
    enter(survey, people, "C002", WORKED["C002"])  # one customer has answered already
    market = web("market")
    page = market.get(f"/qms/satisfaction/{number}/import/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    layout = html.split('id="ss-layout"', 1)[1].split("</table>", 1)[0]
    assert "<code>quality expectation</code>" in layout and "产品质量" in layout and "交货期" in layout
    assert "Quality" not in layout.replace("quality expectation", "").replace("quality experience", "")
    assert ">E<" in layout  # the column letters a spreadsheet shows
    assert "交货期：客户的满意程度（感受），1 至 5 分" in layout and "答卷人（可留空）" in layout
    en = market.get(f"/qms/satisfaction/{number}/import/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Delivery: how satisfied the customer is (experience), 1 to 5" in en
    api_columns = api("market").get(f"/api/satisfaction-surveys/{number}/").json()["import_columns"]
    assert [c["header"] for c in api_columns][:4] == ["customer", "respondent", "remark", "quality expectation"]

    template = market.get(f"/qms/satisfaction/{number}/import/template.xlsx")
    assert template.status_code == 200 and template["Content-Type"] == sheets.CONTENT_TYPE
    assert f'filename="{number}-responses.xlsx"' in template["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    sheet = book.active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == ["customer", "respondent", "remark", "quality expectation"]
    assert [row[0] for row in rows[1:]] == ["C001", "C003"]  # C002 has answered
    assert sheet["A2"].number_format == "@"  # typed codes stay text (0012 is not 12)
    assert web("quality").get(f"/qms/satisfaction/{number}/import/template.xlsx").status_code == 403

    # filled in and sent back as it is: imported
    for row in (2, 3):
        for column, score in zip("DEFGHI", (5, 4, 4, 2, 3, 3)):
            sheet[f"{column}{row}"] = score
    filled = io.BytesIO()
    book.save(filled)
    filled.seek(0)
    filled.name = "filled.xlsx"
    response = market.post(f"/qms/satisfaction/{number}/import/", {"file": filled})
    assert response.status_code == 302
    assert SurveyResponse.objects.filter(survey=survey).count() == 3


def test_workbooks_keep_what_looks_like_a_formula_as_text():
    """A customer named "=HYPERLINK(…)" in an export or a template is text, never a formula Excel would run."""
    book, sheet = sheets.workbook("t")
    sheets.append(sheet, ["=HYPERLINK(\"http://example.invalid\",\"x\")", "+1", "0012", 3.5])
    again = openpyxl.load_workbook(io.BytesIO(sheets.save(book))).active
    assert [cell.data_type for cell in again[1]] == ["s", "s", "s", "n"]
    assert again["A1"].value.startswith("=HYPERLINK") and again["C1"].value == "0012"


@pytest.mark.parametrize("value, written", [
    ("=1+2", "'=1+2"), ("+SUM(A1:A3)", "'+SUM(A1:A3)"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-5", "-5"), ("+3.25", "+3.25"), ("-1e3", "-1e3"),
    ("客户 =1", "客户 =1"), ("", ""), (12, 12), (None, None),
])
def test_csv_cells_that_a_spreadsheet_would_run_are_written_after_an_apostrophe(value, written):
    assert sheets.csv_cell(value) == written
    out = io.StringIO()
    writer = sheets.csv_writer(out, ["a"])
    writer.writeheader()
    writer.writerow({"a": value})
    plain = io.StringIO()
    sheets.csv_writer(plain).writerow([value])
    import csv  # noqa: PLC0415
    for text in (out.getvalue(), "a\r\n" + plain.getvalue()):
        assert list(csv.reader(io.StringIO(text, newline=""))) == [["a"], ["" if written is None else str(written)]]


def test_a_closed_survey_sends_the_response_and_import_pages_back_and_refuses_an_import(people, no_render):
    survey = worked(people)
    assert close(survey).status_code == 200
    number = survey.record.number
    market = web("market")
    for url in ("import/", "responses/", "import/template.xlsx"):
        response = market.get(f"/qms/satisfaction/{number}/{url}", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 302 and response["Location"].endswith(f"/qms/satisfaction/{number}/"), url
    upload = csv_file([["C003", "", "", "5", "4", "4", "2", "3", "3"]])
    assert market.post(f"/qms/satisfaction/{number}/import/", {"file": upload}).status_code == 302
    assert SurveyResponse.objects.filter(survey=survey).count() == 2
