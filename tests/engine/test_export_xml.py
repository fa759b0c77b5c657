"""PAGE-XML and ALTO: valid against the official schemas, with lines, words, coordinates and confidences."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
import xmlschema

from htr_desktop import export
from htr_desktop.export_xml import ALTO_NS, PAGE_NS
from htr_desktop.regions import Page, Region, RegionWord

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@pytest.fixture(scope="module")
def page_schema():
    return xmlschema.XMLSchema(str(SCHEMAS / "pagecontent-2019-07-15.xsd"))


@pytest.fixture(scope="module")
def alto_schema():
    return xmlschema.XMLSchema(str(SCHEMAS / "alto-4-4.xsd"), use_fallback=False)


def _page():
    page = Page(name="letter.png", gray=np.full((400, 600), 250, np.uint8), source="/tmp/letter.png")
    page.regions = [
        Region((10, 10, 300, 40), "dear anna", 0.8, [RegionWord("dear", 0.9, (10, 12, 80, 36)),
                                                     RegionWord("anna", 0.45, (100, 12, 100, 36))]),
        Region((10, 80, 300, 40), "thank you & <more>", None, [], edited=True),  # typed by hand, no words yet
        Region((12, 82, 40, 30), "you", 0.3, [], kind="word"),  # a box inside a line: never a second text
    ]
    return page


def _ns(tag, ns):
    return f"{{{ns}}}{tag}"


def test_page_xml_is_valid_and_complete(page_schema):
    xml = export.render([_page()], "page", "m1")
    page_schema.validate(xml)  # raises with the reason when not valid
    root = ET.fromstring(xml)
    (pg,) = root.iter(_ns("Page", PAGE_NS))
    assert (pg.get("imageFilename"), pg.get("imageWidth"), pg.get("imageHeight")) == ("letter.png", "600", "400")
    lines = list(root.iter(_ns("TextLine", PAGE_NS)))
    assert len(lines) == 2
    first = lines[0]
    assert first.find(_ns("Coords", PAGE_NS)).get("points") == "10,10 310,10 310,50 10,50"
    words = first.findall(_ns("Word", PAGE_NS))
    assert [w.find(f"{_ns('TextEquiv', PAGE_NS)}/{_ns('Unicode', PAGE_NS)}").text for w in words] == ["dear", "anna"]
    assert [w.find(_ns("TextEquiv", PAGE_NS)).get("conf") for w in words] == ["0.9000", "0.4500"]
    assert words[1].find(_ns("Coords", PAGE_NS)).get("points") == "100,12 200,12 200,48 100,48"
    line_text = first.findall(_ns("TextEquiv", PAGE_NS))[-1]
    assert line_text.get("conf") == "0.8000" and line_text[0].text == "dear anna"
    second_text = lines[1].findall(_ns("TextEquiv", PAGE_NS))[-1]
    assert second_text[0].text == "thank you & <more>" and second_text.get("conf") is None  # edited: no model conf


def test_alto_is_valid_and_complete(alto_schema):
    xml = export.render([_page()], "alto", "m1")
    alto_schema.validate(xml)
    root = ET.fromstring(xml)
    lines = list(root.iter(_ns("TextLine", ALTO_NS)))
    assert len(lines) == 2
    strings = lines[0].findall(_ns("String", ALTO_NS))
    assert [(s.get("CONTENT"), s.get("WC"), s.get("HPOS"), s.get("WIDTH")) for s in strings] == [
        ("dear", "0.9000", "10", "80"), ("anna", "0.4500", "100", "100")]
    assert len(lines[0].findall(_ns("SP", ALTO_NS))) == 1
    assert [s.get("CONTENT") for s in lines[1].findall(_ns("String", ALTO_NS))] == ["thank", "you", "&", "<more>"]


def test_several_pages_give_one_file_each(tmp_path, page_schema):
    pages = [_page(), _page()]
    written = export.write(tmp_path / "book.xml", pages, fmt="page")
    assert [p.name for p in written] == ["book-p1.xml", "book-p2.xml"]
    for p in written:
        page_schema.validate(str(p))


def test_cli_writes_page_and_alto_like_its_json(tmp_path, page_schema, alto_schema):
    from tests.gui.conftest import render_page

    image = tmp_path / "page.png"
    cv2.imwrite(str(image), render_page())
    def page_text(line):
        return line.findall(_ns("TextEquiv", PAGE_NS))[-1][0].text

    def alto_text(line):
        return " ".join(s.get("CONTENT") for s in line.findall(_ns("String", ALTO_NS)))

    cases = [("page", page_schema, PAGE_NS, page_text), ("alto", alto_schema, ALTO_NS, alto_text)]
    for fmt, schema, ns, text_of in cases:
        out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--layout", "page", "--json",
                              "--format", fmt, "--out", str(tmp_path / fmt), str(image)],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["written"] == [str(tmp_path / fmt / "page.xml")]
        schema.validate(result["written"][0])
        lines = list(ET.parse(result["written"][0]).getroot().iter(_ns("TextLine", ns)))
        assert [text_of(ln) for ln in lines] == [ln["text"] for ln in result["lines"]]
        assert len(lines) == 3


def test_cli_format_needs_out(tmp_path):
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--format", "page", "x.png"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--out" in out.stderr and "Traceback" not in out.stderr
