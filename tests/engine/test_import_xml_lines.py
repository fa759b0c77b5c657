"""ALTO/PAGE-XML line importer on tiny synthetic pages: types, filters, crops, hold-out by document, output."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from training.datasets import read_folder
from training.import_xml_lines import PAD, XmlLine, crop_line, held_out, import_lines, read_xml, upright, why_skipped

ALTO = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
  <Description><sourceImageInformation><fileName>{image}</fileName></sourceImageInformation></Description>
  <Tags>
    <OtherTag ID="LT1" LABEL="DefaultLine:Handwritten"/>
    <OtherTag ID="LT2" LABEL="DefaultLine:Typewritten"/>
  </Tags>
  <Layout><Page WIDTH="400" HEIGHT="200"><PrintSpace><TextBlock ID="b">
    <TextLine ID="l1" TAGREFS="LT1" HPOS="20" VPOS="20" WIDTH="300" HEIGHT="40">
      <Shape><Polygon POINTS="20 20 320 20 320 60 20 60"/></Shape>
      <String CONTENT="Dear Sir,"/><SP/><String CONTENT="thank you"/>
    </TextLine>
    <TextLine ID="l2" TAGREFS="LT2" HPOS="20" VPOS="80" WIDTH="300" HEIGHT="40">
      <String CONTENT="TYPED HEADING"/>
    </TextLine>
    <TextLine ID="l3" TAGREFS="LT1" HPOS="20" VPOS="130" WIDTH="200" HEIGHT="40">
      <String CONTENT="a ^word \u27e6struck\u27e7"/>
    </TextLine>
  </TextBlock></PrintSpace></Page></Layout>
</alto>
"""

PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15">
  <Page imageFilename="{image}" imageWidth="400" imageHeight="200">
    <TextRegion id="r1"><Coords points="0,0 400,0 400,200 0,200"/>
      <TextLine id="r1l1"><Coords points="30,100 330,100 330,150 30,150"/>
        <Baseline points="30,140 330,140"/>
        <Word id="w1"><Coords points="30,100 60,100 60,150 30,150"/>
          <TextEquiv><Unicode>word</Unicode></TextEquiv></Word>
        <TextEquiv><Unicode>yours \u2019truly\u2019</Unicode></TextEquiv>
      </TextLine>
      <TextLine id="r1l2" custom="structure {{type:signature;}}"><Coords points="30,160 200,160 200,190 30,190"/>
        <TextEquiv><Unicode>J. Smith</Unicode></TextEquiv>
      </TextLine>
      <TextLine id="r1l3"><Coords points="30,10 330,10 330,40 30,40"/>
        <TextEquiv><Unicode>price \u00a3 5</Unicode></TextEquiv>
      </TextLine>
    </TextRegion>
  </Page>
</PcGts>
"""


def _page(path, boxes):
    """A white page with a dark bar in each box (x0, y0, x1, y1) and a gray smudge elsewhere."""
    page = np.full((200, 400), 240, np.uint8)
    page[0:5, :] = 60
    for x0, y0, x1, y1 in boxes:
        page[y0 + 10: y1 - 10, x0 + 10: x1 - 10] = 20
    cv2.imwrite(str(path), page)


def _dataset(root):
    """Three documents (folders): two ALTO letters and one PAGE letter."""
    for name in ("letter1", "letter2"):
        (root / name).mkdir(parents=True)
        _page(root / name / "p1.jpg", [(20, 20, 320, 60)])
        (root / name / "p1.xml").write_text(ALTO.format(image="p1.jpg"), encoding="utf-8")
    (root / "letter3").mkdir()
    _page(root / "letter3" / "scan.png", [(30, 100, 330, 150)])
    (root / "letter3" / "scan.xml").write_text(PAGE.format(image="scans/scan.png"), encoding="utf-8")


def test_alto_and_page_lines_with_types(tmp_path):
    _dataset(tmp_path)
    alto = read_xml(tmp_path / "letter1" / "p1.xml")
    assert [(x.text, x.kind) for x in alto] == [("Dear Sir, thank you", "DefaultLine:Handwritten"),
                                               ("TYPED HEADING", "DefaultLine:Typewritten"),
                                               ("a ^word \u27e6struck\u27e7", "DefaultLine:Handwritten")]
    assert alto[0].image == tmp_path / "letter1" / "p1.jpg"
    assert alto[0].points == ((20, 20), (320, 20), (320, 60), (20, 60))
    assert alto[1].points == ((20, 80), (320, 80), (320, 120), (20, 120))  # no polygon: the line's box
    page = read_xml(tmp_path / "letter3" / "scan.xml")
    assert [(x.text, x.kind) for x in page] == [("yours \u2019truly\u2019", ""), ("J. Smith", "signature"),
                                               ("price \u00a3 5", "")]
    assert page[0].image == tmp_path / "letter3" / "scan.png"  # the folder part of imageFilename is dropped


def test_skip_reasons():
    square = ((0, 0), (10, 0), (10, 10))
    tmp = Path("x.jpg")
    assert why_skipped(XmlLine(tmp, square, "fine text", "")) == ""
    assert why_skipped(XmlLine(tmp, square, "fine", "DefaultLine:Print")) == "not handwritten"
    assert why_skipped(XmlLine(tmp, square, "fine", "DefaultLine:Print"), all_types=True) == ""
    assert why_skipped(XmlLine(tmp, square, "in^serted", "")) == "editorial marks"
    assert why_skipped(XmlLine(tmp, square, "  ", "")) == "empty"
    assert why_skipped(XmlLine(tmp, square, "\u00a3 5", "")) == "characters outside the charset"
    assert why_skipped(XmlLine(tmp, square, "caf\u00e9 \u201cok\u201d", "")) == ""  # folded by normalize_text
    assert why_skipped(XmlLine(tmp, ((0, 0), (5, 5)), "text", "")) == "no outline"


def test_crop_keeps_the_polygon_and_blanks_the_rest():
    page = np.full((100, 200), 230, np.uint8)
    page[40:60, 20:180] = 10  # the line
    page[0:30, 20:180] = 50  # the line above, inside the bounding box of a slanted polygon
    crop = crop_line(page, ((20, 40), (180, 40), (180, 60), (20, 60), (20, 41)), pad=4)
    assert crop is not None and crop.shape == (29, 169)
    assert crop.min() == 10 and (crop > 100).mean() > 0.2
    above = ((20, 0), (180, 0), (180, 30), (20, 30))
    slanted = crop_line(page, ((20, 30), (180, 10), (180, 60), (20, 60)), [above], pad=0)
    assert slanted is not None and (slanted[0, :20] == 230).all()  # the line above, blanked
    assert crop_line(page, ((5, 5), (8, 5), (8, 8)), pad=0) is None


TIGHT = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
  <Description><sourceImageInformation><fileName>p.png</fileName></sourceImageInformation></Description>
  <Layout><Page WIDTH="400" HEIGHT="200"><PrintSpace><TextBlock ID="b">
    <TextLine ID="above" BASELINE="20 45 380 45" HPOS="20" VPOS="27" WIDTH="360" HEIGHT="21">
      <Shape><Polygon POINTS="20 27 380 27 380 48 20 48"/></Shape><String CONTENT="gap"/></TextLine>
    <TextLine ID="line" BASELINE="20 130 380 130" HPOS="20" VPOS="112" WIDTH="360" HEIGHT="21">
      <Shape><Polygon POINTS="20 112 380 112 380 133 20 133"/></Shape><String CONTENT="Hold"/></TextLine>
  </TextBlock></PrintSpace></Page></Layout>
</alto>
"""


def test_crop_keeps_ascenders_outside_a_tight_polygon_and_not_the_neighbours_descender(tmp_path):
    # polygons around the x-height only, as eScriptorium draws them: the line's tall strokes reach 25 px above
    above, ink = np.zeros((200, 400), bool), np.zeros((200, 400), bool)
    above[30:45, 20:380] = True  # the line above: its body
    above[30:118, 300:306] = True  # ... and a descender dipping 6 px into the next line's polygon
    ink[115:130, 30:280] = True  # the line: its body
    ink[88:130, 40:46] = True  # an ascender joined to the body
    ink[90:125, 150:156] = True  # a capital's stroke, apart from the body, mostly above the polygon
    page = np.where(above | ink, 15, 235).astype(np.uint8)
    (tmp_path / "src" / "doc").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "src" / "doc" / "p.png"), page)
    (tmp_path / "src" / "doc" / "p.xml").write_text(TIGHT, encoding="utf-8")
    import_lines(tmp_path / "src", tmp_path / "out", val_fraction=0.0)
    crops = {s.text: cv2.imread(str(s.path), cv2.IMREAD_GRAYSCALE) for s in read_folder(tmp_path / "out" / "train")}
    line = crops["Hold"]
    tip = 6 * (118 - (112 - PAD))  # the descender's tip inside the line's padded polygon stays, the rest is paper
    assert (line < 100).sum() == ink.sum() + tip
    assert line.shape[0] == (133 + 1 + PAD) - (88 - PAD)  # from the ascender's top to the polygon's bottom, plus PAD
    # the line above keeps its descender down to halfway between the polygons (nearer to its own), no more
    assert above[:80].sum() <= (crops["gap"] < 100).sum() <= above[:90].sum()


def test_held_out_is_fixed_and_by_group():
    groups = {f"doc{i}": 10 for i in range(10)}
    first = held_out(groups, 0.2)
    assert first == held_out(dict(reversed(groups.items())), 0.2)
    assert len(first) == 2 and held_out(groups, 0.0) == set()


def test_import_writes_train_and_val_folders(tmp_path):
    _dataset(tmp_path / "src")
    out = tmp_path / "out"
    result = import_lines(tmp_path / "src", out, val_fraction=0.3)
    assert result["usable"] == 3 and result["skipped: not handwritten"] == 3
    assert result["skipped: editorial marks"] == 2 and result["skipped: characters outside the charset"] == 1
    assert result["train_lines"] + result["val_lines"] == 3
    assert result["val_documents"] == 1 and result["train_documents"] == 2
    assert json.loads((out / "import.json").read_text()) == result
    train, val = read_folder(out / "train"), read_folder(out / "val")
    assert len(val) == 1 and len(train) == 2
    assert {s.group for s in val}.isdisjoint(s.group for s in train)
    assert sorted(s.text for s in train + val) == ["Dear Sir, thank you", "Dear Sir, thank you", "yours 'truly'"]
    for s in train + val:
        image = cv2.imread(str(s.path), cv2.IMREAD_GRAYSCALE)
        assert image is not None and image.min() < 40 and image.shape[0] < 80  # the bar (JPEG: about 20)
    again = import_lines(tmp_path / "src", out, val_fraction=0.3)  # re-running replaces its own output
    assert again == result and len(read_folder(out / "train")) == 2


def test_import_refuses_a_foreign_folder(tmp_path):
    _dataset(tmp_path / "src")
    (tmp_path / "out" / "train").mkdir(parents=True)
    (tmp_path / "out" / "train" / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not written by this importer"):
        import_lines(tmp_path / "src", tmp_path / "out")
    assert (tmp_path / "out" / "train" / "mine.txt").read_text() == "keep me"


ESCRIPTORIUM = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
  <Description><sourceImageInformation><fileName>{image}</fileName></sourceImageInformation></Description>
  <Tags><OtherTag ID="LT60" LABEL="default"/></Tags>
  <Layout><Page WIDTH="400" HEIGHT="200"><PrintSpace><TextBlock ID="b">
    <TextLine ID="l1" TAGREFS="LT60" HPOS="20" VPOS="20" WIDTH="300" HEIGHT="40">
      <Shape><Polygon POINTS="20 20 320 20 320 60 20 60"/></Shape><String CONTENT="{text}"/></TextLine>
    <TextLine ID="l2" TAGREFS="LT60" HPOS="20" VPOS="80" WIDTH="300" HEIGHT="40">
      <Shape><Polygon POINTS="20 80 320 80 320 120 20 120"/></Shape><String CONTENT="a &gt;struck&lt; word"/></TextLine>
    <TextLine ID="l3" TAGREFS="LT60" HPOS="20" VPOS="130" WIDTH="300" HEIGHT="40">
      <Shape><Polygon POINTS="20 130 320 130 320 170 20 170"/></Shape><String CONTENT="a #crossed word"/></TextLine>
  </TextBlock></PrintSpace></Page></Layout>
</alto>
"""


def test_images_in_another_folder_and_documents_by_pattern(tmp_path):
    # as in eScriptorium exports with alto/ and jpg/ side by side, one writer's pages named <text>_<page>
    src = tmp_path / "src"
    (src / "alto").mkdir(parents=True)
    (src / "jpg").mkdir()
    stems = ["text_0001_1", "text_0001_2", "text_0002", "text_0003"]
    for i, stem in enumerate(stems):
        _page(src / "jpg" / f"{stem}.jpg", [(20, 20, 320, 60), (20, 80, 320, 120), (20, 130, 320, 170)])
        (src / "alto" / f"{stem}.xml").write_text(ESCRIPTORIUM.format(image=f"{stem}.jpg", text=f"line {i}"),
                                                 encoding="utf-8")
    result = import_lines(src, tmp_path / "out", val_fraction=0.5, group_pattern=r"text_\d+", marks="#")
    assert result["usable"] == 4 and result["skipped: editorial marks"] == 8  # '>...<' always, '#' as asked
    train, val = read_folder(tmp_path / "out" / "train"), read_folder(tmp_path / "out" / "val")
    assert sorted(s.text for s in train + val) == ["line 0", "line 1", "line 2", "line 3"]
    groups = {s.text: s.group for s in train + val}
    assert groups["line 0"] == groups["line 1"] == "text_0001" and groups["line 2"] == "text_0002"
    assert {s.group for s in val}.isdisjoint(s.group for s in train)  # both pages of a writer on one side
    assert result["train_documents"] + result["val_documents"] == 3
    folders = import_lines(src, tmp_path / "out2", val_fraction=0.0)  # default: one document, the folder
    assert folders["train_documents"] == 1 and folders["skipped: editorial marks"] == 4


def test_scale_shrinks_pages_and_outlines_alike(tmp_path):
    _dataset(tmp_path / "src")
    full = import_lines(tmp_path / "src", tmp_path / "full", val_fraction=0.0)
    half = import_lines(tmp_path / "src", tmp_path / "half", val_fraction=0.0, scale=0.5)
    assert half == full  # the same lines, skipped alike
    shapes = {s.path.name: cv2.imread(str(s.path), cv2.IMREAD_GRAYSCALE).shape
              for s in read_folder(tmp_path / "full" / "train")}
    for s in read_folder(tmp_path / "half" / "train"):
        small = cv2.imread(str(s.path), cv2.IMREAD_GRAYSCALE)
        h, w = shapes[s.path.name]
        # the ink at half size, plus PAD a side as before
        assert abs(small.shape[0] - ((h - 2 * PAD) / 2 + 2 * PAD)) <= 2
        assert abs(small.shape[1] - ((w - 2 * PAD) / 2 + 2 * PAD)) <= 2
        assert small.min() < 40
    with pytest.raises(ValueError, match="scale"):
        import_lines(tmp_path / "src", tmp_path / "bad", scale=0)


def test_a_vertical_line_is_skipped():
    assert upright(np.zeros((40, 300), np.uint8), "a line of text") == ""
    assert upright(np.zeros((300, 40), np.uint8), "a line of text") == "taller than wide"  # a rotated page's line
    assert upright(np.zeros((60, 40), np.uint8), "A.") == ""  # an initial may be taller than wide
