"""The service's documents: one document model per document, laid out as HTML by jinja and as PDF by
Typst, so both say the same thing.

How a document is made (the care plan, the agenda and the meeting pack do it this way; see
docs/documents.md):

1. Build its **document model** once, in Python: a msgspec Struct holding the text as it should read
   (dates, times in the right zone and labels already formatted; choices such as which banner to print
   already made). Formatting helpers: `tumorboard.documents.text`; the case's clinical summary:
   `tumorboard.documents.clinical`.
2. Lay it out as HTML with a jinja template, and as PDF with a Typst template
   `templates/documents/<name>.typ` that reads the same model as data (`sys.inputs.data`, JSON) and
   imports the shared page frame `base.typ`. Patient text is data to Typst, never markup: nothing is
   escaped by hand and nothing a user typed can change the layout.
3. Render the PDF with `render_pdf(name, model)` (CPU work of a few tens of milliseconds; from async
   code use `await render_pdf_off_loop(name, model)`, which runs it in a thread without holding the
   GIL). The output is PDF/A-2a and PDF/UA-1: fonts embedded, tagged.
"""
