"""Issue 11: a PDF carrying active content (scripts, automatic actions, launching
programs, sending or importing data, multimedia, XFA, embedded files in a controlled
document) is refused on every upload path, with a message naming what was found; what
is stored is byte for byte what was checked. A file stored before the check never
reaches the departments with its active content: the stamped copy is built without it,
and the audit entry of the build says what was kept out."""
import hashlib
import io
import json
import subprocess
import tempfile
from pathlib import Path

import pikepdf
import pytest
from api_driver import client_for
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from flow_driver import act
from p4_support import fire_timers, register, review_all
from pdf_support import ACTIVE, harmless_links_pdf, plain_pdf, upload

from core.errors import InvalidInput
from core.models import AuditEntry, Record
from forms.pdfsafety import active_content, open_pdf
from procedures.order_review.models import OrderReview
from procedures.documents.models import Revision, RevisionFile, RevisionStatus, StampedCopyBase

pytestmark = pytest.mark.django_db

PROCEDURE_REVIEWERS = ["quality", "market", "production"]
LABEL_WORDS = {  # a word of each finding's English label, as the message must name it
    "open_action_javascript": "JavaScript", "names_javascript": "JavaScript", "page_additional_action": "/AA",
    "annotation_additional_action": "/AA", "link_launch": "/Launch", "link_submit_form": "/SubmitForm",
    "link_import_data": "/ImportData", "rich_media": "/RichMedia", "embedded_files": "/EmbeddedFiles",
    "xfa_form": "XFA", "open_action_uri": "/OpenAction", "outline_javascript": "JavaScript",
}


def submit(process, user, data, name="procedure.pdf"):
    return act(process, "edit", user, {"outcome": "submit", "change_summary": "首版 first issue",
                                       "effective_date": timezone.localdate().isoformat()},
               files={"pdf": [upload(data, name)]}, meaning="authored")


def issue(people, data):
    process = register(people)
    submit(process, people["market"], data)
    review_all(process, people, PROCEDURE_REVIEWERS)
    act(process, "approve", people["gm"], {"effective_date": timezone.localdate().isoformat()}, meaning="approved")
    fire_timers()
    return Revision.objects.get(process=process)


def pdf_text(body):
    path = Path(tempfile.mkdtemp()) / "copy.pdf"
    path.write_bytes(body)
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split())


# --- controlled documents (P4) ------------------------------------------------------------------------------


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("kind", sorted(ACTIVE))
def test_a_controlled_pdf_with_active_content_is_refused_and_nothing_is_stored(people, kind):
    process = register(people)
    with pytest.raises(InvalidInput) as error:
        submit(process, people["market"], ACTIVE[kind]())
    message = " ".join(error.value.field_errors["pdf"])
    assert "contains active content" in message and LABEL_WORDS[kind] in message, message
    revision = Revision.objects.get(process=process)
    assert revision.status == RevisionStatus.DRAFT and revision.files.count() == 0
    assert not AuditEntry.objects.filter(action="document.submitted").exists()


def test_the_refusal_names_what_was_found_in_chinese_too(people):
    process = register(people)  # the UI's default language is zh-Hans
    with pytest.raises(InvalidInput) as error:
        submit(process, people["market"], ACTIVE["open_action_javascript"]())
    message = " ".join(error.value.field_errors["pdf"])
    assert "主动内容" in message and "JavaScript" in message and "打开" in message, message


def test_a_pdf_with_ordinary_links_is_accepted_and_stored_exactly_as_checked(people):
    data = harmless_links_pdf()
    process = register(people)
    submit(process, people["market"], data)
    file = RevisionFile.objects.get(revision__process=process, kind="controlled")
    assert file.sha256 == hashlib.sha256(data).hexdigest()
    with file.file.open("rb") as handle:
        assert handle.read() == data
    assert Revision.objects.get(process=process).status == RevisionStatus.IN_REVIEW


@pytest.mark.usefixtures("english")
def test_a_password_protected_or_unreadable_pdf_is_refused(people):
    locked = io.BytesIO()
    open_pdf(plain_pdf()).save(locked, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    process = register(people)
    with pytest.raises(InvalidInput) as error:
        submit(process, people["market"], locked.getvalue())
    assert "password-protected" in " ".join(error.value.field_errors["pdf"])
    with pytest.raises(InvalidInput) as error:
        submit(process, people["market"], b"%PDF-1.7\n" + b"\x00garbage" * 50)
    assert "cannot be read as a PDF" in " ".join(error.value.field_errors["pdf"])
    assert RevisionFile.objects.count() == 0


@pytest.mark.usefixtures("english")
def test_a_pdf_over_the_page_limit_is_refused_and_one_at_the_limit_is_accepted(people, settings):
    settings.QMS = {**settings.QMS, "MAX_PDF_PAGES": 5}
    process = register(people)
    with pytest.raises(InvalidInput) as error:
        submit(process, people["market"], plain_pdf(pages=6))
    assert "has 6 pages; at most 5 are accepted" in " ".join(error.value.field_errors["pdf"])
    assert RevisionFile.objects.count() == 0
    submit(process, people["market"], plain_pdf(pages=5))
    assert RevisionFile.objects.get().revision.status == RevisionStatus.IN_REVIEW


@pytest.mark.usefixtures("english")
def test_a_pdf_with_more_objects_than_the_check_visits_is_refused(people, monkeypatch):
    from forms import uploads

    process = register(people)
    monkeypatch.setattr(uploads, "MAX_PDF_OBJECTS", 20)
    with pytest.raises(InvalidInput) as error:
        submit(process, people["market"], plain_pdf(pages=10))
    assert "too complex to be checked" in " ".join(error.value.field_errors["pdf"])
    monkeypatch.setattr(uploads, "MAX_PDF_OBJECTS", 250_000)
    submit(process, people["market"], plain_pdf(pages=10))
    assert RevisionFile.objects.count() == 1


# --- attachments of the other procedures (the same check) ------------------------------------------------


def attach(order_data, data, name="PO.pdf"):
    body = {"payload": json.dumps(order_data()), "attachments": [SimpleUploadedFile(name, data)]}
    return client_for("market").post("/api/order-reviews/", body, format="multipart")


def test_an_attachment_with_javascript_is_refused_and_nothing_is_saved(people, order_data):
    response = attach(order_data, ACTIVE["link_launch"]())
    assert response.status_code == 400 and "attachments" in response.json()["errors"], response.content
    assert Record.objects.count() == 0 and OrderReview.objects.count() == 0


def test_an_attachment_may_carry_embedded_files_but_a_controlled_pdf_may_not(people, order_data):
    data = ACTIVE["embedded_files"]()  # e.g. a customer's PDF/A-3 invoice with its XML
    response = attach(order_data, data)
    assert response.status_code == 201, response.content
    attachment = OrderReview.objects.get().attachments.get()
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    process = register(people)
    with pytest.raises(InvalidInput):
        submit(process, people["market"], data)


# --- files stored before the check ------------------------------------------------------------------------


def test_a_stored_pdf_with_active_content_reaches_the_departments_without_it_and_the_build_is_audited(people):
    revision = issue(people, plain_pdf(text="Legacy body"))
    file = revision.main_file
    legacy = ACTIVE["open_action_javascript"]()  # as uploaded before uploads were checked
    with file.file.open("wb") as handle:
        handle.write(legacy)
    RevisionFile.objects.filter(pk=file.pk).update(sha256=hashlib.sha256(legacy).hexdigest(), size=len(legacy))
    client = Client()
    client.force_login(people["warehouse"])
    response = client.get(f"/qms/documents/{revision.document.number}/{revision.label}/files/{file.pk}/")
    assert response.status_code == 200
    copy = open_pdf(response.content)
    assert not active_content(copy, embedded_files=False)
    assert "/OpenAction" not in copy.Root
    assert "UNCONTROLLED WHEN PRINTED" in pdf_text(response.content)
    entry = AuditEntry.objects.get(action="document.controlled_copy_built")
    assert entry.new_values["active_content_removed"] == ["automatic_action", "javascript"]
    assert entry.new_values["source_sha256"] == hashlib.sha256(legacy).hexdigest()
    assert "JavaScript" in entry.reason
    with file.file.open("rb") as handle:
        assert handle.read() == legacy, "the stored original is kept as it was"
    assert StampedCopyBase.objects.get().removed == ["automatic_action", "javascript"]
