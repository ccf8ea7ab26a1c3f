from django.utils import translation


def english(text):
    """The English form of a translatable label, whatever the request language.
    Record data and signature roles are stored bilingually (zh + en) and must not
    depend on who happened to be looking, or the content hash would too."""
    with translation.override("en"):
        return str(text)
