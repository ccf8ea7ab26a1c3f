"""Data and helpers for the P3 (corrective and preventive action, 8D) tests."""
import datetime

from django.utils import timezone

from procedures.capa.flows import CapaFlow

FLOW = CapaFlow
API_START = "/api/capas/"

WHY_ANSWERS = ["隔板缺失 separators were missing", "包装规范未规定隔板 the packing spec does not require them",
               "规范评审遗漏运输条件 the spec review missed transport conditions"]


def day(days=0):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def raise_data(source="internal_nc", reference="IPQC-2026-031", **extra):
    return {"source": source, "source_reference": reference, "title": "端面划伤 scratches on the end face",
            "customer_name": "华东电子科技有限公司", "product_text": "P-1001 L2026-0815", "quantity_defective": "18",
            "severity": "B", **extra}


def describe_data(leader="engineering", champion="quality_mgr", members=("production",), **extra):
    return {"emergency_response": "在库品 100% 挑选并通知客户 sort all stock, customer informed",
            "champion": champion, "leader": leader, "members": list(members), "severity": "B",
            "what": "端面划伤 scratches 0.3 mm", "where": "客户来料检验 customer incoming inspection",
            "when": "2026-11 第 46 周 week 46", "who": "客户 SQE", "why": "外观不良 cosmetic reject",
            "how": "目视 visual", "how_many": "18 / 120 (15 %)",
            "is_text": "L2026-0815 批 lot L2026-0815", "is_not_text": "其他批次 other lots", **extra}


def containment_data():
    return {"containment": "隔离在库品并 100% 挑选 quarantine and sort stock 100 %",
            "verification": "复检 0 不良 re-inspection found 0 defects (王芳)"}


def root_cause_data(answers=WHY_ANSWERS, root="包装规范缺少隔板要求 packing spec lacks separators", **extra):
    return {"whys": [{"question": f"为什么 {i}? why {i}?", "answer": a} for i, a in enumerate(answers, start=1)],
            "causes": [{"category": "method", "cause": "包装方法不当 wrong packing method", "is_root": True},
                       {"category": "man", "cause": "新员工未培训 new packer not trained", "is_root": False},
                       {"category": "environment", "cause": "运输颠簸 rough transport", "is_root": False}],
            "root_cause": root, "escape_point": "出货检验未检查包装 OQC did not check packing",
            "similar_elsewhere": "P-1002 同样包装 P-1002 packed the same way", **extra}


def plan_data(*owners, due_in=(10, 20)):
    owners = owners or ("production", "engineering")
    return {"actions": [{"description": f"措施 {i} action {i}: 修订包装规范 revise the packing spec",
                         "owner": owner, "due_date": day(due_in[(i - 1) % len(due_in)])}
                        for i, owner in enumerate(owners, start=1)]}


def done(evidence="已修订并培训 revised and trained"):
    return {"outcome": "done", "evidence": evidence}


def extension(days, reason="等待供应商隔板 waiting for the supplier's separators"):
    return {"outcome": "extension", "new_due_date": day(days), "reason": reason}


def validation_data(verification_in=30):
    return {"validation": "连续三批零缺陷 three lots without defects", "containment_removed": "yes",
            "verification_date": day(verification_in)}


def verification_data(effective=True):
    return {"effective": "yes" if effective else "no",
            "result": "三个月无再发 no recurrence in three months" if effective else "仍有划伤 scratches again"}


def prevention_data(document=None):
    item = {"kind": "similar_product", "description": "P-1002 采用同样隔板 P-1002 gets the same separators"}
    items = [item]
    if document:
        items.append({"kind": "document", "description": "修订包装规范 revise the packing spec",
                      "document": document, "raise_change": True})
    return {"prevention": items}


def closure_data(risks="yes", qms="no"):
    return {"risks_updated": risks, "risks_note": "风险登记册 R-12 已更新 risk R-12 updated",
            "qms_change_needed": qms, "closing_summary": "结案，表彰小组 closed, team recognised"}


def web_base():
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — builds the flow's URL namespace
    return FLOW.instance.reverse("index").rstrip("/")


def p3_drivers():
    from drivers import ApiDriver, WebDriver

    return {"api": lambda: ApiDriver(start_url=API_START), "web": lambda: WebDriver(base=web_base())}


def skip_rendering(monkeypatch):
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)
    monkeypatch.setattr(FLOW.render_report, "_func", lambda activation: None)


def fire_timers():
    from django.test import TestCase
    from viewflow.workflow.timers import fire_due_timers

    with TestCase.captureOnCommitCallbacks(execute=True):
        return fire_due_timers()


def walk_to_actions(drive, pid, owners=("production", "engineering")):
    """D0–D5 and the plan approval; returns with one action task per owner open."""
    assert drive.do("quality", pid, "describe", describe_data()) == 200, drive.last_response.content[:2000]
    assert drive.do("engineering", pid, "contain", containment_data()) == 200, drive.last_response.content[:2000]
    assert drive.do("engineering", pid, "analyse", root_cause_data()) == 200, drive.last_response.content[:2000]
    assert drive.do("engineering", pid, "plan", plan_data(*owners)) == 200, drive.last_response.content[:2000]
    assert drive.do("quality_mgr", pid, "approve_plan", {"comment": "同意 agreed"}, meaning="approved") == 200, \
        drive.last_response.content[:2000]


def through_d7_with_a_document_change(people, reference, owners=("production",), members=("production",)):
    """QP-MK-01 issued in force, then a corrective action raised from an audit finding and walked through D7: one
    action per owner done, validated, checked effective on its date, and a prevention item that raises a change
    to QP-MK-01 (besides a similar-product item). Returns the process."""
    from flow_driver import act, start  # noqa: PLC0415 — the test modules below import this one
    from p4_support import fire_timers as fire_p4_timers, register  # noqa: PLC0415
    from test_p3_paths import fire_on  # noqa: PLC0415
    from test_p4_document_control import issue  # noqa: PLC0415

    issue(people, register(people), "A/0")
    fire_p4_timers()
    process = start(FLOW, "start", people["quality_mgr"], raise_data(source="audit_finding", reference=reference))
    for step, who, data, meaning in [
        ("describe", "quality", describe_data(members=members), None),
        ("contain", "engineering", containment_data(), None), ("analyse", "engineering", root_cause_data(), None),
        ("plan", "engineering", plan_data(*owners), None), ("approve_plan", "quality_mgr", {}, "approved"),
        *[("do_action", owner, {"outcome": "done", "evidence": "完成 done"}, None) for owner in owners],
        ("validate", "quality_mgr", validation_data(30), "approved"),
    ]:
        act(process, step, people[who], data, meaning=meaning)
    fire_on(day(30))
    act(process, "verify", people["quality"], verification_data(True), meaning="verified")
    act(process, "prevent", people["engineering"], prevention_data(document="QP-MK-01"))
    return process
