"""The P2 records as PDFs: bilingual titles, the lot's hold status (NC-1: a held lot
shows as held), the material receipt in three marked copies, every signer, CJK fonts
embedded — the same header / footer / manifest / hash rules as P1."""
import shutil
from pathlib import Path

import pytest

from core.models import RecordFile
from forms.pdf import render_pdf_bytes
from flow_driver import act, start
from procedures.complaints.models import ComplaintCase
from p2_support import FLOW, acceptance, capa, disposition, inspection, intake, judgement, photo, receipt
from test_p1_record_pdf import pdf_fonts, pdf_text
from pdf_face import cjk_face

pytestmark = pytest.mark.django_db

SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def render(record, tmp_path, name):
    record.refresh_from_db()
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(render_pdf_bytes(record.get_version()))
    return path, " ".join(pdf_text(path).split())


def fonts_embedded_cjk(path):
    fonts = pdf_fonts(path)
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    assert any(cjk_face() in line.replace("-", "").lower() for line in fonts), fonts


def test_the_case_records_show_the_hold_then_the_release_and_the_receipt_prints_three_copies(people, tmp_path):
    process = start(FLOW, "start", people["market"], intake(contract_requires_acceptance=True),
                    files={"photos": [photo("scratch.png")]})
    act(process, "inspect", people["quality"], inspection(), meaning="authored")
    case = ComplaintCase.objects.get(record__process=process)
    path, text = render(case.anomaly_report.record, tmp_path, "report-held")
    assert "品质异常处理报告" in text and "Quality Anomaly Handling Report" in text
    assert "L2026-0815" in text and "冻结（隔离） On hold" in text
    path, text = render(case.record, tmp_path, "feedback-held")
    assert "质量信息反馈单" in text and "冻结（隔离） On hold" in text and "scratch.png" in text

    act(process, "judge", people["quality_mgr"], judgement(True), meaning="reviewed")
    act(process, "hand_over", people["market"], {})
    act(process, "receive", people["materials"], receipt(), meaning="authored")
    receipt_record = case.record.__class__.objects.get(process=process, record_type="material_receipt")
    file = RecordFile.objects.get(record_version__record=receipt_record, kind="pdf")  # rendered on receipt
    text = " ".join(pdf_text(file.file.path).split())
    for mark in ["第一联 财务 / Copy 1 Finance", "第二联 市场 / Copy 2 Market",
                 "第三联 成品库 / Copy 3 Finished-goods store"]:
        assert mark in text, mark
    assert text.count("物料入库单 Material Receipt") >= 3 and "赵敏 Zhao Min" in text and "120" in text
    fonts_embedded_cjk(file.file.path)

    act(process, "dispose", people["quality_mgr"], disposition(("concession", "70"), ("rework", "50")),
        meaning="approved")
    act(process, "sign_disposition", people["gm"], {"comment": "同意特采"}, meaning="approved")
    act(process, "customer_acceptance", people["market"], acceptance(True), meaning="authored")
    act(process, "reinspect", people["quality"], {"quantity_passed": "50", "quantity_failed": "0",
                                                   "result": "全检合格 all pass"}, meaning="verified")
    act(process, "decide_capa", people["quality_mgr"], capa(True), meaning="reviewed")

    case.refresh_from_db()
    report = case.anomaly_report.record
    report.refresh_from_db()
    file = RecordFile.objects.get(record_version=report.get_version(), kind="pdf")  # rendered at closing
    text = " ".join(pdf_text(file.file.path).split())
    assert "已放行 Released" in text and "冻结（隔离） On hold" not in text
    for expected in ["让步接收（特采） Use as is (concession)", "返工 Rework", "总经理", "General Manager",
                     "周强 Zhou Qiang", "陈先生 Mr. Chen (SQE)", "合格 Passed 50", "王芳 Wang Fang", "刘洋 Liu Yang",
                     report.number, report.get_version().content_hash]:
        assert expected in text, expected
    fonts_embedded_cjk(file.file.path)
    case.record.refresh_from_db()
    text = " ".join(pdf_text(RecordFile.objects.get(record_version=case.record.get_version(), kind="pdf")
                             .file.path).split())
    assert "已放行 Released" in text and "成立 Justified" in text and "已结案 Closed" in text
    # kept for a person to look at
    SHOTS.mkdir(parents=True, exist_ok=True)
    for record in case.record.__class__.objects.filter(process=process):
        record.refresh_from_db()
        rendered = RecordFile.objects.filter(record_version=record.get_version(), kind="pdf").first()
        if rendered:
            shutil.copy(rendered.file.path, SHOTS / f"p2-{record.record_type}.pdf")
