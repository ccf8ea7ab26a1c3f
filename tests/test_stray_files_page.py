"""Stored files that no record names, for an administrator in the browser and through the API
(evidence.stray_sweeps): a look at the storage in the background, what it found with why each kept file is kept
(in the reader's language), and removal of the selected files with the password re-entered and a reason — each
file checked again and removed with an audit entry; a file kept as evidence never goes."""
import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from anchoring_support import intruder
from core import audit, esign
from core.models import AuditEntry, RecordFile, RecordVersion
from evidence import stray_sweeps
from forms import pdf
from evidence.models import StraySweep
from evidence.verification import run_system_verification
from evidence_support import make_auditor
from test_pdf import make_record, order_data
from test_stray_files import REASON, backdate, cut_off_render
from workflows.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
PAGE = "/qms/evidence/stored-files/"


@pytest.fixture
def admin(people):
    return people["admin"]


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def strays(media_root):
    """Two files of a render cut off (removable) and one whose row was deleted behind the application (kept: the
    audit entry of its rendering names it), all old enough to be looked at."""
    cut = cut_off_render(make_record(order_data()))
    other = make_record(order_data("OR-2026-0002"), number="OR-2026-0002")  # (other bytes than the cut copies)
    kept = pdf.render_version(other)[0]
    with intruder() as cursor:
        cursor.execute(f"DELETE FROM {RecordFile._meta.db_table} WHERE id = %s", [kept.pk])
    backdate(media_root, [*cut, kept.file.name])
    return {"cut": cut, "kept": kept.file.name, "rendered": AuditEntry.objects.get(
        action="record.rendered", new_values__file=kept.file.name)}


def look(client, capture):
    with capture(execute=True):
        response = client.post(reverse("qms:evidence:stray_files_look"))
    assert response.status_code == 302
    return StraySweep.objects.latest("pk")


def test_only_an_active_administrator_sees_the_page_and_its_api(client, people):
    for user in (people["quality_mgr"], make_auditor(people)):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        assert client.post(reverse("qms:evidence:stray_files_look")).status_code == 403
        assert client.get("/api/stray-files/").status_code == 403
        assert client.post("/api/stray-files/", content_type="application/json").status_code == 403
    assert not StraySweep.objects.exists()
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the sign-in page
    client.force_login(people["admin"])
    page = client.get(PAGE)
    assert page.status_code == 200 and b'id="look-form"' in page.content
    assert b"stray-files-link" in client.get(reverse("qms:evidence:index")).content
    client.force_login(people["quality_mgr"])
    assert b"stray-files-link" not in client.get(reverse("qms:evidence:index")).content


def test_a_look_runs_in_the_background_and_the_page_lists_what_it_found_with_why_a_file_is_kept(
        admin_client, admin, strays, django_capture_on_commit_callbacks):
    sweep = look(admin_client, django_capture_on_commit_callbacks)
    assert (sweep.status, sweep.origin, sweep.requested_by) == ("done", "request", admin)
    assert stray_sweeps.counts(sweep) == {"removable": 2, "kept": 1, "removed": 0}
    requested = AuditEntry.objects.get(action="storage.sweep_requested")
    swept = AuditEntry.objects.get(action="storage.swept")
    assert requested.actor == admin and swept.new_values == {"files": 3, "removable": 2, "kept": 1, "removed": 0}

    page = admin_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    removable = page[page.index('id="removable-files"'):page.index('id="kept"')]
    assert all(f'value="{name}"' in removable for name in strays["cut"]) and strays["kept"] not in removable
    kept = page[page.index('id="kept-files"'):]
    assert strays["kept"] in kept and f"audit entry #{strays['rendered'].seq} names it: " in kept
    assert "rendered the PDF of version 1" in kept  # the entry in words (core.diffs), not its code
    assert "record.rendered" not in kept
    with_cookie = admin_client.cookies
    with_cookie["django_language"] = "zh-hans"
    page = admin_client.get(PAGE).content.decode()
    assert "无任何记录引用的存储文件" in page
    assert f"审计追踪条目 #{strays['rendered'].seq} 引用了该文件：" in page


def test_one_look_at_a_time_and_the_page_asks_for_its_end(admin_client, admin, strays, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    done = look(admin_client, django_capture_on_commit_callbacks)  # a finished look, with files to remove
    with transaction.atomic():  # queued, its job not yet run (the commit's callbacks are not executed)
        first = stray_sweeps.request_sweep(actor=admin)
    assert stray_sweeps.request_sweep(actor=admin) == first
    page = admin_client.get(PAGE).content.decode()
    assert 'id="under-way"' in page and "qms/stray-look.js" in page and 'id="look-form"' not in page
    assert f'data-status="/api/stray-files/{first.pk}/"' in page and 'http-equiv="refresh"' not in page
    # the last look's files are listed, but not removed while another look may find otherwise
    assert 'id="remove-waits"' in page and 'name="password"' not in page and " disabled>" in page
    assert admin_client.get(f"/api/stray-files/{first.pk}/").json()["status"] == "queued"

    with monkeypatch.context() as patch:  # two asking at the same moment: the second's row is refused, theirs
        answers = iter([None, first])
        patch.setattr(stray_sweeps, "under_way", lambda: next(answers))
        assert stray_sweeps.request_sweep(actor=admin) == first
    assert StraySweep.objects.filter(active=True).count() == 1

    StraySweep.objects.filter(pk=first.pk).update(created_at=timezone.now() - stray_sweeps.STALE)
    with transaction.atomic():  # lost with its worker: given up (audited), and another may be asked for
        second = stray_sweeps.request_sweep(actor=admin)
    first.refresh_from_db()
    assert second != first and (first.status, first.active) == ("failed", None) and first.error.startswith("lost")
    assert AuditEntry.objects.filter(action="storage.sweep_failed", object_id=str(first.pk)).exists()
    stray_sweeps.sweep_stray_files(first.pk)  # its job, come back after all: nothing changes
    first.refresh_from_db()
    assert first.status == "failed" and stray_sweeps.latest() == done
    assert admin_client.get(PAGE).status_code == 200 and admin_client.post(PAGE).status_code == 405


def test_removing_selected_files_needs_the_password_and_a_reason_and_audits_each_one(
        admin_client, admin, strays, django_capture_on_commit_callbacks):
    sweep = look(admin_client, django_capture_on_commit_callbacks)
    remove = reverse("qms:evidence:stray_files_remove", args=[sweep.pk])
    one, other = strays["cut"]
    page = admin_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="accept_accountability"' in page  # the administrator has not signed before
    unaccepted = admin_client.post(remove, {"file": [one], "reason": REASON, "password": DEMO_PASSWORD},
                                   HTTP_ACCEPT_LANGUAGE="en")
    assert unaccepted.status_code == 400 and b"Accept the electronic-signature accountability" in unaccepted.content

    wrong = admin_client.post(remove, {"file": [one, other], "reason": REASON, "password": "not-it",
                                       "accept_accountability": "1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 400 and b"The user ID or password is not correct." in wrong.content
    assert f'value="{one}" id="file-1" aria-label="{one}" checked'.encode() in wrong.content  # the choice kept
    assert REASON.encode() in wrong.content
    no_reason = admin_client.post(remove, {"file": [one], "reason": " ", "password": DEMO_PASSWORD})
    assert no_reason.status_code == 400
    nothing = admin_client.post(remove, {"reason": REASON, "password": DEMO_PASSWORD})
    assert nothing.status_code == 400
    assert AuditEntry.objects.filter(action="esign.failed", actor=admin).count() == 1
    assert not AuditEntry.objects.filter(action="storage.stray_removed").exists()
    assert default_storage.exists(one) and default_storage.exists(other)

    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(remove, {"file": [one, other], "reason": REASON, "password": DEMO_PASSWORD})
    assert done.status_code == 302
    assert not default_storage.exists(one) and not default_storage.exists(other)
    entries = list(AuditEntry.objects.filter(action="storage.stray_removed").order_by("seq"))
    assert [(e.new_values["file"], e.actor, e.reason) for e in entries] == [(one, admin, REASON),
                                                                           (other, admin, REASON)]
    sweep.refresh_from_db()
    assert {row["name"]: (row["removed"] or {}).get("entry") for row in sweep.files} == {
        one: entries[0].seq, other: entries[1].seq, strays["kept"]: None}
    page = admin_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="no-removable"' in page and f"#{entries[0].seq}" in page[page.index('id="removed-files"'):]
    again = admin_client.post(remove, {"file": [one], "reason": REASON, "password": DEMO_PASSWORD},
                              HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 400 and b"Already removed" in again.content


def test_a_file_kept_as_evidence_cannot_be_selected_and_one_named_since_the_look_is_refused(
        admin_client, admin, strays, django_capture_on_commit_callbacks):
    esign.accept_accountability(admin)
    sweep = look(admin_client, django_capture_on_commit_callbacks)
    remove = reverse("qms:evidence:stray_files_remove", args=[sweep.pk])
    kept = admin_client.post(remove, {"file": [strays["kept"]], "reason": REASON, "password": DEMO_PASSWORD},
                             HTTP_ACCEPT_LANGUAGE="en")
    assert kept.status_code == 400 and b"Kept as evidence, never removed" in kept.content
    unknown = admin_client.post(remove, {"file": ["records/2026/nothing.pdf"], "reason": REASON,
                                         "password": DEMO_PASSWORD}, HTTP_ACCEPT_LANGUAGE="en")
    assert unknown.status_code == 400 and b"Not listed by this look" in unknown.content

    one, other = strays["cut"]
    with transaction.atomic():  # since the look, an entry names one of them: evidence now
        audit.log("record.rendered", ("storage.file", "x", "x"), actor=admin, new={"file": one})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(remove, {"file": [one, other], "reason": REASON, "password": DEMO_PASSWORD},
                                     HTTP_ACCEPT_LANGUAGE="en", follow=True)
    page = response.content.decode()
    outcome = page[page.index('id="outcome"'):page.index('id="stray-status"')]
    assert f"{one}</span> — not removed: Kept as evidence: audit entry #" in outcome
    entry = AuditEntry.objects.get(action="storage.stray_removed")
    assert f"{other}</span> — removed (audit entry #{entry.seq})" in outcome
    assert 'id="outcome"' not in admin_client.get(PAGE).content.decode()  # shown once
    assert default_storage.exists(one) and not default_storage.exists(other)
    sweep.refresh_from_db()
    row = next(row for row in sweep.files if row["name"] == one)
    assert row["kept"] == "named" and not row["removed"]  # listed as kept from now on


def test_a_look_asked_for_right_after_a_restore_leaves_its_files_quiet(
        admin_client, admin, media_root, django_capture_on_commit_callbacks):
    """The look's own entries (asked for, found) report on the storage, and signing in or re-entering a password
    says nothing of the time around a file: following a file, they do not make it less quiet — else looking right
    after a restore would make the only trace of the lost rows removable."""
    version = make_record(order_data())
    names = cut_off_render(version, then_render=False)
    backdate(media_root, names, minutes=90)  # the trail's entries are from 90 minutes after: ...
    with intruder() as cursor:  # ... a day before, in fact: the database is older than the storage
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET timestamp = %s",
                       [timezone.now() - datetime.timedelta(days=1)])
    with transaction.atomic():  # the administrator signs in after the restore, mistypes a password once
        audit.log("auth.login", admin, actor=admin)
        audit.log("esign.failed", admin, actor=admin, new={"consecutive_failures": 1})
    sweep = look(admin_client, django_capture_on_commit_callbacks)
    assert [(row["name"], row["kept"]) for row in sweep.files] == [(name, "quiet") for name in names]
    again = look(admin_client, django_capture_on_commit_callbacks)
    assert [row["kept"] for row in again.files] == ["quiet", "quiet"]


def test_the_nightly_verification_keeps_its_list_for_the_page(admin_client, strays):
    run_system_verification()
    sweep = stray_sweeps.latest()
    assert (sweep.origin, stray_sweeps.counts(sweep)) == ("nightly", {"removable": 2, "kept": 1, "removed": 0})
    page = admin_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "by the nightly verification" in page and "2 files to remove" in page


def test_the_api_looks_lists_and_removes(admin_client, admin, strays, django_capture_on_commit_callbacks):
    esign.accept_accountability(admin)
    assert admin_client.get("/api/stray-files/latest/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        created = admin_client.post("/api/stray-files/", content_type="application/json")
    assert created.status_code == 202
    pk = created.json()["id"]
    latest = admin_client.get("/api/stray-files/latest/").json()
    assert (latest["id"], latest["status"], latest["counts"]) == (pk, "done", {"removable": 2, "kept": 1,
                                                                               "removed": 0})
    assert admin_client.get("/api/stray-files/").json()["count"] == 1
    removable = admin_client.get(f"/api/stray-files/{pk}/files/?state=removable").json()
    assert [row["name"] for row in removable["results"]] == strays["cut"]
    kept = admin_client.get(f"/api/stray-files/{pk}/files/?state=kept", HTTP_ACCEPT_LANGUAGE="en").json()
    because = kept["results"][0]["kept_because"]
    assert because.startswith(f"audit entry #{strays['rendered'].seq} names it: ") and "rendered the PDF" in because
    assert admin_client.get(f"/api/stray-files/{pk}/files/?state=lost").status_code == 400

    url = f"/api/stray-files/{pk}/remove/"
    body = {"files": strays["cut"], "reason": REASON, "password": "not-it"}
    assert admin_client.post(url, body, content_type="application/json").status_code == 400
    assert admin_client.post(url, {**body, "extra": 1}, content_type="application/json").status_code == 400
    assert admin_client.post(url, {**body, "files": [strays["kept"]], "password": DEMO_PASSWORD},
                             content_type="application/json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(url, {**body, "password": DEMO_PASSWORD}, content_type="application/json")
    assert done.status_code == 200
    entries = list(AuditEntry.objects.filter(action="storage.stray_removed").order_by("seq"))
    assert done.json() == {"removed": [{"file": e.new_values["file"], "entry": e.seq} for e in entries],
                           "refused": []}
    assert [e.new_values["file"] for e in entries] == strays["cut"]
    assert not any(default_storage.exists(name) for name in strays["cut"])
    assert admin_client.get(f"/api/stray-files/{pk}/").json()["counts"] == {"removable": 0, "kept": 1, "removed": 2}


def test_an_upload_named_by_a_record_version_is_kept_and_said_so(admin_client, admin, media_root,
                                                                  django_capture_on_commit_callbacks):
    """An upload whose SHA-256 only a record version holds (no audit entry names it)."""
    import hashlib

    version = make_record(order_data())
    content = "客户图纸 customer drawing".encode()
    name = default_storage.save("attachments/2026/12/drawing.pdf", ContentFile(content))
    RecordVersion.objects.create(record=version.record, version=9, content_hash="0" * 64, created_by=admin,
                                 data={"drawing": hashlib.sha256(content).hexdigest()})
    backdate(media_root, [name])
    sweep = look(admin_client, django_capture_on_commit_callbacks)
    [row] = sweep.files
    assert (row["kept"], row["detail"]["record"], row["detail"]["version"]) == ("named", version.record.number, 9)
    page = admin_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"version 9 of record {version.record.number} holds its SHA-256" in page


def test_a_look_that_failed_or_was_lost_is_said_and_another_may_be_asked_for(admin_client, admin, monkeypatch,
                                                                            django_capture_on_commit_callbacks):
    def broken(**_kwargs):
        raise OSError(5, "Input/output error", "records/2026")

    monkeypatch.setattr(stray_sweeps.stray_files, "find", broken)
    sweep = look(admin_client, django_capture_on_commit_callbacks)
    assert (sweep.status, sweep.active) == ("failed", None)
    assert AuditEntry.objects.get(action="storage.sweep_failed").new_values["error"].startswith("OSError(5")
    page = admin_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="look-failed"' in page and "did not finish: OSError(5, &#x27;Input/output error&#x27;" in page
    assert 'id="look-form"' in page  # look again

    with transaction.atomic():  # queued, and its worker lost: after an hour the page offers a new look
        lost = stray_sweeps.request_sweep(actor=admin)
    assert 'id="under-way"' in admin_client.get(PAGE).content.decode()
    StraySweep.objects.filter(pk=lost.pk).update(created_at=timezone.now() - stray_sweeps.STALE)
    page = admin_client.get(PAGE).content.decode()
    assert 'id="under-way"' not in page and 'id="look-form"' in page
