"""Issue 15.5: the record PDFs are set in a compact cut of Noto Sans CJK SC (forms/pdf_fonts.py), built by
setup; a character outside it falls back to the system face, and without the built faces the records are
set in the system face alone. The pages look the same either way (the glyphs are the same glyphs)."""
import subprocess

import pytest
from fontTools.ttLib import TTFont

from forms import pdf, pdf_fonts
from test_pdf import flat, make_record, order_data, pdftotext

pytestmark = pytest.mark.django_db


def fonts_of(path):
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return {line.split()[0].split("+")[-1] for line in out.splitlines()[2:]}


@pytest.fixture
def fresh_faces():
    """The @font-face sheet is read once per worker: clear it around a test that moves the faces."""
    pdf._font_face_stylesheet.cache_clear()
    yield
    pdf._font_face_stylesheet.cache_clear()


def test_setup_built_the_compact_faces_named_by_their_own_family_with_the_licence_kept():
    faces = pdf_fonts.built()
    assert set(faces) == {"normal", "bold"}, "run `manage.py build_pdf_fonts` (scripts/setup.sh does)"
    for weight, path in faces.items():
        font = TTFont(path, lazy=True)
        names = font["name"]
        assert names.getDebugName(1) == "QMS Sans CJK SC"
        assert names.getDebugName(2) == ("Bold" if weight == "bold" else "Regular")
        assert "Adobe" in names.getDebugName(0)  # the copyright notice of Noto Sans CJK (OFL 1.1) is kept
        assert "Open Font License" in (names.getDebugName(13) or "")
        cmap = font.getBestCmap()
        for text in ("订单评审记录表", "，。：；（）《》【】", "①②℃±×≤≥№", "Müller Ωμ"):
            assert all(ord(ch) in cmap for ch in text), text
        assert len(font.getGlyphOrder()) < 20000  # the system face has 65,535


def test_a_record_is_set_in_the_compact_face_and_a_rare_character_in_the_system_face(tmp_path, fresh_faces):
    rare = "王堃喆"  # 堃 and 喆 are not in GB 2312: set in the system face by Pango's fallback
    data = order_data()
    data["customer"] = {**data["customer"], "name_zh": f"{rare}精工机械有限公司"}
    version = make_record(data)
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version))
    faces = fonts_of(path)
    assert "QMS-Sans-CJK-SC" in faces and "QMS-Sans-CJK-SC-Bold" in faces, faces
    assert "Noto-Sans-CJK-SC" in faces, faces  # the two rare characters
    assert rare in flat(pdftotext(path))


def test_without_the_compact_faces_records_are_set_in_the_system_face(tmp_path, settings, fresh_faces):
    settings.QMS = {**settings.QMS, "PDF_FONTS_DIR": str(tmp_path / "none")}
    version = make_record(order_data())
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version))
    faces = fonts_of(path)
    assert faces and all(face.startswith("Noto-Sans-CJK-SC") for face in faces), faces
    assert "订单评审记录表" in flat(pdftotext(path))


def test_the_compact_face_is_about_half_the_pdf(tmp_path, settings, fresh_faces):
    version = make_record(order_data())
    compact = len(pdf.render_pdf_bytes(version))
    settings.QMS = {**settings.QMS, "PDF_FONTS_DIR": str(tmp_path / "none")}
    pdf._font_face_stylesheet.cache_clear()
    system = len(pdf.render_pdf_bytes(version))
    assert compact < system * 0.6, (compact, system)


def test_the_characters_are_every_gb2312_character_and_the_blocks_a_record_uses():
    points = pdf_fonts.characters()
    hanzi = [p for p in points if 0x4E00 <= p <= 0x9FFF]
    assert len(hanzi) == 6763
    assert {ord(ch) for ch in "Aé–€→■①、。，"} <= points
    assert ord("堃") not in points


def test_another_configured_face_is_used_alone(tmp_path, settings, fresh_faces):
    """The compact faces are cut from Noto Sans CJK SC: a site that sets QMS_PDF_FONT_FAMILY to another face gets
    that face, not the cut in front of it."""
    settings.QMS = {**settings.QMS, "PDF_FONT_FAMILY": "Noto Serif CJK SC"}
    version = make_record(order_data())
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version))
    faces = fonts_of(path)
    assert faces and all(face.startswith("Noto-Serif-CJK-SC") for face in faces), faces


# --- the glyph order (issue 15.5, the ninth session): everyday glyphs first, each glyph's CID its glyph id -----------

def test_the_everyday_glyphs_come_first_and_each_cid_is_its_glyph_id():
    """WeasyPrint keeps glyph ids in an embedded subset, so a record pays a slot for every glyph below its highest
    one: Latin, punctuation and the 3,755 common hanzi come first; and a glyph's CID is its id, which every PDF
    viewer's CID lookup and WeasyPrint's glyph ids agree on."""
    for path in pdf_fonts.built().values():
        font = TTFont(path)
        cmap = font.getBestCmap()
        gid = {ch: font.getGlyphID(cmap[ord(ch)]) for ch in "A，℃啊质座亍"}
        assert gid["A"] < 100 and gid["，"] < 1200 and gid["℃"] < 1200
        first_hanzi = gid["啊"]  # GB 2312 level 1 begins at 啊 (row 16)
        assert first_hanzi < 1200 and first_hanzi < gid["质"] < gid["座"] < first_hanzi + 3755 + 200
        assert gid["亍"] > gid["座"]  # 亍 is level 2 (row 56): after level 1, in the source's order
        top = font["CFF "].cff.topDictIndex[0]
        assert top.ROS == ("Adobe", "Identity", 0)
        assert top.charset == [".notdef"] + [f"cid{index:05d}" for index in range(1, len(top.charset))]


@pytest.fixture(scope="module")
def small_face(tmp_path_factory):
    """A cut of the system face with a few characters (CID-keyed, as the build's), in the source's order."""
    from fontTools import subset

    source, index = pdf_fonts.system_font("Regular")
    font = TTFont(source, fontNumber=index, lazy=False)
    options = subset.Options()
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(ch) for ch in "AZaz09，。质量订单评审记录表啊座"])
    subsetter.subset(font)
    path = tmp_path_factory.mktemp("face") / "small.otf"
    font.save(path)
    return path


def renumbered(small_face, tmp_path):
    """`small_face` with its glyphs in reverse order (.notdef first), CIDs numbered; and that order."""
    font = TTFont(small_face, lazy=False)
    names = font.getGlyphOrder()
    order = names[:1] + names[:0:-1]
    pdf_fonts._reorder(font, order)
    path = tmp_path / "renumbered.otf"
    font.save(path)
    pdf_fonts._number_cids(path).save(path)
    return path, order


def test_renumbering_keeps_every_glyphs_outline_width_font_dict_and_character(small_face, tmp_path):
    path, order = renumbered(small_face, tmp_path)
    before, after = TTFont(small_face), TTFont(path)
    assert pdf_fonts._same_glyphs(before, after, order) == ([], True)
    assert after.getGlyphID(after.getBestCmap()[ord("质")]) == order.index(before.getBestCmap()[ord("质")])
    assert after.getGlyphOrder()[1:] == [f"cid{gid:05d}" for gid in range(1, len(order))]


def test_the_build_check_finds_a_glyph_drawn_by_another_glyphs_outline(small_face, tmp_path):
    """What `build()` refuses: fontTools' reorderGlyphs alone keeps each charstring where it was (another glyph's
    outline and font dict for a CID-keyed face), and a character map that moved."""
    path, order = renumbered(small_face, tmp_path)
    broken = TTFont(path, lazy=False)
    charstrings = broken["CFF "].cff.topDictIndex[0].CharStrings.charStringsIndex
    cmap = broken.getBestCmap()
    first, second = broken.getGlyphID(cmap[ord("质")]), broken.getGlyphID(cmap[ord("量")])
    charstrings.items[first], charstrings.items[second] = charstrings[second], charstrings[first]
    broken.save(tmp_path / "broken.otf")
    differing, same_cmap = pdf_fonts._same_glyphs(TTFont(small_face), TTFont(tmp_path / "broken.otf"), order)
    assert sorted(differing) == sorted([first, second]) and same_cmap
    moved = TTFont(path, lazy=False)
    for table in moved["cmap"].tables:
        if ord("质") in table.cmap:
            table.cmap[ord("质")] = table.cmap[ord("量")]
    moved.save(tmp_path / "moved.otf")
    assert pdf_fonts._same_glyphs(TTFont(small_face), TTFont(tmp_path / "moved.otf"), order) == ([], False)


def test_an_order_review_embeds_a_fraction_of_its_faces(tmp_path):
    """With the everyday glyphs first and a single-range charset, an order review's two embedded subsets take
    ~72 KB (~125 KB with the faces in the source's order, when a subset kept a slot for nearly every glyph)."""
    version = make_record(order_data())
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version))
    streams = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    assert "QMS-Sans-CJK-SC" in streams
    import pikepdf

    sizes = []
    with pikepdf.open(path) as document:
        for page in document.pages:
            for font in page.Resources.Font.values():
                program = font.DescendantFonts[0].FontDescriptor.FontFile3
                sizes.append((program.objgen, len(program.read_raw_bytes())))
    total = sum(dict(sizes).values())
    assert len(dict(sizes)) == 2 and total < 90_000, sizes


def test_every_embedded_glyphs_cid_is_the_glyph_id_weasyprint_wrote(tmp_path, fresh_faces):
    """WeasyPrint writes glyph ids as the CIDs of a CIDFontType0 font, and a viewer that follows the PDF
    specification (Ghostscript; Adobe's) finds a glyph by its CID through the embedded CFF's charset. With the
    faces as first cut (each glyph keeping the system face's CID) those viewers drew most hanzi and digits as
    empty boxes while poppler, going by glyph id, drew them right: every embedded face's charset must be the
    identity — the compact faces' and the system face's a rare character falls back to."""
    import io

    import pikepdf

    data = order_data()
    data["customer"] = {**data["customer"], "name_zh": "王堃喆精工机械有限公司"}
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf.render_pdf_bytes(make_record(data)))
    checked = set()
    with pikepdf.open(path) as document:
        for page in document.pages:
            for font in page.Resources.Font.values():
                descendant = font.DescendantFonts[0]
                program = descendant.FontDescriptor.FontFile3
                if program.objgen in checked:
                    continue
                checked.add(program.objgen)
                cff = TTFont(io.BytesIO(program.read_bytes()))["CFF "].cff.topDictIndex[0]
                assert cff.charset == [".notdef"] + [f"cid{gid:05d}" for gid in range(1, len(cff.charset))], (
                    str(font.BaseFont))
    assert len(checked) == 3  # the compact Regular and Bold, and the system face for 堃 and 喆
