"""A corrected rendering of a stored record PDF that not every viewer reads (evidence.renditions).

The PDFs stored between 2026-11-30 and the change that numbered the compact faces' glyphs by their ids embed faces
whose CIDs are not their glyph ids: Acrobat and Ghostscript draw them as empty boxes. Such a file is never
rewritten; the Quality manager adds a corrected rendering of the same version beside it (browser, API, command),
which every viewer draws, and the first stays — its bytes, its SHA-256, its place in bundles and tombstones."""
import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from anchoring_support import intruder
from api_driver import client_for
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import AuditEntry, RecordFile
from evidence import renditions
from forms import pdf, pdf_fonts
from pdf_misnumbered import misnumbered
from test_pdf import make_record, order_data, pdftotext
from test_browser_journey import browser  # noqa: F401 (the fixture)
from test_pdf_viewers import TOLERANCE, cell_differences, drawn_by_both

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

REASON = "字体编号错误 Fonts misnumbered in PDFs rendered 2026-11-30 to 2026-12-05"


@pytest.fixture(autouse=True)
def english():
    """The actions' messages in English (the site's default language is zh-Hans)."""
    from django.utils import translation

    with translation.override("en"):
        yield


def stored_as_first_cut(version):
    """`version` rendered and stored as the first cut's faces left it: rendition 1 of both files, misnumbered,
    each with its SHA-256 and its "record.rendered" audit entry, as a site upgrading from those weeks holds it."""
    document = pdf.render_document(version)
    with transaction.atomic():
        for kind in pdf.KINDS:
            content = misnumbered(pdf.write_pdf_bytes(document, version, archive=kind == RecordFile.Kind.ARCHIVE))
            pdf._store(RecordFile(record_version=version, kind=kind), content)
    return {f.kind: f for f in version.files.all()}


@pytest.fixture
def old_version(people):
    version = make_record(order_data())
    stored_as_first_cut(version)
    return version


def signed_in(user, language="en"):
    from django.conf import settings

    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def read(file):
    with file.file.open("rb") as handle:
        return handle.read()


# --- finding the defect --------------------------------------------------------------------------------------


def test_the_check_finds_the_first_cuts_faces_and_passes_todays(db, tmp_path):
    version = make_record(order_data())
    today = pdf.render_pdf_bytes(version)
    assert pdf_fonts.misnumbered_faces(io.BytesIO(today)) == []
    faces = pdf_fonts.misnumbered_faces(io.BytesIO(misnumbered(today)))
    assert len(faces) == 2 and all("QMS-Sans-CJK-SC" in face for face in faces), faces
    with pytest.raises(ValueError, match="not a readable PDF"):
        pdf_fonts.misnumbered_faces(io.BytesIO(b"%PDF-1.7 nothing else"))


def test_the_made_defect_is_the_one_ghostscript_shows_and_poppler_hides(db, tmp_path):
    """The test's stand-in for an old file is the real defect: the same text for poppler, other glyphs for
    Ghostscript (and Acrobat)."""
    version = make_record(order_data())
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(pdf.render_pdf_bytes(version))
    bad.write_bytes(misnumbered(good.read_bytes()))
    assert pdftotext(bad) == pdftotext(good)
    poppler, ghostscript = drawn_by_both(bad)[0]
    assert sum(cell_differences(poppler, ghostscript).histogram()[TOLERANCE:]) > 100


# --- the action ----------------------------------------------------------------------------------------------


def test_the_quality_manager_adds_a_corrected_rendering_and_the_first_stays(old_version, people, tmp_path):
    first = {f.kind: (f.pk, f.sha256, read(f)) for f in old_version.files.all()}
    entries_before = AuditEntry.objects.count()
    added = renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)

    assert [(f.kind, f.rendition) for f in added] == [("pdf", 2), ("pdfa", 2)]
    for file in added:
        file.refresh_from_db()
        assert file.reason == REASON and file.rendered_by == people["quality_mgr"]
        assert hashlib.sha256(read(file)).hexdigest() == file.sha256
        assert pdf_fonts.misnumbered_faces(file.file.path) == []
        assert file.file.name.endswith(f"-v1-r2{'-pdfa' if file.kind == 'pdfa' else ''}.pdf")
    for kind, (pk, sha256, content) in first.items():  # the first rendering, byte for byte
        kept = RecordFile.objects.get(pk=pk)
        assert (kept.rendition, kept.sha256, read(kept)) == (1, sha256, content)
    assert set(RecordFile.newest(old_version.files.all()).values()) == set(added)

    entries = list(AuditEntry.objects.order_by("seq")[entries_before:])
    assert [(e.action, e.new_values["kind"], e.new_values["rendition"]) for e in entries] == [
        ("record.rendered", "pdf", 2), ("record.rendered", "pdfa", 2)]
    for entry in entries:
        assert entry.actor == people["quality_mgr"] and entry.reason == REASON
        assert entry.new_values["replaces"] == {"rendition": 1, "sha256": first[entry.new_values["kind"]][1]}

    # every viewer draws the new one alike, with the same text as the first
    path = tmp_path / "corrected.pdf"
    path.write_bytes(read(added[0]))
    for poppler, ghostscript in drawn_by_both(path):
        assert sum(cell_differences(poppler, ghostscript).histogram()[TOLERANCE:]) == 0
    old = tmp_path / "old.pdf"
    old.write_bytes(first["pdf"][2])
    assert "苏州精工机械有限公司" in pdftotext(path) and "苏州精工机械有限公司" in pdftotext(old)


def test_a_correction_is_refused_where_there_is_nothing_to_correct_or_no_right(old_version, people):
    for someone in ("quality", "market_mgr", "gm"):
        with pytest.raises(NotPermitted):
            renditions.add_corrected_rendition(old_version, actor=people[someone], reason=REASON)
    with pytest.raises(InvalidInput):
        renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason="  ")
    assert old_version.files.count() == 2
    renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    with pytest.raises(WrongState, match="nothing to correct"):  # the newest reads right now
        renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    assert old_version.files.count() == 4

    never = make_record(order_data(), number="OR-2026-0002")
    with pytest.raises(WrongState, match="not been rendered"):
        renditions.add_corrected_rendition(never, actor=people["quality_mgr"], reason=REASON)
    today = make_record(order_data(), number="OR-2026-0003")
    pdf.render_version(today)
    with pytest.raises(WrongState, match="nothing to correct"):
        renditions.add_corrected_rendition(today, actor=people["quality_mgr"], reason=REASON)
    assert today.files.count() == 2


def test_a_missing_file_is_not_papered_over_with_a_new_one(old_version, people):
    pdf_file = old_version.files.get(kind="pdf")
    pdf_file.file.storage.delete(pdf_file.file.name)
    with pytest.raises(WrongState, match="missing"):
        renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    assert old_version.files.count() == 2


def test_an_altered_file_is_not_papered_over_either(old_version, people):
    pdfa = old_version.files.get(kind="pdfa")
    with open(pdfa.file.path, "ab") as handle:
        handle.write(b"%% appended later\n")
    with pytest.raises(WrongState, match="no longer matches the SHA-256") as refused:
        renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    assert refused.value.current_state == "unreadable"
    assert old_version.files.count() == 2


def test_a_failed_rendering_leaves_no_row_and_no_file(old_version, people, media_root, monkeypatch):
    before = sorted(p.name for p in media_root.rglob("*.pdf"))
    original = pdf.write_pdf_bytes

    def second_fails(document, version, *, archive=False):
        if archive:
            raise OSError("disk full")
        return original(document, version, archive=archive)

    monkeypatch.setattr(pdf, "write_pdf_bytes", second_fails)
    entries = AuditEntry.objects.count()
    with pytest.raises(OSError):
        renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    assert old_version.files.count() == 2 and AuditEntry.objects.count() == entries
    assert sorted(p.name for p in media_root.rglob("*.pdf")) == before


def test_a_commit_that_fails_after_the_files_were_written_leaves_none(old_version, people, media_root,
                                                                     monkeypatch):
    """The files are written before the transaction commits; a failure after them (here the last audit entry)
    removes them again."""
    from core import audit

    before = sorted(p.name for p in media_root.rglob("*.pdf"))
    original, calls = audit.log, []

    def second_entry_fails(action, *args, **kwargs):
        calls.append(action)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return original(action, *args, **kwargs)

    monkeypatch.setattr(audit, "log", second_entry_fails)
    with pytest.raises(RuntimeError):
        renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    assert calls == ["record.rendered", "record.rendered"]
    assert old_version.files.count() == 2
    assert sorted(p.name for p in media_root.rglob("*.pdf")) == before


def test_half_a_first_rendering_is_completed_by_the_render_job_not_by_a_correction(people, settings, tmp_path):
    """A worker lost between the plain PDF and the PDF/A copy leaves half a first rendering: no later rendition
    stands beside it; a bundle renders the missing first-rendition copy (as the render job would)."""
    from evidence.bundles import build_bundle
    from evidence.models import EvidenceBundle

    version = make_record(order_data())
    content = misnumbered(pdf.render_pdf_bytes(version))
    with transaction.atomic():
        pdf._store(RecordFile(record_version=version, kind="pdf"), content)
    with pytest.raises(WrongState, match="not complete yet") as refused:
        renditions.add_corrected_rendition(version, actor=people["quality_mgr"], reason=REASON)
    assert refused.value.current_state == "not rendered" and version.files.count() == 1
    settings.QMS_BUNDLE_DIR = tmp_path / "bundles"
    bundle = build_bundle(EvidenceBundle.objects.create(created_by=people["admin"], record_ids=[version.record_id]).pk)
    assert bundle.status == "done", bundle.error
    assert sorted((f.kind, f.rendition) for f in version.files.all()) == [("pdf", 1), ("pdfa", 1)]


# --- the browser ---------------------------------------------------------------------------------------------


def test_the_stored_files_page_shows_the_defect_and_the_quality_manager_corrects_it(old_version, people):
    number = old_version.record.number
    page = f"/qms/evidence/files/{number}/"
    staff = signed_in(people["quality"])
    html = staff.get(page).content.decode()
    assert 'id="v1-defect"' in html and "Add a corrected rendering" not in html
    assert "The Quality manager can add a corrected rendering." in html
    assert staff.post(page, {"version": 1, "reason": REASON}).status_code == 403  # refused, nothing added
    assert old_version.files.count() == 2

    manager = signed_in(people["quality_mgr"])
    html = manager.get(page).content.decode()
    assert 'id="v1-correct"' in html and "QMS-Sans-CJK-SC" in html
    response = manager.post(page, {"version": 1, "reason": ""})
    assert response.status_code == 400 and "A reason is required." in response.content.decode()
    response = manager.post(page, {"version": 1, "reason": REASON})
    assert response.status_code == 302 and response["Location"].endswith("#v1-files")
    html = manager.get(page).content.decode()
    assert 'id="v1-defect"' not in html and 'id="v1-correct"' not in html
    assert "corrected rendering" in html and REASON in html and html.count("replaced by a later rendering") == 2
    for file in old_version.files.all():
        assert file.sha256 in html

    record_page = manager.get(f"/qms/records/{number}/").content.decode()
    assert "corrected rendering 2" in record_page and f"/qms/evidence/files/{number}/" in record_page
    assert "rendition=2" in record_page and "rendition=1" not in record_page
    # the audit trail says which file: the first rendering, then the corrected one with its reason
    assert "rendered the PDF of version 1" in record_page
    assert "rendered a corrected PDF of version 1 (rendition 2)" in record_page
    assert "rendered a corrected PDF/A-3b archive copy of version 1 (rendition 2)" in record_page


def test_downloads_give_the_newest_rendering_unless_the_first_is_asked_for(old_version, people):
    first = old_version.files.get(kind="pdf")
    renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    corrected = old_version.files.get(kind="pdf", rendition=2)
    client = signed_in(people["quality_mgr"])
    base = f"/qms/records/{old_version.record.number}/v1/pdf/"
    response = client.get(base)
    assert b"".join(response.streaming_content) == read(corrected)
    assert "OR-2026-0001-v1-r2.pdf" in response["Content-Disposition"]
    response = client.get(base + "?kind=pdf&rendition=1")
    assert b"".join(response.streaming_content) == read(first)
    assert "OR-2026-0001-v1.pdf" in response["Content-Disposition"]
    assert client.get(base + "?rendition=9").status_code == 404
    assert client.get(base + "?rendition=x").status_code == 404
    downloads = AuditEntry.objects.filter(action="record.downloaded").order_by("seq")
    assert [e.new_values.get("rendition") for e in downloads] == [2, None]
    assert downloads[0].new_values["sha256"] == corrected.sha256


# --- the API -------------------------------------------------------------------------------------------------


def test_the_api_lists_checks_and_corrects_the_files(old_version, people):
    record = old_version.record
    manager, staff = client_for("quality_mgr"), client_for("quality")
    listing = manager.get(f"/api/records/{record.pk}/files/?check=true").json()
    assert listing["count"] == 2
    assert [(f["kind"], f["rendition"], f["newest"]) for f in listing["results"]] == [
        ("pdf", 1, True), ("pdfa", 1, True)]
    assert all(not f["check"]["ok"] and len(f["check"]["misnumbered_faces"]) == 2 for f in listing["results"])

    refused = staff.post(f"/api/records/{record.pk}/files/", {"version": 1, "reason": REASON}, format="json")
    assert refused.status_code == 403
    blank = manager.post(f"/api/records/{record.pk}/files/", {"version": 1, "reason": ""}, format="json")
    assert blank.status_code == 400
    assert manager.post(f"/api/records/{record.pk}/files/", {"version": 7, "reason": REASON},
                        format="json").status_code == 404
    assert old_version.files.count() == 2

    added = manager.post(f"/api/records/{record.pk}/files/", {"version": 1, "reason": REASON}, format="json")
    assert added.status_code == 201, added.content
    assert [(f["kind"], f["rendition"], f["reason"]) for f in added.json()] == [
        ("pdf", 2, REASON), ("pdfa", 2, REASON)]
    again = manager.post(f"/api/records/{record.pk}/files/", {"version": 1, "reason": REASON}, format="json")
    assert again.status_code == 409 and again.json()["current_state"] == "correct"
    assert again.json()["detail"] == "此版本的 PDF 文件在所有阅读器中均显示正确，无需更正。"  # the user's language

    listing = manager.get(f"/api/records/{record.pk}/files/?check=true").json()
    assert [(f["rendition"], f["newest"], f["check"]) for f in listing["results"]] == [
        (1, False, None), (1, False, None),
        (2, True, {"ok": True, "misnumbered_faces": [], "problem": ""}),
        (2, True, {"ok": True, "misnumbered_faces": [], "problem": ""})]
    assert listing["results"][2]["rendered_by"] == people["quality_mgr"].printed_name

    pdf_response = manager.get(f"/api/records/{record.pk}/pdf/?rendition=1")
    assert pdf_response["X-Content-SHA256"] == old_version.files.get(kind="pdf", rendition=1).sha256
    newest = manager.get(f"/api/records/{record.pk}/pdf/?kind=pdfa")
    assert newest["X-Content-SHA256"] == old_version.files.get(kind="pdfa", rendition=2).sha256
    detail = manager.get(f"/api/records/{record.pk}/").json()
    assert [f["rendition"] for f in detail["versions"][0]["files"]] == [1, 1, 2, 2]


# --- evidence: bundles, integrity, tombstones, the registry-wide check ---------------------------------------


def test_a_bundle_holds_every_rendering_with_who_added_the_later_one_and_why(old_version, people, tmp_path,
                                                                             settings):
    from evidence.bundles import build_bundle, verify_bundle_file
    from evidence.models import EvidenceBundle

    settings.QMS_BUNDLE_DIR = tmp_path / "bundles"
    renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    record = old_version.record
    bundle = build_bundle(EvidenceBundle.objects.create(created_by=people["admin"], record_ids=[record.pk]).pk)
    assert bundle.status == "done", bundle.error
    problems, _manifest = verify_bundle_file(bundle.file_path)
    assert problems == []
    base = f"records/{record.number}"
    with zipfile.ZipFile(bundle.file_path) as zf:
        assert {f"{base}/v1-pdfa.pdf", f"{base}/v1-r2-pdfa.pdf"} <= set(zf.namelist())
        assert zf.read(f"{base}/v1-pdfa.pdf") == read(old_version.files.get(kind="pdfa", rendition=1))
        assert zf.read(f"{base}/v1-r2-pdfa.pdf") == read(old_version.files.get(kind="pdfa", rendition=2))
        stored = json.loads(zf.read(f"{base}/files.json"))
    rows = stored if isinstance(stored, list) else stored["files"]
    assert [(r["kind"], r.get("rendition", 1), r["member"]) for r in rows] == [
        ("pdf", 1, None), ("pdfa", 1, f"{base}/v1-pdfa.pdf"), ("pdf", 2, None), ("pdfa", 2, f"{base}/v1-r2-pdfa.pdf")]
    assert rows[3]["reason"] == REASON and rows[3]["rendered_by"] == people["quality_mgr"].printed_name
    assert "rendition" not in rows[0]  # a first rendering's entry reads as it always did
    assert all(r["problems"] == [] for r in rows)


def file_problems():
    from core.verification import verify_all

    _counts, problems, _warnings = verify_all()
    return [(p.ident, p.detail) for p in problems if p.kind == "stored file"]


def test_the_integrity_check_counts_every_rendering(old_version, people):
    renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    assert file_problems() == []
    corrected = old_version.files.get(kind="pdf", rendition=2)
    corrected.file.storage.delete(corrected.file.name)
    assert file_problems() == [(f"{old_version.record.number} v1 pdf r2", "missing")]


@pytest.mark.usefixtures("credentials_kept_fresh")  # years pass
def test_a_tombstone_keeps_the_hash_of_every_rendering(old_version, people):
    import time_machine
    from dateutil.relativedelta import relativedelta

    from evidence import retention
    from workflows.demo import DEMO_PASSWORD

    renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    record = old_version.record
    with time_machine.travel(record.created_at + relativedelta(years=11), tick=False):
        tombstone = retention.destroy_record(record, actor=people["quality_mgr"], password=DEMO_PASSWORD,
                                             reason="retention over")
    assert tombstone.file_hashes == {f.key: f.sha256 for f in old_version.files.all()}
    assert set(tombstone.file_hashes) == {"v1 pdf", "v1 pdfa", "v1 pdf r2", "v1 pdfa r2"}
    assert file_problems() == []
    page = signed_in(people["quality_mgr"]).get(f"/qms/evidence/files/{record.number}/").content.decode()
    assert 'id="destroyed"' in page and "Add a corrected rendering" not in page
    with pytest.raises(WrongState, match="destroyed"):
        renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)


def test_the_command_reports_then_corrects_a_registry(old_version, people, capsys):
    today = make_record(order_data(), number="OR-2026-0002")
    pdf.render_version(today)
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_record_pdfs")
    out = capsys.readouterr().out
    assert exit_info.value.code == 1
    assert "OR-2026-0001 v1: fonts misread" in out and "OR-2026-0002" not in out
    assert "files checked: 4, versions misread: 1, corrected: 0" in out

    from django.utils import timezone

    today = timezone.localdate().isoformat()
    with pytest.raises(SystemExit):
        call_command("check_record_pdfs", "--rendered-from", today)
    assert "files checked: 4, versions misread: 1" in capsys.readouterr().out
    call_command("check_record_pdfs", "--rendered-until", today)  # all rendered today: none before it
    assert "files checked: 0, versions misread: 0" in capsys.readouterr().out
    call_command("check_record_pdfs", "--record", "OR-2026-0002")
    assert "files checked: 2, versions misread: 0" in capsys.readouterr().out

    with pytest.raises(Exception, match="needs --actor and --reason"):
        call_command("check_record_pdfs", "--correct", "--actor", "quality_mgr")
    with pytest.raises(Exception, match="no active Quality manager"):
        call_command("check_record_pdfs", "--correct", "--actor", "quality", "--reason", REASON)
    assert old_version.files.count() == 2

    call_command("check_record_pdfs", "--correct", "--actor", "quality_mgr", "--reason", REASON)
    out = capsys.readouterr().out
    assert "OR-2026-0001 v1: corrected rendering 2 added" in out
    assert "versions misread: 1, corrected: 1, unreadable files: 0" in out
    call_command("check_record_pdfs")  # exits 0: nothing left
    assert "files checked: 4, versions misread: 0" in capsys.readouterr().out


# --- in a real browser ----------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_quality_manager_corrects_a_version_in_the_browser_in_both_languages(browser, live_server, people):  # noqa: F811
    """The stored-files page at a phone's and a laptop's width in zh-Hans and English (screenshots under
    var/screenshots/screens/quality_mgr-record_files-*), axe-clean; the Quality manager types a reason and adds the
    corrected rendering; the page then says every file reads right, and the record page links the new one."""
    from axe_playwright_python.sync_playwright import Axe
    from test_screens import LANGUAGES, WIDTHS, log_in, look

    version = make_record(order_data())
    stored_as_first_cut(version)
    number = version.record.number
    url = f"{live_server.url}/qms/evidence/files/{number}/"
    context, page, errors = log_in(browser, live_server.url, "quality_mgr", "zh-hans")
    problems, violations = [], []
    for language in LANGUAGES:
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            problems += look(page, errors, url, f"quality_mgr-record_files-{language[:2]}-{width}")
            violations += [(language, width, v["id"], [n["target"] for n in v["nodes"]][:3])
                           for v in Axe().run(page).response["violations"]]
            assert page.locator("#v1-defect").is_visible()
    assert not problems, "\n".join(problems)
    assert not violations, violations

    page.set_viewport_size({"width": 1366, "height": 900})  # English, as the loop left it
    page.goto(url)
    page.click("#v1-correct button[type=submit]")  # no reason: the browser's own check keeps the form
    assert page.evaluate("document.querySelector('#v1-reason').validity.valueMissing")
    assert page.locator("#v1-defect").is_visible() and version.files.count() == 2
    page.fill("#v1-correct textarea[name=reason]", REASON)
    page.click("#v1-correct button[type=submit]")
    page.wait_for_load_state("load")
    assert "corrected rendering 2 added" in page.inner_text("body")  # the message, in viewflow's snackbar
    assert page.locator("#v1-defect").count() == 0 and page.locator("#v1-correct").count() == 0
    assert page.locator("text=✓ Yes").count() == 2
    problems = look(page, errors, url, "quality_mgr-record_files-corrected-en-1366")
    page.set_viewport_size({"width": 390, "height": 900})
    problems += look(page, errors, f"{live_server.url}/qms/records/{number}/", "quality_mgr-record_renditions-en-390")
    assert page.locator("text=corrected rendering 2").count() == 2  # the current version and its history entry
    assert not problems, "\n".join(problems)
    context.close()
    assert version.files.filter(rendition=2).count() == 2


def test_the_stored_files_page_reads_the_same_queries_for_one_version_or_many(people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one = make_record(order_data(), number="OR-2026-0011")
    many = make_record(order_data(), number="OR-2026-0012", versions=4)
    for version in [one, *many.record.versions.all()]:
        pdf.render_version(version)
    client = signed_in(people["quality_mgr"])
    counts = []
    for record in (one.record, many.record):
        client.get(f"/qms/evidence/files/{record.number}/")  # warm: the session, the menus
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/qms/evidence/files/{record.number}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_who_sees_a_record_sees_its_files_and_no_one_else_and_an_auditor_changes_nothing(old_version, people):
    from rest_framework.test import APIClient

    from evidence_support import make_auditor, other_record_type

    record = old_version.record
    outside = make_auditor(people, username="outside", record_types=[other_record_type(record)])
    inside = make_auditor(people, username="inside")
    page = f"/qms/evidence/files/{record.number}/"
    assert signed_in(outside).get(page).status_code == 404
    assert signed_in(outside).get(f"/qms/records/{record.number}/v1/pdf/?rendition=1").status_code == 404
    api = APIClient()
    api.force_authenticate(outside)
    assert api.get(f"/api/records/{record.pk}/files/").status_code == 404
    assert api.get(f"/api/records/{record.pk}/pdf/?rendition=1").status_code == 404

    auditor = signed_in(inside)
    html = auditor.get(page).content.decode()
    assert 'id="v1-defect"' in html and 'id="v1-correct"' not in html
    assert auditor.post(page, {"version": 1, "reason": REASON}).status_code == 403
    api.force_authenticate(inside)
    assert api.get(f"/api/records/{record.pk}/files/?check=true").json()["count"] == 2
    assert api.post(f"/api/records/{record.pk}/files/", {"version": 1, "reason": REASON},
                    format="json").status_code == 403
    assert signed_in(people["quality_mgr"]).get(page + "?page=²").status_code == 200
    assert signed_in(people["quality_mgr"]).get(
        f"/qms/records/{record.number}/v1/pdf/?rendition=²").status_code == 404
    assert old_version.files.count() == 2


def test_the_anchoring_scan_sees_a_rendition_renumbered_behind_the_application(old_version, people):
    """A later rendition's number decides what a download gives: changing it behind the application (no trigger
    on SQLite; a superuser's on PostgreSQL) is found like a rewritten hash."""
    from core.checkpoints import AnchorScan

    added = renditions.add_corrected_rendition(old_version, actor=people["quality_mgr"], reason=REASON)
    assert [p for p in AnchorScan(orphans=False).run().problems if p.kind == "stored file"] == []
    first = old_version.files.get(kind="pdfa", rendition=1)
    with intruder():
        RecordFile.objects.filter(pk=added[0].pk).update(rendition=7)  # now "the newest" by number
        RecordFile.objects.filter(pk=first.pk).update(rendition=9)
    problems = [p for p in AnchorScan(orphans=False).run().problems if p.kind == "stored file"]
    assert sorted(p.ident for p in problems) == [f"{old_version.record.number} v1 pdf r7",
                                                 f"{old_version.record.number} v1 pdfa r9"]
