"""What a reader of a document can check: the text of an HTML page and of a PDF, the facts of one
missing from the other, and whether a PDF is archival (PDF/A), tagged and embeds its fonts."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject


def squash(text: str) -> str:
    """Whitespace runs as one space."""
    return re.sub(r"\s+", " ", text).strip()


class _BodyText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_body = False
        self.hidden = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_body = self.in_body or tag == "body"
        self.hidden += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if self.in_body and not self.hidden and (text := squash(data)):
            self.texts.append(text)


def html_facts(html: str) -> list[str]:
    """Every piece of text a reader sees on the page (each text node of the body, squashed)."""
    parser = _BodyText()
    parser.feed(html)
    return parser.texts


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page, whitespace squashed; a word broken across lines after a hyphen or a
    slash inside it (``7c1e4297-`` at the end of a line, ``ae2d`` on the next) is joined again."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return [squash(re.sub(r"(?<=\S[-/])\n", "", page.extract_text() or "")) for page in pages]


def pdf_text(pdf: bytes) -> str:
    """The text of the whole PDF, whitespace squashed."""
    return " ".join(pdf_pages(pdf))


def missing_from_pdf(html: str, pdf: bytes) -> list[str]:
    """The facts of the HTML page that the PDF does not print."""
    text = pdf_text(pdf)
    return [fact for fact in html_facts(html) if fact not in text]


def _fonts(reader: PdfReader) -> dict[str, bool]:
    """Each font the pages use, and whether its program is embedded in the file."""
    fonts: dict[str, bool] = {}
    for page in reader.pages:
        resources: Any = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            described: DictionaryObject = font
            if font.get("/Subtype") == "/Type0":
                described = font["/DescendantFonts"][0].get_object()
            descriptor = described["/FontDescriptor"].get_object()
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts[str(font["/BaseFont"])] = embedded
    return fonts


def _xmp_value(xmp: str, name: str) -> str | None:
    match = re.search(rf"<{name}>([^<]*)</{name}>|{name}=\"([^\"]*)\"", xmp)
    return (match.group(1) or match.group(2)) if match else None


def archival_facts(pdf: bytes) -> dict[str, Any]:
    """What makes a PDF archival and accessible, as read from the file: the PDF/A part and conformance
    and the PDF/UA part its XMP metadata declare, whether it has a structure tree (tagged), its
    language, and its fonts with whether each is embedded."""
    reader = PdfReader(io.BytesIO(pdf))
    catalog: Any = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode() if "/Metadata" in catalog else ""
    mark_info = catalog.get("/MarkInfo")
    return {
        "pdfa_part": _xmp_value(xmp, "pdfaid:part"),
        "pdfa_conformance": _xmp_value(xmp, "pdfaid:conformance"),
        "pdfua_part": _xmp_value(xmp, "pdfuaid:part"),
        "tagged": "/StructTreeRoot" in catalog and bool(mark_info and mark_info.get_object().get("/Marked")),
        "language": str(catalog.get("/Lang", "")),
        "fonts": _fonts(reader),
        "title": (reader.metadata or {}).get("/Title"),
    }
