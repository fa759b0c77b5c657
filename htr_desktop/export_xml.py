"""PAGE-XML (2019-07-15) and ALTO (v4) for one page: lines and words with coordinates and confidences."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from pathlib import Path

from htr_desktop import __version__
from htr_desktop.regions import Box, Page, Region

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_FORMATS = {"page": "PAGE-XML (*.xml)", "alto": "ALTO XML (*.xml)"}


def _words(region: Region) -> list[tuple[str, Box, float | None]]:
    """(text, box, confidence) per word of the region's current text; a word without a box gets the line's."""
    if [w.text for w in region.words] == region.text.split():
        return [(w.text, w.box or region.box, w.confidence) for w in region.words]
    return [(t, region.box, None) for t in region.text.split()]


def _conf(value: float) -> str:
    return f"{min(max(value, 0.0), 1.0):.4f}"


def _points(box: Box) -> str:
    x, y, w, h = box
    return f"{x},{y} {x + w},{y} {x + w},{y + h} {x},{y + h}"


def _union(boxes: list[Box]) -> Box:
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def _source_name(page: Page) -> str:
    return Path(page.source).name if page.source else page.name


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child in the parent's namespace."""
    ns = parent.tag[: parent.tag.index("}") + 1] if parent.tag.startswith("{") else ""
    el = ET.SubElement(parent, ns + tag, attrs)
    if text is not None:
        el.text = text
    return el


def _text_equiv(parent: ET.Element, text: str, conf: float | None) -> None:
    equiv = _sub(parent, "TextEquiv", **({"conf": _conf(conf)} if conf is not None else {}))
    _sub(equiv, "Unicode", text)


def to_page_xml(page: Page, model_version: str = "") -> str:
    """The page as PAGE-XML: one text region holding the lines in reading order, each with its words."""
    ET.register_namespace("", PAGE_NS)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    root = ET.Element(f"{{{PAGE_NS}}}PcGts", {f"{{{XSI}}}schemaLocation": f"{PAGE_NS} {PAGE_NS}/pagecontent.xsd"})
    meta = _sub(root, "Metadata")
    _sub(meta, "Creator", f"htr-desktop {__version__}" + (f", model {model_version}" if model_version else ""))
    _sub(meta, "Created", now)
    _sub(meta, "LastChange", now)
    width, height = page.size
    pg = _sub(root, "Page", imageFilename=_source_name(page), imageWidth=str(width), imageHeight=str(height))
    regions = page.text_regions()
    if regions:
        order = _sub(_sub(pg, "ReadingOrder"), "OrderedGroup", id="ro1", caption="Regions reading order")
        _sub(order, "RegionRefIndexed", index="0", regionRef="r1")
        block = _sub(pg, "TextRegion", id="r1", type="paragraph")
        _sub(block, "Coords", points=_points(_union([r.box for r in regions])))
        for n, region in enumerate(regions, 1):
            line = _sub(block, "TextLine", id=f"r1l{n}", custom=f"readingOrder {{index:{n - 1};}}")
            _sub(line, "Coords", points=_points(region.box))
            for k, (text, box, conf) in enumerate(_words(region), 1):
                word = _sub(line, "Word", id=f"r1l{n}w{k}")
                _sub(word, "Coords", points=_points(box))
                _text_equiv(word, text, conf)
            _text_equiv(line, region.text, None if region.edited else region.confidence)
        _text_equiv(block, "\n".join(r.text for r in regions), None)
    return _serialize(root)


def to_alto(page: Page, model_version: str = "") -> str:
    """The page as ALTO v4: one text block holding the lines in reading order, each with its words."""
    ET.register_namespace("", ALTO_NS)
    root = ET.Element(f"{{{ALTO_NS}}}alto", {f"{{{XSI}}}schemaLocation": f"{ALTO_NS} http://www.loc.gov/alto/v4/alto-4-4.xsd"})
    desc = _sub(root, "Description")
    _sub(desc, "MeasurementUnit", "pixel")
    _sub(_sub(desc, "sourceImageInformation"), "fileName", _source_name(page))
    software = _sub(_sub(desc, "Processing", ID="proc1"), "processingSoftware")
    _sub(software, "softwareName", "htr-desktop")
    _sub(software, "softwareVersion", __version__ + (f" (model {model_version})" if model_version else ""))
    width, height = page.size
    pg = _sub(_sub(root, "Layout"), "Page", ID="p1", PHYSICAL_IMG_NR="1", WIDTH=str(width), HEIGHT=str(height))
    space = _sub(pg, "PrintSpace", HPOS="0", VPOS="0", WIDTH=str(width), HEIGHT=str(height))
    regions = page.text_regions()
    if regions:
        block = _sub(space, "TextBlock", ID="b1", **_pos(_union([r.box for r in regions])))
        for n, region in enumerate(regions, 1):
            line = _sub(block, "TextLine", ID=f"l{n}", **_pos(region.box))
            for k, (text, box, conf) in enumerate(_words(region), 1):
                if k > 1:
                    _sub(line, "SP")
                attrs = {"ID": f"l{n}s{k}", "CONTENT": text, **_pos(box)}
                if conf is not None:
                    attrs["WC"] = _conf(conf)
                _sub(line, "String", **attrs)
    return _serialize(root)


def _pos(box: Box) -> dict[str, str]:
    x, y, w, h = box
    return {"HPOS": str(x), "VPOS": str(y), "WIDTH": str(w), "HEIGHT": str(h)}


def _serialize(root: ET.Element) -> str:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True).decode("utf-8") + "\n"
