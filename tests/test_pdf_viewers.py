"""A record PDF looks the same in both families of PDF viewers: poppler (`pdftoppm`; the viewers of most browsers
and Linux desktops) and Ghostscript, which finds each glyph as the PDF specification says and as Acrobat does — by
its CID through the embedded CFF's charset. The compact faces as first cut (2026-11-30) kept the system face's CIDs
while WeasyPrint writes glyph ids: poppler, going by glyph id, drew the record right; Ghostscript and Acrobat drew
most of its hanzi and digits as empty boxes, and no test looked at a page the way they do."""
import subprocess

import pytest
from PIL import Image, ImageChops

from forms import pdf
from test_pdf import make_record, order_data

pytestmark = pytest.mark.django_db

DPI = 100
CELL = 12  # pixels at DPI: about a 9 pt character (3 mm)
#: the largest difference of a square's mean grey (0–255) between the two viewers' drawings of a page. The same
#: page differs by at most ~25 (anti-aliasing, hinting); the first cut's faces gave 105 squares up to 107 apart.
TOLERANCE = 40


def pages(command, path, stem):
    subprocess.run(command, check=True, capture_output=True)
    return sorted(path.parent.glob(f"{stem}-*.pgm"), key=lambda page: int(page.stem.rsplit("-", 1)[1]))


def drawn_by_both(path):
    """Each page of `path` drawn by poppler and by Ghostscript, grey, at DPI: pairs of PIL images."""
    try:
        poppler = pages(["pdftoppm", "-r", str(DPI), "-gray", str(path), str(path.parent / "poppler")],
                        path, "poppler")
        ghostscript = pages(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pgmraw", f"-r{DPI}",
                             "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4",
                             f"-sOutputFile={path.parent / 'gs'}-%d.pgm", str(path)], path, "gs")
    except FileNotFoundError as missing:
        pytest.fail(f"{missing.filename} is not installed: run scripts/install-system-packages.sh")
    assert len(poppler) == len(ghostscript) > 0, (poppler, ghostscript)
    return [(Image.open(a).convert("L"), Image.open(b).convert("L")) for a, b in zip(poppler, ghostscript)]


def cell_differences(first, second):
    """The two drawings of a page averaged over CELL × CELL squares, and the absolute difference of each square."""
    width, height = min(first.width, second.width), min(first.height, second.height)  # a pixel's rounding apart
    size = (width // CELL, height // CELL)
    first, second = (image.crop((0, 0, size[0] * CELL, size[1] * CELL)).resize(size, Image.BOX)
                     for image in (first, second))
    return ImageChops.difference(first, second)


def test_a_record_looks_the_same_in_poppler_and_ghostscript(tmp_path):
    """Every page of an order review — compact Regular and Bold, and the system face a rare character falls back
    to — drawn by both viewers: no square of a character's size lighter or darker in one than in the other."""
    data = order_data()
    data["customer"] = {**data["customer"], "name_zh": "王堃喆精工机械有限公司"}  # 堃 and 喆: the system face
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf.render_pdf_bytes(make_record(data)))
    for number, (poppler, ghostscript) in enumerate(drawn_by_both(path), 1):
        differences = cell_differences(poppler, ghostscript)
        histogram = differences.histogram()
        worst = max(value for value, count in enumerate(histogram) if count)
        apart = sum(histogram[TOLERANCE:])
        assert apart == 0, (f"page {number}: {apart} squares of {CELL} px drawn differently by poppler and "
                            f"Ghostscript (up to {worst} of 255 in grey)")
        assert sum(1 for value in poppler.getdata() if value < 128) > 1000  # a page with text on it
