"""The approved order review record sheet as PDF: bilingual titles, every signer, CJK
fonts embedded; rendered by the flow's Celery job (a real worker process on CI)."""
import subprocess

import pytest

from core.models import RecordFile, Signature
from p1_driver import act, review_all, start, start_and_review_committed
from procedures.order_review.models import order_review_of
from worker import wait_until
from pdf_face import cjk_face

SIGNERS = ["李娜 Li Na", "王芳 Wang Fang", "陈静 Chen Jing", "杨磊 Yang Lei", "赵敏 Zhao Min", "张伟 Zhang Wei"]


def pdf_text(path):
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_fonts(path):
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
    return lines[2:]


def check_record_pdf(file):
    text = " ".join(pdf_text(file.file.path).split())
    assert "订单评审记录表" in text and "Order Review Record Sheet" in text
    for name in SIGNERS:
        assert name in text, name
    assert file.record_version.record.number in text
    assert file.record_version.content_hash in text
    fonts = pdf_fonts(file.file.path)
    assert fonts, "the PDF names its fonts"
    assert all(line.split()[-5] == "yes" for line in fonts), fonts  # the 'emb' column
    assert any(cjk_face() in line.replace("-", "").lower() for line in fonts), fonts


@pytest.mark.django_db
def test_approved_record_pdf_shows_titles_signers_and_embedded_cjk_fonts(people, order_data):
    process = start(people["market"], order_data())
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "同意接单 Accepted"}, meaning="approved")
    review = order_review_of(process)
    review.record.refresh_from_db()
    version = review.record.get_version()
    assert Signature.objects.filter(record_version__record=review.record).count() == 6  # Market + 4 + approver
    file = RecordFile.objects.get(record_version=version, kind="pdf")
    check_record_pdf(file)
    assert RecordFile.objects.filter(record_version=version, kind="pdfa").exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_renders_the_record_after_commit(real_worker, people, order_data):
    from viewflow.workflow.models import Task

    from procedures.order_review.flows import OrderReviewFlow

    # no captured on-commit callbacks: real commits, real broker
    process = start_and_review_committed(people, order_data, approve=True)
    record = order_review_of(process).record
    record.refresh_from_db()
    version = record.get_version()
    wait_until(lambda: RecordFile.objects.filter(record_version=version, kind="pdf").exists(), timeout=90,
               message=f"the worker did not render the PDF; log:\n{real_worker.log_tail()}")
    job = Task.objects.get(process=process, flow_task=OrderReviewFlow.render_record)
    wait_until(lambda: Task.objects.get(pk=job.pk).status == "DONE", timeout=30)
    check_record_pdf(RecordFile.objects.get(record_version=version, kind="pdf"))
    assert "workflows.steps.run_flow_job" in real_worker.log()


@pytest.mark.django_db
def test_the_record_prints_the_requirements_the_review_covered_and_the_quote_resolution(people, order_data):
    from forms.pdf import render_pdf_bytes

    process = start(people["market"], order_data(
        statutory_requirements="RoHS 2011/65/EU 指令", implied_requirements="防锈包装 rust-proof packing",
        after_delivery_requirements="质保 12 个月 12-month warranty", quote_reference="QT-2026-018",
        quote_differences="单价变更 unit price changed"))
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "同意", "differences_resolution": "客户确认 confirmed"},
        meaning="approved")
    record = order_review_of(process).record
    record.refresh_from_db()
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "r.pdf"
    path.write_bytes(render_pdf_bytes(record.get_version()))
    text = " ".join(pdf_text(path).split())
    for expected in ["RoHS 2011/65/EU 指令", "防锈包装 rust-proof packing", "质保 12 个月 12-month warranty",
                     "QT-2026-018", "单价变更 unit price changed", "客户确认 confirmed"]:
        assert expected in text, expected
