import pytest
from viewflow.workflow.timers import fire_due_timers

from flow_driver import act, open_tasks
from p4_support import draft, register, review_all
from procedures.documents.models import Document

pytestmark = pytest.mark.django_db


def test_smoke(people):
    process = register(people)
    draft(process, people["market"], "A/0 text")
    review_all(process, people, ["quality", "market", "production"])
    act(process, "approve", people["gm"], {"effective_date": __import__("datetime").date.today().isoformat()},
        meaning="approved")
    assert fire_due_timers() == 1
    doc = Document.objects.get(number="QP-MK-01")
    assert doc.effective_revision().label == "A/0"
    assert len(open_tasks(process, "acknowledge")) == 5

