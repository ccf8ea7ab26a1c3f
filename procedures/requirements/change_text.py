"""How a requirement change (CR-5) reads: each altered field by its label (labels.LABELS, the one
home of the form's field labels) and its old and new values formatted (choices by their
BilingualChoices label, dates ISO, yes/no, departments by name) — on a screen in the reader's
language, in the PDF in both. Used by the step summaries, the requirement page and the PDF."""
import datetime

from core.choices import choices_named
from core.diffs import format_value, text

from .labels import FORMATS, LABELS

EMPTY = "—"


def field_label(name, bilingual=False):
    """"Importance" / "重要度" (or "重要度 Importance" in the PDF); an unknown key as it is."""
    pair = LABELS.get(name)
    if not pair:
        return name
    return f"{pair[0]} {pair[1]}" if bilingual else text(pair)


def _bilingual(value, fmt):
    if isinstance(value, list):
        return ", ".join(filter(None, (_bilingual(v, fmt) for v in value)))
    if isinstance(value, bool):
        return "是 Yes" if value else "否 No"
    if fmt == "date":
        return value.isoformat() if isinstance(value, datetime.date) else str(value)[:10]
    if fmt and fmt[0].isupper():
        try:
            return choices_named(fmt).bilingual_of(value)
        except KeyError:
            return str(value)
    return str(value)


def field_value(name, value, bilingual=False):
    """A stored value of field `name` as it reads ("—" for nothing)."""
    if value is None or value == "" or value == []:
        return EMPTY
    fmt = FORMATS.get(name)
    shown = _bilingual(value, fmt) if bilingual else format_value(value, fmt)
    return shown or EMPTY


def change_rows(changes, bilingual=False):
    """[{"label", "old", "new"}] of a change's {field: [old, new]} (the model's `changes`) or of a
    record version's change "fields" list ([{"field", "old", "new"}])."""
    pairs = changes.items() if isinstance(changes, dict) else ((f["field"], (f["old"], f["new"])) for f in changes)
    return [{"field": name, "label": field_label(name, bilingual), "old": field_value(name, old, bilingual),
             "new": field_value(name, new, bilingual)} for name, (old, new) in pairs]


def department_labels(codes, bilingual=False):
    """"品质部 · 工程部" of a list of department codes."""
    return " · ".join(field_value("review_departments", [code], bilingual) for code in codes or ()) or EMPTY


def pdf_change_history(version):
    """The PDF's context (RecordType.pdf_context): each change of the version with its rows in both languages."""
    return {"change_history": [{**change, "rows": change_rows(change.get("fields", []), bilingual=True)}
                               for change in version.data.get("changes", [])]}
