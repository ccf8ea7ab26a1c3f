"""Rendering of record versions to PDF and PDF/A-3b (forms.pdf)."""
import datetime
import hashlib
import io
import re
import shutil
import subprocess

import pikepdf
import pytest
from django.db import transaction

from accounts.models import User
from core import esign
from forms import pdf
from core.canonical import sha256_hex
from core.models import AuditEntry, Record, RecordFile, RecordVersion
from pdf_support import pdfa_problems, plain_pdf
from pdf_face import cjk_face

pytestmark = [pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdffonts")), reason="poppler-utils not installed"
), pytest.mark.usefixtures("media_root")]

SIGNERS = [
    ("wangfang", "王芳 Wang Fang", "reviewed", "品质部 Quality"),
    ("lijun", "李军 Li Jun", "reviewed", "生产部 Production"),
    ("zhaomin", "赵敏 Zhao Min", "approved", "总经理 General manager"),
]

PRODUCTS = [
    ("P-42CRMO-2500", "调质轴", "Tempered shaft", "Φ25×120 42CrMo4"),
    ("B-M8-1025", "六角螺栓", "Hex bolt", "M8×1.25-6g 10.9 级"),
    ("S-304-0415", "不锈钢垫片", "Stainless washer", "Φ15/Φ8.4×1.5 304"),
]


def order_lines(count):
    lines = []
    for i in range(count):
        code, name_zh, name_en, spec = PRODUCTS[i % len(PRODUCTS)]
        lines.append({
            "position": i + 1, "product_code": f"{code}-{i + 1:02d}", "product_name_zh": name_zh,
            "product_name_en": name_en, "specification": spec, "quantity": str(100 + 10 * i), "unit": "件 pcs",
            "unit_price": "12.5" if i % 4 else None, "packaging": "纸箱 Carton, 50/箱",
            "delivery_date": (datetime.date(2026, 12, 15) + datetime.timedelta(days=i)).isoformat(),
        })
    return lines


def order_data(number="OR-2026-0001", lines=3):
    rows = order_lines(lines)
    return {
        "record_number": number, "kind": "order",
        "customer": {"code": "C-0107", "name_zh": "苏州精工机械有限公司", "name_en": "Suzhou Precision Machinery Co., Ltd.",
                     "address": "江苏省苏州市工业园区星湖街 328 号", "contact": "陈静 Chen Jing", "phone": "+86 512 6288 0000"},
        "order_number": "SO-2026-0456", "order_date": "2026-11-20", "verbal": True,
        "verbal_confirmation": "2026-11-19 电话确认，客户采购陈静 Confirmed by phone with buyer Chen Jing",
        "payment_terms": "月结 60 天 Net 60 days", "delivery_place": "客户苏州工厂 Customer plant, Suzhou",
        "transport": "汽运，供方承担运费 Truck, freight prepaid",
        "special_requirements": "镀锌层厚度 8–12 µm；每批附材质证明。Zinc coating 8–12 µm; material certificate per lot.",
        "is_sample": False, "sample_rule": "quantity", "review_method": "meeting",
        "lines": rows, "total_amount": "1250", "revision": 0, "status": "approved",
        "rounds": [{
            "number": 1, "departments": ["quality", "production", "materials"], "change_notice": None,
            "reviews": [
                {"department": "quality", "department_zh": "品质部", "department_en": "Quality",
                 "verdict": "can_meet", "verdict_zh": "能满足", "verdict_en": "Can meet",
                 "comment": "检验能力满足，盐雾试验委外。Inspection capability OK; salt spray outsourced.",
                 "material_readiness": "", "reviewer": "王芳 Wang Fang", "reviewed_at": "2026-11-21T02:15:00+00:00"},
                {"department": "production", "department_zh": "生产部", "department_en": "Production",
                 "verdict": "can_meet", "verdict_zh": "能满足", "verdict_en": "Can meet",
                 "comment": "产能可排入第 51 周。Capacity in week 51.", "material_readiness": "to_order",
                 "reviewer": "李军 Li Jun", "reviewed_at": "2026-11-21T03:40:00+00:00"},
            ],
        }],
        "conclusion": "各部门均能满足，同意接单。All departments can meet the requirements; accept the order.",
        "declined_reason": "",
        "approval": {"approver": "赵敏 Zhao Min", "approved_at": "2026-11-22T06:05:09+00:00", "decision": "approved"},
    }


def make_user(username, display_name):
    return User.objects.create_user(username=username, password="correct-horse-battery", display_name=display_name)


def make_record(data, *, number="OR-2026-0001", signers=SIGNERS, versions=1):
    author = make_user(f"author-{number}", "张伟 Zhang Wei")
    record = Record.objects.create(
        number=number, record_type="order_review", title="订单评审记录表 Order Review Record Sheet",
        form_code="QR-MK-001", form_revision="A/0", status="approved", current_version=0, created_by=author,
    )
    version = None
    for n in range(1, versions + 1):
        version_data = dict(data, revision=n - 1)
        version = RecordVersion.objects.create(
            record=record, version=n, data=version_data, content_hash=sha256_hex(version_data),
            reason="created" if n == 1 else "客户增加数量 Customer increased the quantity", created_by=author,
        )
    record.current_version = versions
    record.save(update_fields=["current_version"])
    with transaction.atomic():
        for username, name, meaning, role in signers:
            user = User.objects.filter(username=username).first() or make_user(username, name)
            esign.apply_signature(version, signer=user, meaning=meaning, role=role)
    return version


def pdftotext(path, *, first=None, last=None):
    args = ["pdftotext", "-enc", "UTF-8"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run(args + [str(path), "-"], check=True, capture_output=True, text=True).stdout


def flat(text):
    return " ".join(text.split())


@pytest.fixture
def version(db):
    return make_record(order_data())


@pytest.fixture
def pdf_file(version, tmp_path):
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version))
    return path


@pytest.mark.django_db
def test_text_has_titles_signers_number_hash_and_page_numbers(version, pdf_file):
    text = flat(pdftotext(pdf_file))
    assert "订单评审记录表" in text
    assert "Order Review Record Sheet" in text
    for _, name, _, _ in SIGNERS:
        assert name in text
    assert "OR-2026-0001" in text
    assert version.content_hash in text
    assert "第 1 页" in text
    assert "Page 1 of" in text
    assert "受控文件 CONTROLLED COPY" in text
    assert "QR-MK-001" in text
    assert "苏州精工机械有限公司" in text
    assert "CST (UTC+08:00)" in text


@pytest.mark.django_db
def test_every_font_is_embedded_and_cjk_is_noto_sans_sc(pdf_file):
    out = subprocess.run(["pdffonts", str(pdf_file)], check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    header, rows = lines[0], lines[2:]
    assert rows, out
    emb = header.index("emb")
    for row in rows:
        assert row[emb:emb + 3].strip() == "yes", f"font not embedded: {row}"
    names = [re.sub(r"[^a-z]", "", row.split()[0].split("+")[-1].lower()) for row in rows]
    assert any(name.startswith(cjk_face()) for name in names), out
    assert all("cjkjp" not in name and "cjktc" not in name for name in names), out


@pytest.mark.django_db
def test_render_version_is_idempotent(version):
    first = pdf.render_version(version)
    assert [f.kind for f in first] == ["pdf", "pdfa"]
    rendered = AuditEntry.objects.filter(action="record.rendered", record=version.record)
    assert rendered.count() == 2
    assert {e.new_values["kind"] for e in rendered} == {"pdf", "pdfa"}

    second = pdf.render_version(version)
    assert [f.pk for f in second] == [f.pk for f in first]
    assert [f.sha256 for f in second] == [f.sha256 for f in first]
    assert RecordFile.objects.filter(record_version=version).count() == 2
    assert AuditEntry.objects.filter(action="record.rendered", record=version.record).count() == 2

    for row in RecordFile.objects.filter(record_version=version):
        with row.file.open("rb") as fh:
            content = fh.read()
        assert hashlib.sha256(content).hexdigest() == row.sha256
        assert len(content) == row.size
        assert content.startswith(b"%PDF-")
        assert row.render_seconds > 0


@pytest.mark.django_db
def test_lost_race_keeps_the_existing_row(version, monkeypatch, media_root):
    """Two workers: the second finds the row only when it tries to insert."""
    pdf.render_version(version)
    winner = {f.kind: f for f in RecordFile.objects.filter(record_version=version)}
    real_filter = RecordFile.objects.filter
    calls = {"n": 0}

    def blind_filter(*args, **kwargs):  # pretend the rows were not there when we looked
        calls["n"] += 1
        return real_filter(pk__in=[]) if calls["n"] <= 1 else real_filter(*args, **kwargs)

    monkeypatch.setattr(RecordFile.objects, "filter", blind_filter)
    files = pdf.render_version(version)
    monkeypatch.undo()
    assert files[0].pk == winner["pdf"].pk and files[0].sha256 == winner["pdf"].sha256
    assert RecordFile.objects.filter(record_version=version).count() == 2
    assert AuditEntry.objects.filter(action="record.rendered", record=version.record).count() == 2
    stored = [p for p in media_root.rglob("*.pdf")]
    assert len(stored) == 2, stored  # the loser's file was removed


@pytest.mark.django_db
def test_archive_is_pdfa_3b_with_canonical_json_attached(version, tmp_path):
    path = tmp_path / "archive.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version, archive=True))
    with pikepdf.open(path) as doc:
        meta = doc.open_metadata()
        assert str(meta.get("pdfaid:part")) == "3"
        assert str(meta.get("pdfaid:conformance")).upper() == "B"
        attachments = doc.attachments
        name = f"{version.record.number}-v{version.version}.json"
        assert name in attachments, list(attachments)
        spec = attachments[name]
        payload = spec.get_file().read_bytes()
        assert hashlib.sha256(payload).hexdigest() == version.content_hash
        assert str(spec.obj.get("/AFRelationship")) == "/Source"
        # the PDF/A structural check (tests/pdf_support.py: veraPDF cannot be installed from our registries)
        assert pdfa_problems(doc, part=3, conformance="B") == []
    assert pdfa_problems(path, part=2, conformance="B") == [
        "XMP claims PDF/A-3B, not PDF/A-2B", "PDF/A-2 allows no embedded files"]


@pytest.mark.django_db
def test_the_pdfa_check_names_what_breaks_conformance(version, tmp_path):
    """The structural check fails a file that is not PDF/A, and each defect broken into a real archive copy."""
    assert set(pdfa_problems(plain_pdf(), part=3, conformance="B")) == {
        "no XMP metadata stream in the catalogue", "no GTS_PDFA1 output intent",
        "font /Helvetica on page 1 is not embedded"}
    archive = pdf.render_pdf_bytes(version, archive=True)
    name = f"{version.record.number}-v{version.version}.json"

    def broken(change, **save):
        with pikepdf.open(io.BytesIO(archive)) as doc:
            change(doc)
            out = io.BytesIO()
            doc.save(out, **save)
        return pdfa_problems(out.getvalue(), part=3, conformance="B")

    def javascript(doc):
        doc.Root.OpenAction = doc.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                                   JS=pikepdf.String("app.alert(1)")))

    assert broken(javascript) == ["forbidden action /JavaScript", "JavaScript (/JS)"]
    assert broken(lambda doc: doc.pages[0].obj.__setitem__("/AA", pikepdf.Dictionary())) == [
        "additional actions (/AA) on page 1"]
    assert broken(lambda doc: doc.attachments[name].obj.__delitem__("/AFRelationship")) == [
        f"embedded file {name} has no /AFRelationship"]
    assert broken(lambda doc: doc.Root.__delitem__("/AF")) == [f"embedded file {name} is not listed in an /AF array"]
    assert broken(lambda doc: doc.Root.__delitem__("/OutputIntents")) == ["no GTS_PDFA1 output intent"]
    assert "encrypted" in broken(lambda doc: None, encryption=pikepdf.Encryption(owner="o", user=""))

    def unembed(doc):
        for page in doc.pages:
            for font in (page.obj.Resources.get("/Font") or {}).values():
                for target in [font, *(font.get("/DescendantFonts") or [])]:
                    descriptor = target.get("/FontDescriptor")
                    for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                        if descriptor is not None and key in descriptor:
                            del descriptor[key]
    problems = broken(unembed)
    assert problems and all(p.endswith("is not embedded") for p in problems), problems


@pytest.mark.django_db
def test_url_fetcher_serves_only_own_static_files():
    for url in ("http://example.com/x.png", "https://example.com/x.css", "file:///etc/passwd",
                "file:///static/../../etc/passwd", "file:///static/..%2F..%2Fetc/passwd", "ftp://example.com/x"):
        with pytest.raises(Exception):
            pdf.url_fetcher(url)
    css = pdf.url_fetcher("file:///static/pdf/record.css")
    assert b"@page" in css.read()
    assert pdf.url_fetcher("data:text/plain;base64,aGk=").read() == b"hi"


@pytest.mark.django_db
def test_long_order_repeats_table_header_and_counts_pages(db, tmp_path):
    version = make_record(order_data(number="OR-2026-0060", lines=60), number="OR-2026-0060")
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version))
    page2 = flat(pdftotext(path, first=2, last=2))
    assert "规格 Specification" in page2
    assert "第 2 页" in page2
    assert "订单评审记录表" in page2  # running header on every page
    pages = [int(n) for n in re.findall(r"共 (\d+) 页", flat(pdftotext(path)))]
    assert pages and min(pages) >= 2


@pytest.mark.django_db
def test_a_version_changing_approved_content_prints_the_amended_mark(db, tmp_path):
    version = make_record(order_data(number="OR-2026-0002"), number="OR-2026-0002", versions=2, signers=[])
    first = RecordVersion.objects.get(record=version.record, version=1)
    path = tmp_path / "amended.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version))
    assert "已修订 Amended" not in flat(pdftotext(path)), "filling in a record is not an amendment"
    with transaction.atomic():
        esign.apply_signature(first, signer=make_user("approver", "周二 Zhou Er"), meaning="approved",
                              role="总经理 General manager")
    path.write_bytes(pdf.render_pdf_bytes(version))
    text = flat(pdftotext(path))
    assert "第 2 版 / Version 2" in text
    assert "已修订 Amended" in text

    path.write_bytes(pdf.render_pdf_bytes(first))
    assert "已修订 Amended" not in flat(pdftotext(path))


@pytest.mark.django_db
def test_signatures_of_later_versions_are_not_printed(db):
    version = make_record(order_data(number="OR-2026-0003"), number="OR-2026-0003", versions=2, signers=[])
    first = RecordVersion.objects.get(record=version.record, version=1)
    user = make_user("early", "周一 Zhou Yi")
    with transaction.atomic():
        esign.apply_signature(first, signer=user, meaning="authored", role="市场部 Market")
        esign.apply_signature(version, signer=user, meaning="approved", role="总经理 General manager")
    assert [s.version for s in pdf.build_context(first)["signatures"]] == [1]
    lines = pdf.build_context(version)["signatures"]
    assert [(s.version, s.meaning_zh, s.meaning_en) for s in lines] == [(1, "编制", "Authored"), (2, "批准", "Approved")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CST \(UTC\+08:00\)", lines[0].signed_at)


@pytest.mark.django_db
def test_copies_are_rendered_once_each_with_their_mark(db, tmp_path, monkeypatch):
    from core import registry

    version = make_record(order_data(number="OR-2026-0004"), number="OR-2026-0004")
    rtype = registry.get("order_review")
    monkeypatch.setitem(registry._REGISTRY, "order_review",
                        registry.RecordType(**{**rtype.__dict__, "copies": ("财务 Finance", "仓库 Warehouse")}))
    path = tmp_path / "copies.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version))
    text = flat(pdftotext(path))
    assert "第一联 财务 / Copy 1 Finance" in text
    assert "第二联 仓库 / Copy 2 Warehouse" in text
    assert text.count("订单资料 Order data") == 2


@pytest.mark.django_db
def test_other_record_types_render(db, tmp_path):
    author = make_user("planner", "孙丽 Sun Li")
    customer = order_data()["customer"]
    lines = order_lines(2)
    samples = {
        "change_notice": {"record_number": "CCN-2026-0001", "order_record_number": "OR-2026-0001",
                          "order_number": "SO-2026-0456", "customer": customer, "original_order_date": "2026-11-20",
                          "change_date": "2026-11-25", "category": "increase", "category_zh": "增加数量",
                          "category_en": "Increase", "reason": "客户追加 50 件。Customer adds 50 pcs.",
                          "before": lines, "after": [dict(lines[0], quantity="150")] + lines[1:],
                          "affected_departments": ["quality", "production"], "customer_confirmed": True,
                          "after_approval": True, "status": "issued"},
        "production_plan": {"record_number": "PP-2026-0001", "order_record_number": "OR-2026-0001",
                            "order_number": "SO-2026-0456", "order_revision": 1, "customer": customer,
                            "lines": lines, "planned_start": "2026-12-01", "planned_finish": "2026-12-12",
                            "material_readiness": "ready", "notes": "首件需品质确认。First article to QA.",
                            "author": "孙丽 Sun Li"},
    }
    expected = {"change_notice": ["合同变更通知单", "Contract Change Notice", "变更后 After", "品质部 Quality"],
                "production_plan": ["生产计划", "Production / Work Plan", "计划开工 Planned start", "2026-12-12"]}
    for code, data in samples.items():
        record = Record.objects.create(number=data["record_number"], record_type=code, title=code,
                                       form_code="X", form_revision="A/0", status="issued", created_by=author,
                                       current_version=1)
        version = RecordVersion.objects.create(record=record, version=1, data=data,
                                               content_hash=sha256_hex(data), created_by=author)
        path = tmp_path / f"{code}.pdf"
        path.write_bytes(pdf.render_pdf_bytes(version))
        text = flat(pdftotext(path))
        for needle in expected[code] + [data["record_number"], version.content_hash]:
            assert needle in text, (code, needle)


@pytest.mark.django_db
def test_queue_render_runs_after_commit(version, django_capture_on_commit_callbacks, monkeypatch):
    from forms import tasks

    queued = []

    def delay(pk):  # run in this process whatever the broker (a real worker would not see the test DB)
        queued.append(pk)
        return tasks.render_record_version.apply(args=(pk,))

    monkeypatch.setattr(tasks.render_record_version, "delay", delay)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pdf.queue_render(version)
        assert not RecordFile.objects.filter(record_version=version).exists()
    assert len(callbacks) == 1 and queued == [version.pk]
    assert sorted(RecordFile.objects.filter(record_version=version).values_list("kind", flat=True)) == ["pdf", "pdfa"]


@pytest.mark.django_db
def test_a_refused_stylesheet_fails_the_rendering(version, monkeypatch):
    def refuse(url):
        raise pdf.ResourceRefused(url)

    monkeypatch.setattr(pdf, "resolve_static", refuse)
    pdf._record_stylesheet.cache_clear()  # the stylesheet is read once per worker: this is a worker's first render
    with pytest.raises(pdf.RenderError):
        pdf.render_pdf_bytes(version)
    pdf._record_stylesheet.cache_clear()  # a refused stylesheet is not kept


@pytest.mark.django_db
def test_tasks(version):
    from django.conf import settings

    from forms import tasks
    from workflows.tasks import fire_workflow_timers

    ids = tasks.render_record_version.apply(args=(version.pk,)).get()
    assert sorted(RecordFile.objects.filter(pk__in=ids).values_list("kind", flat=True)) == ["pdf", "pdfa"]
    assert tasks.render_record_version.apply(args=(10**9,)).get() == []
    assert fire_workflow_timers.apply().get() == 0
    assert tasks.render_record_version.name == "core.tasks.render_record_version"  # messages queued before the move
    assert settings.CELERY_BEAT_SCHEDULE["fire-workflow-timers"]["task"] == fire_workflow_timers.name
