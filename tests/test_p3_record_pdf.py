"""The 8D / corrective-action report (纠正预防措施报告) as PDF: every 5-Why answer of every
round, every action owner, the due-date history, the fishbone drawn as a diagram, the
effectiveness checks, the signatures, CJK fonts embedded; rendered by the flow's job."""
import pytest

from core.models import RecordFile
from forms.pdf import render_html, render_pdf_bytes
from flow_driver import act, start
from procedures.capa.models import CapaCase
from p3_support import (
    FLOW,
    WHY_ANSWERS,
    containment_data,
    day,
    describe_data,
    plan_data,
    prevention_data,
    raise_data,
    root_cause_data,
    validation_data,
    verification_data,
)
from test_p1_record_pdf import pdf_fonts, pdf_text
from test_p2_record_pdf import fonts_embedded_cjk
from test_p3_paths import fire_on

pytestmark = pytest.mark.django_db

ROUND_2 = ["隔板太薄 separators too thin", "采购规格错误 wrong purchase spec"]


def test_the_report_prints_every_why_owner_history_check_and_signature(people, tmp_path):
    process = start(FLOW, "start", people["quality"], raise_data())
    act(process, "describe", people["quality"], describe_data())
    act(process, "contain", people["engineering"], containment_data())
    act(process, "analyse", people["engineering"], root_cause_data())
    act(process, "plan", people["engineering"], plan_data("production", "materials"))
    act(process, "approve_plan", people["quality_mgr"], {}, meaning="approved")
    act(process, "do_action", people["production"], {"outcome": "extension", "new_due_date": day(15),
                                                     "reason": "等待模具 waiting for the tool"})
    act(process, "decide_extension", people["quality_mgr"], {"approved": "yes"})
    act(process, "do_action", people["production"], {"outcome": "done", "evidence": "规范 PS-12 B 版"})
    act(process, "do_action", people["materials"], {"outcome": "done", "evidence": "供应商已整改 supplier fixed"})
    act(process, "validate", people["quality_mgr"], validation_data(30), meaning="approved")
    fire_on(day(30))
    act(process, "verify", people["quality"], verification_data(False), meaning="verified")
    act(process, "analyse", people["engineering"], root_cause_data(answers=ROUND_2, root="隔板规格错误 spec wrong"))
    act(process, "plan", people["engineering"], plan_data("engineering", due_in=(5,)))
    act(process, "approve_plan", people["quality_mgr"], {}, meaning="approved")
    act(process, "do_action", people["engineering"], {"outcome": "done", "evidence": "规格已改 spec changed"})
    act(process, "validate", people["quality_mgr"], validation_data(20), meaning="approved")
    fire_on(day(20))
    act(process, "verify", people["quality"], verification_data(True), meaning="verified")
    act(process, "prevent", people["engineering"], prevention_data())
    act(process, "close", people["quality_mgr"], {"risks_updated": "yes", "qms_change_needed": "no",
                                                  "closing_summary": "结案 closed"}, meaning="approved")

    case = CapaCase.objects.get(record__process=process)
    record = case.record
    record.refresh_from_db()
    # the flow's job rendered the closed report
    file = RecordFile.objects.get(record_version__record=record, record_version__version=record.current_version,
                                  kind="pdf")
    text = " ".join(pdf_text(file.file.path).split())
    assert "纠正预防措施报告" in text and record.number in text and "QR-QA-004" in text
    for answer in WHY_ANSWERS + ROUND_2:
        assert answer in text, answer
    for owner in ["陈静 Chen Jing", "赵敏 Zhao Min", "杨磊 Yang Lei"]:
        assert owner in text, owner
    assert day(10) in text and day(15) in text  # the due-date history: old → new
    assert "无效" in text and "有效" in text
    assert "刘洋 Liu Yang" in text and "王芳 Wang Fang" in text  # signers
    assert "风险已更新?" in text
    fonts_embedded_cjk(file.file.path)

    html = render_html(record.get_version())
    assert html.count('<svg class="fishbone"') == 2  # one diagram per round
    for label in ["人 Man", "机 Machine", "料 Material", "法 Method", "环 Environment", "测 Measurement"]:
        assert label in html
    assert "包装方法不当 wrong packing method" in html
    assert "等待模具 waiting for the tool" in html and "已批准 Approved" in html  # who, why, decision


def test_an_overdue_action_prints_as_overdue(people, tmp_path):
    import datetime

    import time_machine
    from django.utils import timezone

    process = start(FLOW, "start", people["quality"], raise_data())
    act(process, "describe", people["quality"], describe_data())
    act(process, "contain", people["engineering"], containment_data())
    act(process, "analyse", people["engineering"], root_cause_data())
    act(process, "plan", people["engineering"], plan_data("production"))
    act(process, "approve_plan", people["quality_mgr"], {}, meaning="approved")
    case = CapaCase.objects.get(record__process=process)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=12), tick=False):
        act(process, "do_action", people["production"], {"outcome": "extension", "new_due_date": day(30),
                                                         "reason": "晚了 late"})
        case.record.refresh_from_db()
        path = tmp_path / "overdue.pdf"
        path.write_bytes(render_pdf_bytes(case.record.get_version()))
    text = " ".join(pdf_text(path).split())
    assert "逾期" in text and "Overdue" in text
    assert pdf_fonts(path)
