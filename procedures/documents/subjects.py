"""What a P4 process is about, in one line for the task lists, notifications and e-mails
(DocumentControlFlow.subjects): the document number, its title in the reader's language and the
revision, e.g. "QP-QA-01 文件控制程序 · A/0 版"; a periodic review before any change names the
document and the review."""
from django.utils.translation import gettext as _

from core.choices import in_language

from .models import Document, Revision


def _document(document):
    return f"{document.number} {in_language(document.title_zh, document.title_en or document.title_zh)}"


def revision_subject(revision):
    return f"{_document(revision.document)} · " + _("rev. %(label)s") % {"label": revision.label}


def subjects(processes):
    """{process pk: subject} in two queries however many processes: process.data names the
    revision, or (a periodic review before its outcome) only the document."""
    data = {process.pk: process.data if isinstance(process.data, dict) else {} for process in processes}
    revisions = Revision.objects.select_related("document").only(
        "label", "document__number", "document__title_zh", "document__title_en").in_bulk(
        {d["revision"] for d in data.values() if d.get("revision")})
    documents = Document.objects.only("number", "title_zh", "title_en").in_bulk(
        {d["document"] for d in data.values() if d.get("document") and not d.get("revision")})
    found = {}
    for pk, values in data.items():
        revision = revisions.get(values.get("revision"))
        if revision is not None:
            found[pk] = revision_subject(revision)
        elif documents.get(values.get("document")) is not None:
            found[pk] = f"{_document(documents[values['document']])} · " + _("periodic review")
    return found
