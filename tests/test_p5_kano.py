"""P5 KANO study (KANO-1…3, issue 16): the actions, the API, the browser pages and the public
one-time-link page; a worked example computed by hand; CSV/XLSX import good and bad; links
refused when expired, reused or withdrawn; who may do what; the scatter in the page and the PDF."""
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
from test_browser_journey import browser  # noqa: F401 (the fixture)

from accounts.models import User
from core.models import AuditEntry, RecordFile, Signature
from core.verification import verify_all
from forms.models import OneTimeLink
from procedures.requirements import kano
from procedures.requirements.models import KanoRespondent, KanoStudy
from workflows.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

FEATURES = [
    {"name": "Anti-static bag", "functional_question": "If delivered in anti-static bags?",
     "dysfunctional_question": "If not in anti-static bags?"},
    {"name": "QR code", "functional_question": "If each part has a QR code?",
     "dysfunctional_question": "If no QR code?"},
]

# The worked example, by hand. Feature 1, six respondents:
#   (must_be, dislike) → M, (neutral, dislike) → M, (like, dislike) → O, (like, neutral) → A,
#   (neutral, neutral) → I, (dislike, like) → R
#   counts A1 O1 M2 I1 R1 Q0; category M (the most frequent);
#   Better = (A+O)/(A+O+M+I) = 2/5 = 0.4; Worse = −(O+M)/(A+O+M+I) = −3/5 = −0.6
# Feature 2: (like, neutral) A ×4, (like, like) Q, (live_with, live_with) I
#   counts A4 I1 Q1; category A; Better = 4/5 = 0.8; Worse = 0
WORKED = [
    (("must_be", "dislike"), ("like", "neutral")),
    (("neutral", "dislike"), ("like", "neutral")),
    (("like", "dislike"), ("like", "neutral")),
    (("like", "neutral"), ("like", "neutral")),
    (("neutral", "neutral"), ("like", "like")),
    (("dislike", "like"), ("live_with", "live_with")),
]


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


def new_study(people, **extra):
    with transaction.atomic():
        return kano.create_study(actor=people["market"], data={"title": "Bearing housing", "features": FEATURES,
                                                               **extra})


def collecting(people):
    study = new_study(people)
    with transaction.atomic():
        kano.open_study(study, actor=people["market"])
    return study


def close(study, user, password=DEMO_PASSWORD):
    sign = kano.password_signer(user, password, username=user.username, require_username=True)
    with transaction.atomic():
        return kano.close_study(study, actor=user, sign=sign)


def answers_payload(pair1, pair2, respondent="R"):
    return {"respondent": respondent, "answers": [
        {"feature": 1, "functional": pair1[0], "dysfunctional": pair1[1]},
        {"feature": 2, "functional": pair2[0], "dysfunctional": pair2[1]}]}


# --- the worked example, over the API ---------------------------------------------------------------------


def test_worked_example_over_the_api_sets_the_requirement_category_and_signs(people, no_render):
    from procedures.requirements.models import CustomerRequirement
    from test_p5_requirements import FLOW, collect_data, start

    process = start(FLOW, "start", people["market"], collect_data())
    req = CustomerRequirement.objects.get(record__process=process)
    market = api("market")
    body = {"title": "Bearing housing", "product": "P-1001",
            "features": [{**FEATURES[0], "requirement": req.record.number}, FEATURES[1]]}
    response = market.post("/api/kano-studies/", body, format="json")
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert number.startswith("KS-")
    assert market.post(f"/api/kano-studies/{number}/open/", {}, format="json").status_code == 200
    for i, (p1, p2) in enumerate(WORKED):
        r = market.post(f"/api/kano-studies/{number}/answers/", answers_payload(p1, p2, f"R{i}"), format="json")
        assert r.status_code == 201, r.content
    # only the Market manager closes, with user ID and password
    assert market.post(f"/api/kano-studies/{number}/close/", {"username": "market", "password": DEMO_PASSWORD},
                       format="json").status_code == 403
    manager = api("market_mgr")
    wrong = manager.post(f"/api/kano-studies/{number}/close/", {"username": "market_mgr", "password": "nope"},
                         format="json")
    assert wrong.status_code == 400 and KanoStudy.objects.get().status == "collecting"
    r = manager.post(f"/api/kano-studies/{number}/close/", {"username": "market_mgr", "password": DEMO_PASSWORD},
                     format="json")
    assert r.status_code == 200, r.content
    f1, f2 = r.json()["features"]
    assert f1["counts"] == {"A": 1, "O": 1, "M": 2, "I": 1, "R": 1, "Q": 0}
    assert (f1["category"], f1["better"], f1["worse"]) == ("M", 0.4, -0.6)
    assert f2["counts"] == {"A": 4, "O": 0, "M": 0, "I": 1, "R": 0, "Q": 1}
    assert (f2["category"], f2["better"], f2["worse"]) == ("A", 0.8, 0.0)
    req.refresh_from_db()
    assert req.kano_category == "M"
    assert req.record.get_version().data["kano_category"] == "M"
    assert AuditEntry.objects.filter(action="requirement.kano_set").count() == 1
    study = KanoStudy.objects.get()
    assert Signature.objects.filter(record_version__record=study.record, meaning="approved").count() == 1
    # closed: no more answers (409)
    assert market.post(f"/api/kano-studies/{number}/answers/", answers_payload(*WORKED[0]),
                       format="json").status_code == 409
    assert verify_all().ok if hasattr(verify_all(), "ok") else True


def test_api_bad_answers_are_400_and_nothing_saved(people):
    study = collecting(people)
    market, number = api("market"), study.record.number
    bad = answers_payload(("like", "maybe"), ("like", "like"))
    r = market.post(f"/api/kano-studies/{number}/answers/", bad, format="json")
    assert r.status_code == 400 and "answers.1.dysfunctional" in r.json()["errors"]
    missing = {"respondent": "X", "answers": [{"feature": 1, "functional": "like", "dysfunctional": "like"}]}
    assert market.post(f"/api/kano-studies/{number}/answers/", missing, format="json").status_code == 400
    assert market.post(f"/api/kano-studies/{number}/answers/", {**answers_payload(*WORKED[0]), "customer": "NOPE"},
                       format="json").status_code == 400
    assert market.post(f"/api/kano-studies/{number}/answers/", {**answers_payload(*WORKED[0]), "extra": 1},
                       format="json").status_code == 400
    assert market.post("/api/kano-studies/", {"title": "", "features": []}, format="json").status_code == 400
    assert KanoRespondent.objects.count() == 0 and KanoStudy.objects.count() == 1


# --- import ----------------------------------------------------------------------------------------------------


def csv_file(rows, name="answers.csv"):
    out = io.StringIO()
    out.write("respondent,customer,f1 functional,f1 dysfunctional,f2 functional,f2 dysfunctional\n")
    for row in rows:
        out.write(",".join(row) + "\n")
    data = io.BytesIO(out.getvalue().encode("utf-8"))
    data.name = name
    return data


def xlsx_file(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["respondent", "customer", "f1 F", "f1 D", "f2 F", "f2 D"])
    for row in rows:
        sheet.append(list(row))
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    data.name = "answers.xlsx"
    return data


def test_import_csv_and_xlsx_accept_codes_and_both_languages(people):
    study = collecting(people)
    market, number = api("market"), study.record.number
    r = market.post(f"/api/kano-studies/{number}/import/", {"file": csv_file([
        ["A", "C001", "like", "dislike", "我喜欢", "无所谓"],
        ["B", "", "I expect it", "I dislike it", "neutral", "neutral"]])}, format="multipart")
    assert r.status_code == 201, r.content
    assert r.json() == {"imported": 2}
    r = market.post(f"/api/kano-studies/{number}/import/", {"file": xlsx_file([
        ["C", "C002", "理所当然", "我不喜欢", "like", "like"]])}, format="multipart")
    assert r.status_code == 201, r.content
    assert KanoRespondent.objects.filter(source="imported").count() == 3
    first = KanoRespondent.objects.get(name="A")
    assert first.customer.code == "C001"
    assert [(a.functional, a.dysfunctional) for a in first.answers.order_by("feature__position")] == [
        ("like", "dislike"), ("like", "neutral")]


def test_import_with_a_bad_row_is_400_naming_row_and_column_and_saves_nothing(people):
    study = collecting(people)
    market, number = api("market"), study.record.number
    versions = study.record.versions.count()
    r = market.post(f"/api/kano-studies/{number}/import/", {"file": csv_file([
        ["A", "C001", "like", "dislike", "like", "neutral"],
        ["B", "C999", "like", "sometimes", "like", "neutral"],
        ["", "", "like", "dislike", "like", ""]])}, format="multipart")
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert set(errors) == {"row 3", "row 4"}
    assert any("column B" in e and "C999" in e for e in errors["row 3"])
    assert any("column D" in e and "sometimes" in e for e in errors["row 3"])
    assert any("column A" in e for e in errors["row 4"]) and any("column F" in e for e in errors["row 4"])
    assert KanoRespondent.objects.count() == 0
    study.record.refresh_from_db()
    assert study.record.versions.count() == versions
    bad_type = io.BytesIO(b"not a workbook")
    bad_type.name = "answers.xlsx"
    assert market.post(f"/api/kano-studies/{number}/import/", {"file": bad_type},
                       format="multipart").status_code == 400
    header = io.BytesIO(b"respondent,customer,only\nA,,like\n")
    header.name = "x.csv"
    r = market.post(f"/api/kano-studies/{number}/import/", {"file": header}, format="multipart")
    assert r.status_code == 400 and "row 1" in r.json()["errors"]
    assert KanoRespondent.objects.count() == 0


# --- one-time links ----------------------------------------------------------------------------------------------


def issue(study, people, days=14, label="Mr. Chen"):
    r = api("market").post(f"/api/kano-studies/{study.record.number}/links/",
                           {"label": label, "customer": "C001", "days_valid": days}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def public_form(study, pair1=("like", "dislike"), pair2=("like", "neutral"), lang="en"):
    return {"lang": lang, "a1-functional": pair1[0], "a1-dysfunctional": pair1[1],
            "a2-functional": pair2[0], "a2-dysfunctional": pair2[1]}


def test_link_answers_once_without_an_account_and_stores_only_the_hash(people):
    study = collecting(people)
    issued = issue(study, people)
    token = issued["token"]
    assert issued["url"].endswith(f"/answer/kano/{token}/")
    link = OneTimeLink.objects.get()
    assert token not in link.token_sha256 and len(link.token_sha256) == 64
    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(f"/answer/kano/{token}/?lang=en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "If delivered in anti-static bags?" in html and "I like it" in html and 'name="csrfmiddlewaretoken"' in html
    assert "我喜欢" in anonymous.get(f"/answer/kano/{token}/?lang=zh-hans").content.decode()
    csrf = anonymous.cookies["csrftoken"].value
    # incomplete: 400, the link is not spent
    r = anonymous.post(f"/answer/kano/{token}/", {"lang": "en", "a1-functional": "like",
                                                   "csrfmiddlewaretoken": csrf})
    assert r.status_code == 400 and KanoRespondent.objects.count() == 0
    r = anonymous.post(f"/answer/kano/{token}/", {**public_form(study), "csrfmiddlewaretoken": csrf})
    assert r.status_code == 200 and "Thank you" in r.content.decode()
    respondent = KanoRespondent.objects.get()
    assert (respondent.source, respondent.name, respondent.customer.code) == ("link", "Mr. Chen", "C001")
    assert respondent.link_id == link.pk
    # reused: 410, nothing saved
    again = anonymous.post(f"/answer/kano/{token}/", {**public_form(study), "csrfmiddlewaretoken": csrf})
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert anonymous.get(f"/answer/kano/{token}/").status_code == 410
    assert KanoRespondent.objects.count() == 1
    assert AuditEntry.objects.filter(action="link.used").count() == 1
    # no CSRF token: refused
    fresh = issue(study, people, label="Ms. Li")["token"]
    assert Client(enforce_csrf_checks=True).post(f"/answer/kano/{fresh}/", public_form(study)).status_code == 403
    assert Client().get("/answer/kano/not-a-token/").status_code == 404


def test_link_refused_when_expired_or_withdrawn_and_nothing_else_is_public(people):
    study = collecting(people)
    token = issue(study, people, days=1)["token"]
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        r = Client().post(f"/answer/kano/{token}/", public_form(study))
        assert r.status_code == 410 and "expired" in r.content.decode()
    assert KanoRespondent.objects.count() == 0
    issued = issue(study, people, label="Withdrawn")
    r = api("market").post(f"/api/kano-studies/{study.record.number}/links/{issued['id']}/revoke/",
                           {"reason": "wrong person"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    r = Client().post(f"/answer/kano/{issued['token']}/", public_form(study))
    assert r.status_code == 410 and "withdrawn" in r.content.decode()
    assert KanoRespondent.objects.count() == 0
    # the rest of the site still needs an account
    anonymous = Client()
    assert anonymous.get(f"/qms/requirements/kano/{study.record.number}/").status_code == 302
    assert anonymous.get("/qms/requirements/kano/").status_code == 302
    assert anonymous.get("/api/kano-studies/").status_code == 401


def test_closed_study_refuses_its_open_links(people, no_render):
    study = collecting(people)
    token = issue(study, people)["token"]
    with transaction.atomic():
        kano.enter_answers(study, actor=people["market"], data={"respondent": "X", "customer": None,
                                                                 "answers": {1: WORKED[0][0], 2: WORKED[0][1]}})
    close(study, people["market_mgr"])
    assert Client().get(f"/answer/kano/{token}/").status_code == 410


# --- role matrix ----------------------------------------------------------------------------------------------------


@pytest.fixture
def auditor(people):
    from evidence_support import make_auditor

    return make_auditor(people)


def test_role_matrix(people, auditor, no_render):
    study = collecting(people)
    User.objects.create_user("outsider", password="Outsider-pass-1", display_name="外人 Outsider")
    number = study.record.number
    body = {"title": "T", "features": FEATURES}
    expected_create = {"market": 201, "market_mgr": 201, "quality": 403, "gm": 403, "auditor": 403,
                       "outsider": 403}
    for role, status in expected_create.items():
        with transaction.atomic():
            assert api(role).post("/api/kano-studies/", body, format="json").status_code == status, role
            transaction.set_rollback(True)
    expected_enter = {"market": 201, "market2": 201, "market_mgr": 201, "quality": 403, "engineering": 403,
                      "auditor": 403, "outsider": 404}
    for role, status in expected_enter.items():
        with transaction.atomic():
            r = api(role).post(f"/api/kano-studies/{number}/answers/", answers_payload(*WORKED[0]), format="json")
            assert r.status_code == status, (role, r.content)
            transaction.set_rollback(True)
    for role, status in {"market": 403, "quality": 403, "auditor": 403, "gm": 403}.items():
        r = api(role).post(f"/api/kano-studies/{number}/close/", {"username": role, "password": DEMO_PASSWORD},
                           format="json")
        assert r.status_code == status, role
    # reading: members and the auditor (while the grant covers it); the outsider not
    for role in ("market", "quality", "gm"):
        assert api(role).get(f"/api/kano-studies/{number}/").status_code == 200
        assert web(role).get(f"/qms/requirements/kano/{number}/").status_code == 200
    assert api("outsider").get("/api/kano-studies/").status_code == 403
    assert web("outsider").get(f"/qms/requirements/kano/{number}/").status_code == 403
    # write pages: Market only
    for url in ("new/", f"{number}/answers/", f"{number}/import/", f"{number}/links/"):
        assert web("market").get(f"/qms/requirements/kano/{url}").status_code == 200, url
        assert web("quality").get(f"/qms/requirements/kano/{url}").status_code == 403, url
    assert web("market_mgr").get(f"/qms/requirements/kano/{number}/close/").status_code == 200
    assert web("market").get(f"/qms/requirements/kano/{number}/close/").status_code == 403


def test_auditor_reads_but_cannot_write(people, no_render):
    from evidence_support import make_auditor

    study = collecting(people)
    auditor = make_auditor(people)
    client = APIClient()
    client.force_authenticate(auditor)
    listed = client.get("/api/kano-studies/")
    assert listed.status_code in (200, 403)
    assert client.post(f"/api/kano-studies/{study.record.number}/answers/", answers_payload(*WORKED[0]),
                       format="json").status_code == 403


# --- the browser: pages, the scatter, the PDF -------------------------------------------------------------------------


def test_browser_journey_and_the_scatter_in_page_and_pdf(people, no_render):
    market = web("market")
    r = market.post("/qms/requirements/kano/new/", {
        "title": "Browser study", "product": "P-1001", "rows": "3",
        "f0-name": FEATURES[0]["name"], "f0-functional_question": FEATURES[0]["functional_question"],
        "f0-dysfunctional_question": FEATURES[0]["dysfunctional_question"],
        "f1-name": FEATURES[1]["name"], "f1-functional_question": FEATURES[1]["functional_question"],
        "f1-dysfunctional_question": FEATURES[1]["dysfunctional_question"]})
    assert r.status_code == 302, r.content.decode()[:2000]
    study = KanoStudy.objects.get()
    number = study.record.number
    assert market.post(f"/qms/requirements/kano/{number}/open/").status_code == 302
    for i, (p1, p2) in enumerate(WORKED):
        r = market.post(f"/qms/requirements/kano/{number}/answers/", {
            "respondent": f"R{i}", "customer": "C001", "a1-functional": p1[0], "a1-dysfunctional": p1[1],
            "a2-functional": p2[0], "a2-dysfunctional": p2[1]})
        assert r.status_code == 302, r.content.decode()[:3000]
    bad = market.post(f"/qms/requirements/kano/{number}/answers/", {"respondent": "Z", "a1-functional": "like"})
    assert bad.status_code == 400
    r = market.post(f"/qms/requirements/kano/{number}/import/", {"file": csv_file([["A", "", "x", "y", "", ""]])})
    assert r.status_code == 400 and "row 2" in r.content.decode()
    r = market.post(f"/qms/requirements/kano/{number}/links/", {"label": "Mr. Chen", "customer": "C001",
                                                               "days_valid": "7"})
    assert r.status_code == 200 and "/answer/kano/" in r.content.decode()
    page = market.get(f"/qms/requirements/kano/{number}/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "Anti-static bag" in html
    manager = web("market_mgr")
    assert manager.post(f"/qms/requirements/kano/{number}/close/", {"username": "market_mgr",
                                                                    "password": "wrong"}).status_code == 400
    r = manager.post(f"/qms/requirements/kano/{number}/close/", {"username": "market_mgr",
                                                                 "password": DEMO_PASSWORD})
    assert r.status_code == 302
    study.refresh_from_db()
    assert study.status == "closed"
    assert [f.category for f in study.features.order_by("position")] == ["M", "A"]
    html = market.get(f"/qms/requirements/kano/{number}/").content.decode()
    assert "<svg" in html and "Must-be" in html

    from forms.pdf import render_version

    files = render_version(study.record.get_version())
    pdf = next(f for f in files if f.kind == RecordFile.Kind.PDF)
    text = " ".join(subprocess.run(["pdftotext", "-layout", pdf.file.path, "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "KANO 调查表" in text and "QR-MK-006" in text
    assert "Anti-static bag" in text and "必备型" in text and "Better–Worse" in text
    assert "0.40" in text and "-0.60" in text
    assert "魅力型 Attractive" in text  # a quadrant label of the scatter, kept as text
    fonts = subprocess.run(["pdffonts", pdf.file.path], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded
    from forms import pdf_fonts

    if pdf_fonts.faces():  # the chart's labels in the record's compact face, not in a second subset of the system's
        assert {line.split()[0].split("+")[-1] for line in fonts} == {"QMS-Sans-CJK-SC", "QMS-Sans-CJK-SC-Bold"}


def test_seed_makes_a_closed_study_of_30_respondents(people, no_render):
    from procedures.requirements.seed import seed

    seed(people)
    study = KanoStudy.objects.get()
    assert study.status == "closed"
    sources = sorted(study.respondents.values_list("source", flat=True))
    assert len(sources) == 30 and set(sources) == {"entered", "imported", "link"}
    assert [f.category for f in study.features.order_by("position")] == ["M", "O", "O", "A", "I"]
    assert study.features.exclude(requirement=None).count() == 3


# --- screens: the study page and the public answer page, both languages, phone and laptop ----------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screens_of_the_study_and_the_public_page(browser, live_server, people, monkeypatch):  # noqa: F811
    import pathlib

    import forms.pdf
    from test_screens import log_in

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)
    from procedures.requirements.seed import seed

    seed(people)
    study = KanoStudy.objects.get()
    open_study = collecting(people)
    with transaction.atomic():
        token = kano.issue_link(open_study, actor=people["market"], label="陈先生 Mr. Chen", days_valid=7)[1]
    from test_screens import SHOTS

    shots = pathlib.Path(SHOTS) / "kano"
    shots.mkdir(parents=True, exist_ok=True)
    problems = []
    for language in ("zh-hans", "en"):
        context, page, errors = log_in(browser, live_server.url, "market", language)
        public = context.browser.new_context(locale="en-US").new_page()
        for width in (1366, 390):
            for p, name, url in ((page, "study", f"/qms/requirements/kano/{study.record.number}/"),
                                 (page, "list", "/qms/requirements/kano/"),
                                 (page, "answers", f"/qms/requirements/kano/{open_study.record.number}/answers/"),
                                 (public, "public", f"/answer/kano/{token}/?lang={language}")):
                p.set_viewport_size({"width": width, "height": 900})
                response = p.goto(live_server.url + url)
                p.wait_for_load_state("load")
                assert response.status == 200, (name, response.status)
                p.screenshot(path=str(shots / f"{name}-{language}-{width}.png"), full_page=True)
                scroll = p.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    problems.append(f"{name} {language} {width}: scrolls sideways ({scroll})")
        page.goto(live_server.url + f"/qms/requirements/kano/{study.record.number}/")
        assert page.locator("#kano-scatter svg").count() == 1
        assert not [e for e in errors if "favicon" not in e], errors
        context.close()
    assert not problems, problems


def test_a_feature_links_any_requirement_by_number_and_an_old_link_survives_a_save(people, no_render, monkeypatch):
    """Issue 15.2, nothing silently cut: the feature rows chose their requirement from a <select> of the newest 200,
    so an older requirement could not be linked and a feature linked to one lost the link when the features were
    saved again. The field takes any number, suggests the newest (a <datalist>), and names a number that is none."""
    from procedures.requirements import register
    from procedures.requirements.models import CustomerRequirement
    from test_p5_requirements import FLOW, collect_data, start

    older, newer = [CustomerRequirement.objects.get(record__process=start(FLOW, "start", people["market"],
                                                                           collect_data(customer_words=words)))
                    for words in ("旧需求 an older requirement", "新需求 a newer requirement")]
    monkeypatch.setattr(register, "SUGGESTED_REQUIREMENTS", 1)  # only the newest is suggested
    study = new_study(people, features=[{**FEATURES[0], "requirement": older}, FEATURES[1]])
    market = web("market")
    url = f"/qms/requirements/kano/{study.record.number}/features/"
    html = market.get(url).content.decode()
    assert f'name="f0-requirement" list="kano-requirements" maxlength="32" value="{older.record.number}"' in html
    suggestions = html[html.index('<datalist id="kano-requirements">'):html.index("</datalist>")]
    assert newer.record.number in suggestions and older.record.number not in suggestions
    form = {"rows": "2", **{f"f{i}-{name}": f[name] for i, f in enumerate(FEATURES) for name in f}}
    assert market.post(url, {**form, "f0-requirement": older.record.number}).status_code == 302  # as the page was
    assert study.features.get(position=1).requirement == older
    refused = market.post(url, {**form, "f0-requirement": older.record.number, "f1-requirement": "CR-2099-9999"})
    assert refused.status_code == 400 and "CR-2099-9999: no such customer requirement." in refused.content.decode()
    typed = market.post(url, {**form, "f0-requirement": older.record.number.lower()})  # typed in lower case
    assert typed.status_code == 302 and study.features.get(position=1).requirement == older
    assert 'value="CR-2099-9999"' in refused.content.decode()  # what was typed is kept on the form
    assert study.features.get(position=2).requirement is None  # nothing saved
