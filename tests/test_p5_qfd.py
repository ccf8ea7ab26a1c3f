"""QFD house of quality (issue 16, QFD-1): technical importance on a worked example computed by
hand, through the actions and the REST API; bad matrices refused with nothing saved; the signed
approval of the exact version, the approved house immutable, reopen as a new revision; who may
do what; the PDF's text and fonts; the browser pages."""
import datetime
import subprocess

import pytest
from api_driver import client_for
from test_browser_journey import browser  # noqa: F401 (the fixture)
from test_screens import SHOTS, WIDE
from django.db import transaction
from django.utils import timezone
from flow_driver import act, start

from core.errors import InvalidInput, NotPermitted, SignatureRefused, WrongState
from core.models import AuditEntry, RecordFile, Signature
from core.verification import verify_all
from procedures.requirements import qfd
from procedures.requirements.flows import RequirementFlow as FLOW
from procedures.requirements.models import CustomerRequirement, HouseOfQuality, QfdNeed, QfdRelationship
from workflows.demo import DEMO_PASSWORD
from pdf_face import cjk_face

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# --- the worked example ----------------------------------------------------------------------------------
# needs (weight): 易装配 easy to fit (5), 不漏水 watertight (3), 外观好 looks good (1)
# characteristics: 螺纹精度 thread accuracy, 密封圈压缩量 seal compression, 表面粗糙度 surface roughness
# cells: fit×thread 9, fit×seal 3, water×seal 9, water×rough 1, looks×thread 1, looks×rough 9
# by hand: thread = 5·9 + 1·1 = 46; seal = 5·3 + 3·9 = 42; rough = 3·1 + 1·9 = 12; total 100
#          relative 46.0 %, 42.0 %, 12.0 %; ranks 1, 2, 3
NEEDS = [{"text": "易装配 easy to fit", "weight": 5}, {"text": "不漏水 watertight", "weight": 3},
         {"text": "外观好 looks good", "weight": 1}]
COLUMNS = [{"name": "螺纹精度 thread accuracy", "unit": "级 grade", "direction": "target", "target": "6H"},
           {"name": "密封圈压缩量 seal compression", "unit": "%", "direction": "up", "target": "≥ 20"},
           {"name": "表面粗糙度 surface roughness", "unit": "µm", "direction": "down", "target": "Ra ≤ 1.6"}]
CELLS = [{"need": 0, "characteristic": 0, "strength": 9}, {"need": 0, "characteristic": 1, "strength": 3},
         {"need": 1, "characteristic": 1, "strength": 9}, {"need": 1, "characteristic": 2, "strength": 1},
         {"need": 2, "characteristic": 0, "strength": 1},
         {"need": "外观好 looks good", "characteristic": "表面粗糙度 surface roughness", "strength": 9}]
ROOF = [{"first": 0, "second": 1, "correlation": "+"}, {"first": 2, "second": 1, "correlation": "--"}]
EXPECTED = [("螺纹精度 thread accuracy", 46, "46.0", 1), ("密封圈压缩量 seal compression", 42, "42.0", 2),
            ("表面粗糙度 surface roughness", 12, "12.0", 3)]


def matrix(**changes):
    return {"needs": [dict(n) for n in NEEDS], "characteristics": [dict(c) for c in COLUMNS],
            "relationships": [dict(c) for c in CELLS], "roof": [dict(r) for r in ROOF], **changes}


def ranking(rows):
    return [(r["characteristic"], r["importance"], r["relative"], r["rank"]) for r in rows]


@pytest.fixture
def no_render(monkeypatch):
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)


def new_house(people, user="engineering", **data):
    with transaction.atomic():
        return qfd.create_house(actor=people[user], data={"title": "端盖 QFD end cover", **data})


def filled_house(people, user="engineering"):
    house = new_house(people, user)
    with transaction.atomic():
        qfd.set_matrix(house, actor=people[user], data=matrix())
    return HouseOfQuality.objects.get(pk=house.pk)


def approved_requirement(people, words, importance=4):
    process = start(FLOW, "start", people["market"], {
        "customer": "C001", "channel": "visit", "requirement_type": "explicit", "product": "P-1002",
        "received_on": timezone.localdate().isoformat(), "customer_words": words, "meaning": "m"})
    act(process, "analyse", people["market"], {"importance": importance, "urgency": 2, "kano_category": "O",
                                               "feasibility": "ok", "review_departments": ["quality"]},
        meaning="authored")
    act(process, "review", people["quality"], {"verdict": "feasible", "comment": "ok"}, meaning="reviewed")
    act(process, "approve", people["market_mgr"], {
        "conclusion": "ok", "owner": "engineering",
        "due_date": (timezone.localdate() + datetime.timedelta(days=9)).isoformat()}, meaning="approved")
    return CustomerRequirement.objects.get(record__process=process)


# --- the calculation, through the action and the API -------------------------------------------------------


def test_technical_importance_of_the_worked_example_through_the_action(people, no_render):
    house = filled_house(people)
    data = house.record.get_version().data
    assert ranking(data["importance"]) == EXPECTED
    assert [(n["position"], n["weight"]) for n in data["needs"]] == [(1, 5), (2, 3), (3, 1)]
    assert len(data["relationships"]) == 6 and {"need": 3, "characteristic": 3, "strength": 9} in data["relationships"]
    # the roof is stored first < second whatever order it was given in
    assert data["roof"] == [{"first": 1, "second": 2, "correlation": "+"}, {"first": 2, "second": 3, "correlation": "--"}]
    assert house.record.current_version == 2  # created with its data, matrix
    assert AuditEntry.objects.filter(record=house.record, action="qfd.matrix_set").count() == 1


def test_technical_importance_through_the_api(people):
    client = client_for("engineering")
    response = client.post("/api/qfd/", {"title": "端盖 QFD end cover", "product": "P-1002"}, format="json")
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert number.startswith("HQ-") and response.json()["product"] == "P-1002 铝合金端盖"
    response = client.put(f"/api/qfd/{number}/matrix/", matrix(), format="json")
    assert response.status_code == 200, response.content
    body = client.get(f"/api/qfd/{number}/").json()
    assert ranking(body["importance"]) == EXPECTED
    assert body["may"] == {"edit": True, "approve": False, "reopen": False}
    listing = client.get("/api/qfd/?status=draft").json()
    assert listing["count"] == 1 and listing["results"][0]["number"] == number


def test_rows_pulled_from_approved_requirements_weighted_by_their_importance(people, no_render):
    first = approved_requirement(people, "端盖装配要容易 the cover must be easy to fit", importance=5)
    second = approved_requirement(people, "不能漏水 it must not leak", importance=2)
    start(FLOW, "start", people["market"], {  # registered only: not pulled
        "customer": "C001", "channel": "visit", "requirement_type": "explicit", "product": "P-1002",
        "received_on": timezone.localdate().isoformat(), "customer_words": "未批准 not approved", "meaning": "m"})
    client = client_for("market")
    response = client.post("/api/qfd/", {"title": "拉取 pulled", "product": "P-1002", "pull_requirements": True},
                           format="json")
    assert response.status_code == 201, response.content
    needs = response.json()["needs"]
    assert [(n["text"], n["weight"], n["requirement"]) for n in needs] == [
        ("端盖装配要容易 the cover must be easy to fit", 5, first.record.number),
        ("不能漏水 it must not leak", 2, second.record.number)]
    # a requirement that is not approved cannot be a row
    registered = CustomerRequirement.objects.get(customer_words="未批准 not approved")
    response = client.post("/api/qfd/", {"title": "x", "requirements": [registered.record.number]}, format="json")
    assert response.status_code == 400 and "requirements[0]" in response.json()["errors"]


# --- bad matrices: 400, nothing saved ----------------------------------------------------------------------

BAD = [
    ("needs[1].weight", lambda m: m["needs"][1].update(weight=6)),
    ("needs[1].weight", lambda m: m["needs"][1].update(weight="3")),
    ("needs[0].weight", lambda m: m["needs"][0].update(weight=0)),
    ("needs[2].text", lambda m: m["needs"][2].update(text=" 易装配   easy to fit ")),
    ("needs[0].text", lambda m: m["needs"][0].update(text="  ")),
    ("characteristics[1].name", lambda m: m["characteristics"][1].update(name=COLUMNS[0]["name"])),
    ("characteristics[0].direction", lambda m: m["characteristics"][0].update(direction="sideways")),
    ("relationships[0].strength", lambda m: m["relationships"][0].update(strength=5)),
    ("relationships[0].strength", lambda m: m["relationships"][0].update(strength=0)),
    ("relationships[0].need", lambda m: m["relationships"][0].update(need=3)),
    ("relationships[0].characteristic", lambda m: m["relationships"][0].update(characteristic="no such column")),
    ("relationships[6]", lambda m: m["relationships"].append({"need": 0, "characteristic": 0, "strength": 1})),
    ("roof[0].second", lambda m: m["roof"][0].update(second=0)),
    ("roof[1].correlation", lambda m: m["roof"][1].update(correlation="+++")),
    ("roof[0].first", lambda m: m["roof"][0].update(first=7)),
    ("needs[0]", lambda m: m["needs"][0].update(colour="red")),
]


@pytest.mark.parametrize(("field", "spoil"), BAD, ids=[f"{f}-{i}" for i, (f, _s) in enumerate(BAD)])
def test_a_bad_matrix_is_refused_with_its_field_named_and_nothing_saved(people, no_render, field, spoil):
    house = filled_house(people)
    before = (house.record.current_version, list(QfdNeed.objects.filter(house=house).values_list("text", "weight")),
              QfdRelationship.objects.filter(need__house=house).count())
    bad = matrix()
    spoil(bad)
    client = client_for("engineering")
    response = client.put(f"/api/qfd/{house.record.number}/matrix/", bad, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    house.record.refresh_from_db()
    assert (house.record.current_version, list(QfdNeed.objects.filter(house=house).values_list("text", "weight")),
            QfdRelationship.objects.filter(need__house=house).count()) == before


def test_unknown_top_level_fields_and_non_lists_are_400(people, no_render):
    house = filled_house(people)
    client = client_for("engineering")
    url = f"/api/qfd/{house.record.number}/matrix/"
    assert client.put(url, {**matrix(), "colour": 1}, format="json").status_code == 400
    assert client.put(url, {**matrix(), "needs": "A"}, format="json").status_code == 400
    assert client.post("/api/qfd/", {"title": ""}, format="json").status_code == 400
    assert client.post("/api/qfd/", {"title": "x", "product": "P-404"}, format="json").status_code == 400
    assert HouseOfQuality.objects.count() == 1


# --- approval, immutability, reopen --------------------------------------------------------------------------


def test_approval_signs_the_exact_version_and_the_approved_house_is_immutable(people, no_render):
    house = filled_house(people)
    with pytest.raises(SignatureRefused):
        qfd.approve_house(house, actor=people["market_mgr"], password="wrong")
    house.refresh_from_db()
    assert house.status == "draft"
    qfd.approve_house(house, actor=people["market_mgr"], password=DEMO_PASSWORD, reason="评审通过 reviewed")
    house.refresh_from_db()
    version = house.record.get_version()
    (signature,) = Signature.objects.filter(record_version__record=house.record)
    assert signature.record_version == version and signature.content_hash == version.content_hash
    assert signature.meaning == "approved" and signature.role == "市场部经理 Market manager"
    assert version.data["status"] == "approved" and version.data["approver"] == "张伟 Zhang Wei"
    assert ranking(version.data["importance"]) == EXPECTED
    assert house.record.status == "approved"

    client = client_for("engineering")
    number = house.record.number
    assert client.put(f"/api/qfd/{number}/matrix/", matrix(), format="json").status_code == 409
    response = client_for("engineering_mgr").post(f"/api/qfd/{number}/approve/",
                                                  {"username": "engineering_mgr", "password": DEMO_PASSWORD},
                                                  format="json")
    assert response.status_code == 409
    with pytest.raises(WrongState), transaction.atomic():
        qfd.set_matrix(house, actor=people["engineering"], data=matrix())

    # reopen: a new version in draft; the approved version stays signed as it was
    assert client.post(f"/api/qfd/{number}/reopen/", {}, format="json").status_code == 400
    response = client.post(f"/api/qfd/{number}/reopen/", {"reason": "客户改了要求 the customer changed a need"},
                           format="json")
    assert response.status_code == 200 and response.json()["status"] == "draft"
    house.refresh_from_db()
    assert house.record.current_version == version.version + 1
    assert house.record.get_version().data["approver"] == ""
    assert house.record.get_version().reason == "reopened for revision"
    assert AuditEntry.objects.get(record=house.record, action="qfd.reopened").reason.startswith("客户改了要求")
    signature.refresh_from_db()
    assert signature.record_version.version == version.version and signature.content_hash == version.content_hash
    changed = matrix()
    changed["needs"][2]["weight"] = 2  # looks good 1 → 2: thread 47, seal 42, rough 21
    assert client.put(f"/api/qfd/{number}/matrix/", changed, format="json").status_code == 200
    response = client_for("engineering_mgr").post(f"/api/qfd/{number}/approve/",
                                                  {"username": "engineering_mgr", "password": DEMO_PASSWORD},
                                                  format="json")
    assert response.status_code == 200, response.content
    assert [(r["importance"], r["rank"]) for r in response.json()["importance"]] == [(47, 1), (42, 2), (21, 3)]
    roles = list(Signature.objects.filter(record_version__record=house.record).order_by("pk").values_list("role", flat=True))
    assert roles == ["市场部经理 Market manager", "工程部经理 Engineering manager"]
    _counts, problems, _warnings = verify_all()
    assert problems == [], problems


def test_an_incomplete_house_is_not_approved(people, no_render):
    house = new_house(people)
    with pytest.raises(InvalidInput) as refused:
        qfd.approve_house(house, actor=people["market_mgr"], password=DEMO_PASSWORD)
    assert {"needs", "characteristics"} <= set(refused.value.field_errors)
    with transaction.atomic():
        qfd.set_matrix(house, actor=people["engineering"],
                       data=matrix(relationships=[c for c in CELLS if c["need"] != 1]))
    with pytest.raises(InvalidInput) as refused:
        qfd.approve_house(house, actor=people["market_mgr"], password=DEMO_PASSWORD)
    assert list(refused.value.field_errors) == ["needs[1].text"]


def test_the_api_approval_needs_the_user_id_and_password(people, no_render):
    house = filled_house(people)
    client = client_for("market_mgr")
    url = f"/api/qfd/{house.record.number}/approve/"
    assert client.post(url, {"password": DEMO_PASSWORD}, format="json").status_code == 400
    response = client.post(url, {"username": "market_mgr", "password": "nope"}, format="json")
    assert response.status_code in (400, 403) and "password" in response.json()["errors"]
    house.refresh_from_db()
    assert house.status == "draft" and not Signature.objects.filter(record_version__record=house.record).exists()


# --- who may do what -----------------------------------------------------------------------------------------


def test_role_matrix(people, no_render):
    house = filled_house(people)
    number = house.record.number
    for username in ("quality", "production", "materials", "finance", "gm"):
        client = client_for(username)
        assert client.get(f"/api/qfd/{number}/").status_code == 200, username  # the company reads it
        assert client.post("/api/qfd/", {"title": "x"}, format="json").status_code == 403, username
        assert client.put(f"/api/qfd/{number}/matrix/", matrix(), format="json").status_code == 403, username
        assert client.post(f"/api/qfd/{number}/approve/", {"username": username, "password": DEMO_PASSWORD},
                           format="json").status_code == 403, username
    for username in ("market", "market2", "engineering"):  # staff build, do not approve
        client = client_for(username)
        assert client.post(f"/api/qfd/{number}/approve/", {"username": username, "password": DEMO_PASSWORD},
                           format="json").status_code == 403, username
    with pytest.raises(NotPermitted):
        qfd.approve_house(house, actor=people["quality_mgr"], password=DEMO_PASSWORD)
    assert HouseOfQuality.objects.count() == 1 and house.record.versions.count() == 2


def test_an_auditor_reads_and_cannot_write(people, no_render):
    from evidence_support import AUDITOR_PASSWORD, make_auditor  # noqa: PLC0415

    house = filled_house(people)
    make_auditor(people)
    client = client_for("auditor", password=AUDITOR_PASSWORD)
    number = house.record.number
    assert client.get(f"/api/qfd/{number}/").status_code == 200
    assert client.get("/api/qfd/").json()["count"] == 1
    assert client.post("/api/qfd/", {"title": "x"}, format="json").status_code == 403
    assert client.put(f"/api/qfd/{number}/matrix/", matrix(), format="json").status_code == 403
    assert client.post(f"/api/qfd/{number}/reopen/", {"reason": "x"}, format="json").status_code in (403, 409)


# --- the PDF ---------------------------------------------------------------------------------------------------


def test_the_pdf_prints_the_house_in_both_languages_with_embedded_fonts(people, django_capture_on_commit_callbacks):
    house = filled_house(people)
    with django_capture_on_commit_callbacks(execute=True):  # the render queued when the approval commits
        qfd.approve_house(house, actor=people["engineering_mgr"], password=DEMO_PASSWORD)
    house.refresh_from_db()
    file = RecordFile.objects.get(record_version=house.record.get_version(), kind="pdf")
    text = " ".join(subprocess.run(["pdftotext", "-layout", file.file.path, "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "质量屋" in text and "House of Quality" in text and "QR-EN-001" in text and house.record.number in text
    for word in ("螺纹精度", "密封圈压缩量", "表面粗糙度", "易装配", "技术重要度", "Technical importance", "46", "42.0",
                 "吴刚 Wu Gang", "强负相关"):
        assert word in text, word
    fonts = subprocess.run(["pdffonts", file.file.path], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)
    assert any(cjk_face() in line.replace("-", "").lower() for line in fonts), fonts


# --- the browser pages -------------------------------------------------------------------------------------------


def test_the_pages_list_new_detail_edit_approve(people, no_render, client):
    client.force_login(people["engineering"])
    response = client.post("/qms/requirements/qfd/new/", {"title": "页面 page house", "product": "P-1002"})
    assert response.status_code == 302, response.content.decode()[:2000]
    house = HouseOfQuality.objects.get(title="页面 page house")
    number = house.record.number
    assert client.get("/qms/requirements/qfd/").status_code == 200
    assert client.get(f"/qms/requirements/qfd/{number}/edit/").status_code == 200
    form = {"need-count": "3", "char-count": "2", "need-0-text": "易装配 easy to fit", "need-0-weight": "5",
            "need-1-text": "不漏水 watertight", "need-1-weight": "3", "need-2-text": "", "need-2-weight": "3",
            "char-0-name": "螺纹精度 thread accuracy", "char-1-name": "密封圈压缩量 seal compression", "continue": "1"}
    assert client.post(f"/qms/requirements/qfd/{number}/edit/", form).status_code == 302
    form.update({"cell-0-0": "9", "cell-0-1": "3", "cell-1-1": "9", "roof-0-1": "+"})
    assert client.post(f"/qms/requirements/qfd/{number}/edit/", form).status_code == 302
    data = HouseOfQuality.objects.get(pk=house.pk).record.get_version().data
    assert [(r["importance"], r["rank"]) for r in data["importance"]] == [(45, 1), (42, 2)]
    assert data["roof"] == [{"first": 1, "second": 2, "correlation": "+"}]
    bad = {**form, "cell-0-0": "5"}
    response = client.post(f"/qms/requirements/qfd/{number}/edit/", bad)
    assert response.status_code == 400
    page = client.get(f"/qms/requirements/qfd/{number}/").content.decode()
    assert "●" in page and "○" in page and "45" in page
    client.force_login(people["quality"])
    assert client.get(f"/qms/requirements/qfd/{number}/").status_code == 200
    assert client.get(f"/qms/requirements/qfd/{number}/edit/").status_code == 403
    client.force_login(people["market_mgr"])
    response = client.post(f"/qms/requirements/qfd/{number}/approve/", {"password": "wrong"})
    assert response.status_code in (400, 403)
    response = client.post(f"/qms/requirements/qfd/{number}/approve/", {"password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert HouseOfQuality.objects.get(pk=house.pk).status == "approved"


def test_a_need_links_any_approved_requirement_by_number_and_an_old_link_survives_a_save(
        people, no_render, client, monkeypatch):
    """Issue 15.2, nothing silently cut: a need chose its requirement from a <select> of the newest 200 approved ones,
    so an older requirement could not be linked and a need linked to one lost the link when the house was saved
    again. The field takes any number, suggests the newest (a <datalist>), and names a number that is none."""
    from procedures.requirements import register

    older = approved_requirement(people, "旧需求 an older requirement")
    newer = approved_requirement(people, "新需求 a newer requirement")
    monkeypatch.setattr(register, "SUGGESTED_REQUIREMENTS", 1)  # only the newest is suggested
    number = new_house(people).record.number
    client.force_login(people["engineering"])
    url = f"/qms/requirements/qfd/{number}/edit/"
    form = {"need-count": "1", "char-count": "1", "need-0-text": "易装配 easy to fit", "need-0-weight": "5",
            "need-0-requirement": older.record.number, "char-0-name": "螺纹精度 thread accuracy", "continue": "1"}
    assert client.post(url, form).status_code == 302
    html = client.get(url).content.decode()
    assert f'name="need-0-requirement" list="qfd-requirements" maxlength="32" size="14" value="{older.record.number}"' \
        in html
    suggestions = html[html.index('<datalist id="qfd-requirements">'):html.index("</datalist>")]
    assert newer.record.number in suggestions and older.record.number not in suggestions
    assert client.post(url, {**form, "cell-0-0": "9"}).status_code == 302  # saved again as the page shows it
    lower = {**form, "need-0-requirement": older.record.number.lower(), "cell-0-0": "9"}  # typed in lower case
    assert client.post(url, lower).status_code == 302
    house = HouseOfQuality.objects.get(record__number=number)
    assert house.needs.get().requirement == older
    refused = client.post(url, {**form, "need-0-requirement": "CR-2099-9999"})
    assert refused.status_code == 400 and 'value="CR-2099-9999"' in refused.content.decode()
    assert "无此客户需求。" in refused.content.decode() or "No such customer requirement." in refused.content.decode()
    assert house.needs.get().requirement == older  # nothing saved


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screens_of_the_house_and_the_editor(people, live_server, browser, no_render):  # noqa: F811
    """The house page and the editor at 1366 and 390 px, zh-Hans and English: the page never scrolls
    sideways (the matrix scrolls inside its own box). Screenshots: var/screenshots/qfd/."""
    import pathlib

    house = filled_house(people)
    shots = pathlib.Path(SHOTS) / "qfd"
    shots.mkdir(parents=True, exist_ok=True)
    for language in ("zh-hans", "en"):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "engineering")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        for name, url in (("house", f"/qms/requirements/qfd/{house.record.number}/"),
                          ("edit", f"/qms/requirements/qfd/{house.record.number}/edit/")):
            for width in (1366, 390):
                page.set_viewport_size({"width": width, "height": 900})
                response = page.goto(live_server.url + url)
                assert response.status < 400
                page.screenshot(path=str(shots / f"{name}-{language}-{width}.png"), full_page=True)
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width + 1, (name, language, width, scroll, page.evaluate(WIDE, width))
        context.close()
