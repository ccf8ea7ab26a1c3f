"""Bilingual choices: one home for each choice's Chinese and English label.

Records print both languages whatever the reader's language, and the screens speak the
reader's language. Both read the labels from the choice itself:

    class Verdict(BilingualChoices):
        CAN_MEET = "can_meet", "能满足", "Can meet"

    Verdict.CAN_MEET.label      # 能满足 under zh-Hans, "Can meet" otherwise (a lazy string)
    Verdict.CAN_MEET.zh         # 能满足
    Verdict.CAN_MEET.en         # Can meet
    Verdict.CAN_MEET.bilingual  # 能满足 Can meet  (what a PDF prints)
    Verdict.bilingual_of("can_meet")  # the same from a stored value; unknown values print as they are

Models, forms, the API, templates and PDFs all use these, so a label is never written twice
(no separate *_ZH dictionaries, no label table in the PDF code)."""
from django.db import models
from django.db.models.enums import enum_property
from django.utils.functional import lazy
from django.utils.translation import get_language


def _in_language(zh, en):
    return zh if (get_language() or "").lower().startswith("zh") else en


in_language = lazy(_in_language, str)


_BY_NAME = {}


def choices_named(name):
    """The BilingualChoices class called `name` ("Verdict"): what the PDF templates' `bi`
    filter looks labels up in. Names are unique across the project (checked on definition)."""
    return _BY_NAME[name]


class BilingualChoices(models.TextChoices):
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        known = _BY_NAME.setdefault(cls.__name__, cls)
        if known is not cls and known.__module__ != cls.__module__:
            raise TypeError(f"two BilingualChoices called {cls.__name__}: {known.__module__}, {cls.__module__}")
        _BY_NAME[cls.__name__] = cls

    def __new__(cls, value, zh):
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh
        return member

    @enum_property
    def label(self):
        return in_language(self.zh, self._label_)

    @property
    def en(self):
        return str(self._label_)

    @property
    def bilingual(self):
        return f"{self.zh} {self.en}"

    @classmethod
    def bilingual_of(cls, value):
        """`bilingual` of a stored value, or the value itself when it is no member (old data)."""
        try:
            return cls(value).bilingual
        except ValueError:
            return "" if value in (None, "") else str(value)

    @classmethod
    def label_of(cls, value):
        try:
            return cls(value).label
        except ValueError:
            return "" if value in (None, "") else str(value)
