"""PDF rendering in a process of its own, at a lower CPU priority than everything else.

weasyprint is pure-Python CPU work: in a thread it would hold the worker's GIL and slow every
other job of that worker (consolidations, notifications). A separate process keeps the worker's
event loop free, renders one PDF at a time in arrival order (so the first PDFs of a burst are
ready early instead of all finishing together), and runs `nice`d, so the operating system gives
web requests and consolidations the CPU first when a machine hosts both.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tumorboard.care_plans.documents import render_pdf
from tumorboard.care_plans.schemas import CarePlanDiff, CarePlanDocument
from tumorboard.meetings import documents as meeting_documents

NICENESS = 10
PARENT_CHECK_SECONDS = 1.0


def _exit_with_parent(parent: int) -> None:
    # The pool's queues keep both pipe ends open in this process, so it would not notice its
    # parent dying (SIGKILL, crash) and would linger; it watches instead.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _start_renderer() -> None:
    """In the rendering process: exit with the parent, lower its priority, load weasyprint once."""
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    os.nice(NICENESS)
    import weasyprint

    weasyprint.HTML(string="<p>warm-up</p>").write_pdf()


class PdfRenderer:
    """One rendering process, started on first use (or by `start`) and reused."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the parent has an event loop, threads and open connections.
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_start_renderer
            )
        return self._executor

    async def start(self) -> int:
        """Start the rendering process now, so the first PDF does not wait for it; returns its pid."""
        return await asyncio.get_running_loop().run_in_executor(self._pool(), os.getpid)

    async def render(self, document: CarePlanDocument, changes: CarePlanDiff | None) -> bytes:
        """The document's PDF, rendered in the rendering process."""
        return await self.run(render_pdf, document, changes)

    async def run(self, render: Callable[..., bytes], *args: Any) -> bytes:
        """Another document's PDF (the referrer letter), rendered by a module-level function in the
        rendering process, in turn with the care plans."""
        return await asyncio.get_running_loop().run_in_executor(self._pool(), render, *args)

    async def render_page(self, html: str) -> bytes:
        """A self-contained HTML page (a meeting document) as PDF, rendered in the rendering process."""
        return await asyncio.get_running_loop().run_in_executor(
            self._pool(), meeting_documents.render_pdf, html
        )

    def stop(self) -> None:
        """Stop the rendering process (it also exits by itself when its parent dies)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


pdf_renderer = PdfRenderer()
