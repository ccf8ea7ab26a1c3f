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
