"""The CJK face a record PDF is set in, as pdffonts names it (lower case, letters only): the compact
face when it is built (forms.pdf_fonts; tests/test_pdf_fonts.py proves that setup builds it), else
the system's Noto Sans CJK SC."""
from forms import pdf_fonts


def cjk_face():
    return "qmssanscjksc" if pdf_fonts.faces() else "notosanscjksc"
