"""A record version is laid out once (issue 15.5): the plain PDF and the PDF/A copy are
written from the same rendered document, the font configuration and the record stylesheet
are built once per worker, and the pages look exactly as they did when every render
discovered the fonts again and read the stylesheet through the HTML's <link>."""
import datetime
import subprocess

import pikepdf
import pytest
import weasyprint
from django.utils import timezone
from PIL import Image, ImageChops

import forms.pdf as pdf
from core.models import RecordFile
from flow_driver import act, start as start_flow
from p1_driver import act as act_p1, review_all, start
from p2_support import FLOW, inspection, intake, judgement, photo, receipt
from procedures.complaints.models import ComplaintCase
from procedures.order_review.models import order_review_of

pytestmark = pytest.mark.django_db

AT = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 30))


def approved_order_version(people, order_data):
    process = start(people["market"], order_data())
    review_all(process, people)
    act_p1(process, "approve", people["market_mgr"], {"conclusion": "OK"}, meaning="approved")
    record = order_review_of(process).record
    record.refresh_from_db()
    return record.get_version()


def receipt_version(people):
    """The P2 material receipt: printed in three marked copies bound together."""
    process = start_flow(FLOW, "start", people["market"], intake(contract_requires_acceptance=True),
                         files={"photos": [photo("scratch.png")]})
    act(process, "inspect", people["quality"], inspection(), meaning="authored")
    case = ComplaintCase.objects.get(record__process=process)
    act(process, "judge", people["quality_mgr"], judgement(True), meaning="reviewed")
    act(process, "hand_over", people["market"], {})
    act(process, "receive", people["materials"], receipt(), meaning="authored")
    record = case.record.__class__.objects.get(process=process, record_type="material_receipt")
    return record.get_version()


def render_as_before(version):
    """The rendering before issue 15: a new FontConfiguration per render and the stylesheet
    read through the template's <link> (no preloaded stylesheet)."""
    font_config = weasyprint.text.fonts.FontConfiguration()
    fetcher = pdf.StaticURLFetcher()
    rtype = pdf.registry.get(version.record.record_type)
    documents = []
    for copy in pdf._copy_marks(rtype.copies) or [None]:
        html = pdf.render_html(version, copy=copy, generated_at=AT)
        assert "pdf/record.css" in html
        documents.append(weasyprint.HTML(string=html, base_url=pdf.base_url(), url_fetcher=fetcher)
                         .render(font_config=font_config))
    document = documents[0]
    if len(documents) > 1:
        document = document.copy([page for doc in documents for page in doc.pages])
    return document.write_pdf()


def page_images(content, folder, name):
    path = folder / f"{name}.pdf"
    path.write_bytes(content)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(folder / name)], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(folder.glob(f"{name}-*.png"))]


def assert_same_pages(before, after):
    assert len(before) == len(after) and before, (len(before), len(after))
    for number, (old, new) in enumerate(zip(before, after), start=1):
        assert old.size == new.size, f"page {number}: {old.size} != {new.size}"
        assert ImageChops.difference(old, new).getbbox() is None, f"page {number} differs"


def test_the_order_review_looks_the_same_as_before_the_render_was_shared(people, order_data, tmp_path):
    version = approved_order_version(people, order_data)
    before = page_images(render_as_before(version), tmp_path, "before")
    after = page_images(pdf.write_pdf_bytes(pdf.render_document(version, generated_at=AT), version),
                        tmp_path, "after")
    assert_same_pages(before, after)


def test_a_record_in_marked_copies_looks_the_same_and_keeps_its_copies(people, tmp_path):
    version = receipt_version(people)
    before = page_images(render_as_before(version), tmp_path, "before")
    after = page_images(pdf.write_pdf_bytes(pdf.render_document(version, generated_at=AT), version),
                        tmp_path, "after")
    assert len(after) >= 3  # one set of pages per marked copy
    assert_same_pages(before, after)


def test_both_files_of_a_version_come_from_one_layout(people, order_data, monkeypatch):
    layouts = []
    real = pdf.render_document

    def counting(*args, **kwargs):
        layouts.append(args[0].pk)
        return real(*args, **kwargs)

    # counted through the real approval: its render job writes both files (files are append-only,
    # so the test cannot delete them and render again)
    monkeypatch.setattr(pdf, "render_document", counting)
    version = approved_order_version(people, order_data)
    files = list(RecordFile.objects.filter(record_version=version).order_by("kind"))
    assert sorted(f.kind for f in files) == sorted([RecordFile.Kind.PDF, RecordFile.Kind.ARCHIVE])
    assert layouts.count(version.pk) == 1
    files.sort(key=lambda f: f.kind != RecordFile.Kind.PDF)
    assert pdf.render_version(version) == files  # idempotent: nothing laid out again
    assert layouts.count(version.pk) == 1
    with pikepdf.open(files[0].file.path) as plain, pikepdf.open(files[1].file.path) as archive:
        assert plain.open_metadata().get("pdfaid:part") is None
        assert str(archive.open_metadata().get("pdfaid:part")) == "3"
        assert len(plain.pages) == len(archive.pages)
    # the same rendered document: the same "generated at" in both files
    plain_text = subprocess.run(["pdftotext", files[0].file.path, "-"], capture_output=True, text=True).stdout
    archive_text = subprocess.run(["pdftotext", files[1].file.path, "-"], capture_output=True, text=True).stdout
    assert plain_text == archive_text


def test_renders_share_one_font_configuration_and_one_parsed_stylesheet(people, order_data, monkeypatch):
    version = approved_order_version(people, order_data)
    pdf.render_pdf_bytes(version)  # the worker's first render builds both
    built = []
    monkeypatch.setattr(pdf, "FontConfiguration", lambda *a, **k: built.append("fonts"))
    monkeypatch.setattr(pdf.weasyprint, "CSS", lambda *a, **k: built.append("css"))
    fetched = []
    real_fetch = pdf.StaticURLFetcher.fetch
    monkeypatch.setattr(pdf.StaticURLFetcher, "fetch", lambda self, url, headers=None: (
        fetched.append(url), real_fetch(self, url, headers))[1])
    for _ in range(2):
        assert pdf.render_pdf_bytes(version).startswith(b"%PDF-")
    assert built == []
    assert not [url for url in fetched if url.endswith("record.css")]
