"""The default approval matrix (DOC-4) and disposition rules (NC-8) are entered on
post_migrate: on a new database, and again after a flush (Django flushes between
transactional tests, which is how tests run in any order on any worker)."""
import pytest
from django.core.management import call_command

from procedures.complaints.defaults import DEFAULT_DISPOSITION_RULES, seed_default_disposition_rules
from procedures.complaints.models import DispositionRule
from procedures.documents.defaults import DEFAULT_APPROVAL_RULES, seed_default_approval_rules
from procedures.documents.models import ApprovalRule


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_gets_the_default_rules_again():
    call_command("flush", interactive=False, verbosity=0)

    assert sorted(ApprovalRule.objects.values_list("document_type", flat=True)) == sorted(
        doc_type for doc_type, *_ in DEFAULT_APPROVAL_RULES)
    assert sorted(DispositionRule.objects.values_list("code", flat=True)) == sorted(
        code for code, *_ in DEFAULT_DISPOSITION_RULES)
    procedure = ApprovalRule.objects.get(document_type="procedure")
    assert (procedure.approver_department, procedure.approver_role) == ("management", "manager")
    assert DispositionRule.objects.get(code="concession").signers == ["management:manager"]


@pytest.mark.django_db
def test_seeding_never_changes_a_rule_the_quality_manager_edited_and_adds_only_missing_ones():
    ApprovalRule.objects.filter(document_type="form").update(approver_department="engineering")
    ApprovalRule.objects.filter(document_type="external").delete()
    DispositionRule.objects.filter(code="scrap").update(signers=["finance:manager"])

    seed_default_approval_rules()
    seed_default_disposition_rules()

    assert ApprovalRule.objects.get(document_type="form").approver_department == "engineering"
    assert ApprovalRule.objects.get(document_type="external").reviewing_departments == ["quality", "engineering"]
    assert ApprovalRule.objects.count() == len(DEFAULT_APPROVAL_RULES)
    assert DispositionRule.objects.get(code="scrap").signers == ["finance:manager"]
