"""Issue 13 item 4: every record prints the number and revision of the blank form that governs it, as
the document register holds it. A certification auditor compares the form number on a record with
the register; they must agree for every record type."""
import pytest

from core import records, registry
from core.models import Record
from forms.pdf import render_html
from procedures.documents.models import Document, DocumentType, RevisionStatus
from procedures.documents.seed import FORMS, seed_documents
from workflows.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded_register(module_people):
    """The seeded document register, made once for the module (each form runs the whole document flow: about
    15 s) in its transaction (conftest.module_people)."""
    from p2_support import skip_rendering

    with pytest.MonkeyPatch.context() as patch:
        skip_rendering(patch)  # the register's own approval records need no PDF here
        seed_documents(module_people, DEMO_PASSWORD)
    return {d.governs_record_type: d for d in Document.objects.filter(doc_type=DocumentType.FORM)
            if d.governs_record_type}


@pytest.fixture
def people(module_people, db):
    return module_people


@pytest.fixture
def register(seeded_register, db, monkeypatch):
    from p2_support import skip_rendering

    skip_rendering(monkeypatch)
    return seeded_register


def test_every_record_type_is_governed_by_a_form_in_the_register(register):
    types = {t.code for t in registry.all_types()}
    assert types <= set(register), f"record types without a blank form in the register: {types - set(register)}"


def test_each_record_type_prints_the_registers_form_number_and_revision(register, people):
    for rtype in registry.all_types():
        document = register[rtype.code]
        revision = document.revisions.get(status=RevisionStatus.EFFECTIVE)
        # the default the type carries (used before the register exists) is the register's number too
        assert rtype.form_code == document.number, (rtype.code, rtype.form_code, document.number)
        record = records.create_record(rtype.code, actor=people["quality"], data={"probe": rtype.code},
                                       status="draft", reason="form number check")
        assert (record.form_code, record.form_revision) == (document.number, revision.label)
        html = render_html(record.get_version())
        assert f"表单编号 Form No.: {document.number} · 版本 Rev.: {revision.label}" in html, rtype.code


def test_a_record_prints_the_form_revision_it_was_made_on(register, people):
    """The PDF prints the record's own form number and revision (fixed when it was made), not the
    type's default: after the form is revised, old records still print the revision they were made on."""
    rtype = registry.get("capa_report")
    record = records.create_record(rtype.code, actor=people["quality"], data={"probe": 1}, status="draft")
    Record.objects.filter(pk=record.pk).update(form_revision="B/1")  # as if made on a later revision
    assert rtype.form_revision == "A/0"
    assert "版本 Rev.: B/1" in render_html(Record.objects.get(pk=record.pk).get_version())


def test_the_seeded_register_lists_each_form_once():
    numbers = [number for number, *_ in FORMS]
    assert len(numbers) == len(set(numbers))
    governed = [record_type for *_, record_type, _fields in FORMS if record_type]
    assert len(governed) == len(set(governed))


def test_a_document_issued_across_midnight_takes_the_approval_days_date(people, monkeypatch):
    """The demo seed once failed when it crossed midnight in Asia/Shanghai: the approval offered the
    author's day as its effective date, which by then was in the past."""
    import datetime
    import zoneinfo

    import time_machine

    from procedures.documents import seed

    from p2_support import skip_rendering

    skip_rendering(monkeypatch)
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    evening = datetime.datetime(2026, 11, 30, 23, 59, 50, tzinfo=shanghai)
    next_morning = time_machine.travel(evening + datetime.timedelta(seconds=20), tick=False)
    real_act_as = seed.act_as

    def act_as(user, process, step, *args, **kwargs):
        real_act_as(user, process, step, *args, **kwargs)
        if step == "edit":  # the clock passes midnight once the author has submitted
            next_morning.start()

    monkeypatch.setattr(seed, "act_as", act_as)
    number, zh, en, owner, record_type, fields = FORMS[0]
    try:
        with time_machine.travel(evening, tick=False):
            process = seed.issue_document(people, DEMO_PASSWORD, number=f"{number}-X", zh=zh, en=en,
                                          doc_type="form", owner=owner, distribution=[owner],
                                          pdf=seed._pdf(number, zh, en, fields=fields))
            revision = Document.objects.get(number=f"{number}-X").revisions.get()
    finally:
        next_morning.stop()
    assert revision.process_id == process.pk and revision.status in (RevisionStatus.APPROVED, RevisionStatus.EFFECTIVE)
    assert revision.effective_date == datetime.date(2026, 12, 1)
