"""PDF documents typeset by Typst, compiled in process from a template and a document model.

    pdf = render_pdf("care_plan", model)                  # CPU work: a few tens of milliseconds
    pdf = await render_pdf_off_loop("care_plan", model)   # the same from async code, in a thread

The template is `templates/documents/<name>.typ`; it reads the model, encoded as JSON, with
`json(bytes(sys.inputs.data))`. Typst reads only files under `templates/documents/` and the fonts
given here, never the network. Each PDF is PDF/A-2a (archival, tagged, fonts embedded) and PDF/UA-1.

An archival PDF cannot show a character that no font has (PDF/A forbids the blank box), and a
document must never fail for a patient's name: such characters, which DejaVu (Latin, Greek,
Cyrillic, Hebrew, Arabic ...) and Droid Sans Fallback (Chinese, Japanese) lack, are printed as their
code points, ``[U+D55C]``, and the rest of the document as usual.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import typst

from tumorboard.settings import TEMPLATES_DIR

TYPST_DIR = TEMPLATES_DIR / "documents"
# Debian's fonts-dejavu-core (DejaVu Sans and Sans Mono, the documents' fonts) and
# fonts-droid-fallback (Droid Sans Fallback, for Chinese and Japanese).
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/droid"))
PDF_STANDARDS: list[typst.PDFStandard] = ["a-2a", "ua-1"]
# How Typst names text that no font can show, in its diagnostics (Rust's debug form: a combining
# mark is written \u{e31}).
_UNSHOWABLE = re.compile(r'the text `"(.*?)"` could not be displayed')
_ESCAPED = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}")
_SPELLING_ROUNDS = 3

log = logging.getLogger(__name__)

# The rendering thread's CPU priority below the rest of the process and of the web (Linux gives each
# thread its own nice value): requests and consolidations get the CPU first, documents take the rest.
RENDERING_NICENESS = 10

_local = threading.local()


def _lower_priority() -> None:
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), RENDERING_NICENESS)


# One render at a time per process, in arrival order; Typst releases the GIL while it compiles, so
# the event loop runs on meanwhile.
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf", initializer=_lower_priority)


@functools.cache
def _fonts() -> typst.Fonts:
    # The fonts bundled with typst stay as a fallback, so a machine without DejaVu still renders.
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=list(FONT_DIRS))


def _compiler() -> typst.Compiler:
    # A compiler is not shared between threads (it is mutated while compiling); each thread keeps
    # its own, which keeps the parsed templates and loaded fonts between documents.
    compiler: typst.Compiler | None = getattr(_local, "compiler", None)
    if compiler is None:
        compiler = _local.compiler = typst.Compiler(root=TYPST_DIR, font_paths=_fonts())
    return compiler


def render_pdf(template: str, data: object, *, created_at: datetime | None = None) -> bytes:
    """A document model (a msgspec Struct or plain data) typeset by `templates/documents/<template>.typ`;
    `created_at` is the PDF's creation date (now when absent), so one model can give identical bytes."""
    payload = msgspec.json.encode(data).decode()
    # Typst takes a fixed offset and whole seconds.
    timestamp = created_at.astimezone(UTC).replace(microsecond=0) if created_at else None
    for _ in range(_SPELLING_ROUNDS):
        try:
            return _compile(template, payload, timestamp)
        except typst.TypstError as error:
            unshowable = _unshowable(error)
            if not unshowable:
                raise
            log.warning("characters no font has are printed as code points", extra={"count": len(unshowable)})
            payload = _spell_out(payload, unshowable)
    return _compile(template, payload, timestamp)


def _unshowable(error: typst.TypstError) -> set[str]:
    texts = [_ESCAPED.sub(lambda m: chr(int(m[1], 16)), t) for t in _UNSHOWABLE.findall(error.diagnostic)]
    return {c for text in texts for c in text if ord(c) > 127}


def _spell_out(text: str, characters: set[str]) -> str:
    """`text` with each of `characters` written as its code point: ``한`` becomes ``[U+D55C]``."""
    return text.translate({ord(c): f"[U+{ord(c):04X}]" for c in characters})


def _compile(template: str, payload: str, timestamp: datetime | None) -> bytes:
    pdf = _compiler().compile(
        input=TYPST_DIR / f"{template}.typ",
        sys_inputs={"data": payload},
        pdf_standards=PDF_STANDARDS,
        timestamp=timestamp,
    )
    if not isinstance(pdf, bytes):
        raise TypeError(f"Typst returned {type(pdf).__name__} for a PDF")
    return pdf


async def render_pdf_off_loop(template: str, data: object, *, created_at: datetime | None = None) -> bytes:
    """`render_pdf` in this process's rendering thread, leaving the event loop free meanwhile."""
    render = functools.partial(render_pdf, template, data, created_at=created_at)
    return await asyncio.get_running_loop().run_in_executor(_executor, render)


async def start_rendering() -> None:
    """Load the fonts into this process's rendering thread now, so the first document does not wait."""
    await asyncio.get_running_loop().run_in_executor(_executor, _compiler)


def stop_rendering() -> None:
    """Drop the documents still waiting and let the one being typeset finish (Typst cannot be stopped
    mid-document; it takes tens of milliseconds), so a stopping worker exits with its rendering thread
    done. Left to the interpreter's exit, that wait could be cut by a signal and print a traceback."""
    _executor.shutdown(wait=True, cancel_futures=True)


@functools.cache
def _templates_digest() -> bytes:
    digest = hashlib.sha256()
    for path in sorted(TYPST_DIR.glob("*.typ")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def fingerprint(template: str, data: object) -> str:
    """SHA-256 of what a PDF is made from (the model and the templates): equal fingerprints, equal
    documents, so a stored PDF can be looked up by it."""
    digest = hashlib.sha256(_templates_digest())
    digest.update(template.encode() + b"\0" + msgspec.json.encode(data))
    return digest.hexdigest()
