"""Fixtures for document control: real PDFs made with WeasyPrint."""
import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from weasyprint import HTML

from flow_driver import act, start
from procedures.documents.flows import DocumentControlFlow


def pdf_upload(text, name="doc.pdf"):
    html = f'<html lang="zh-CN"><body style="font-family: \'Noto Sans CJK SC\'"><h1>{text}</h1><p>正文 Body</p></body></html>'
    return SimpleUploadedFile(name, HTML(string=html).write_pdf(), content_type="application/pdf")


def new_document_data(number="QP-MK-01", doc_type="procedure", **extra):
    return {"number": number, "title_zh": "客户需求管理程序", "title_en": "Customer Requirements Management Procedure",
            "doc_type": doc_type, "owner_department": "market", "review_interval_months": 12,
            "retention_years": 10, "distribution": ["market", "quality"], "reason": "建立程序 establish", **extra}


def draft(process, user, text, effective_in_days=0, **extra):
    date = (timezone.localdate() + datetime.timedelta(days=effective_in_days)).isoformat()
    return act(process, "edit", user, {"outcome": "submit", "change_summary": f"内容 {text}",
                                       "effective_date": date, **extra},
               files={"pdf": [pdf_upload(text)]}, meaning="authored")


def review_all(process, people, departments):
    for department in departments:
        act(process, "review", people[department], {"accepted": "yes"}, meaning="reviewed")


PROCEDURE_REVIEWERS = ["quality", "market", "production"]  # the default approval matrix for procedures


def issue(people, process, text, effective_in_days=0, author="market"):
    """Draft, review and approve a revision of the document `process` registers."""
    draft(process, people[author], text, effective_in_days)
    review_all(process, people, PROCEDURE_REVIEWERS)
    date = (timezone.localdate() + datetime.timedelta(days=effective_in_days)).isoformat()
    act(process, "approve", people["gm"], {"effective_date": date}, meaning="approved")


def register(people, number="QP-MK-01", doc_type="procedure", **extra):
    return start(DocumentControlFlow, "start_new", people["quality"], new_document_data(number, doc_type, **extra))


def fire_timers():
    """Celery beat's timer sweep; jobs it queues run as they would after a commit."""
    from django.test import TestCase
    from viewflow.workflow.timers import fire_due_timers

    with TestCase.captureOnCommitCallbacks(execute=True):
        return fire_due_timers()
