"""`manage.py export PROJECT --format … --layer gold|all|CODER [-o FILE]`: the export service.

PROJECT is the project's id or its exact name. The file goes to standard output unless -o
names one; a file is written under a temporary name and renamed at the end, so that a failed
export leaves no half file behind. Nothing to export (no adjudicated document for the gold) is
an error, never an empty file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotator.management.commands.import_documents import project_by_id_or_name
from annotator.services import exports


class Command(BaseCommand):
    help = "Export a project's documents with one layer of annotations (streamed)."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument("--format", required=True, choices=list(exports.EXPORT_FORMATS))
        parser.add_argument(
            "--layer", default=exports.GOLD, help="gold (default), all, or a coder's username"
        )
        parser.add_argument(
            "--include-unadjudicated",
            action="store_true",
            help="gold: also the documents not yet adjudicated",
        )
        parser.add_argument("--guard-formulas", action="store_true", help="claims-csv")
        parser.add_argument("-o", "--output", help="write here instead of standard output")

    def handle(self, *args, **options):
        project = project_by_id_or_name(options["project"])
        try:
            export = exports.documents_export(
                project=project,
                format=options["format"],
                layer=options["layer"],
                include_unadjudicated=options["include_unadjudicated"],
                guard_formulas=options["guard_formulas"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        if options["output"]:
            self._to_file(export, Path(options["output"]))
        else:
            out = getattr(self.stdout, "_out", sys.stdout)
            target = getattr(out, "buffer", None)
            for chunk in export.chunks():
                if target is not None:
                    target.write(chunk)
                else:
                    out.write(chunk.decode("utf-8"))
            out.flush()
        self._report(export, options)

    def _to_file(self, export: exports.Export, path: Path) -> None:
        handle, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in export.chunks():
                    out.write(chunk)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _report(self, export: exports.Export, options) -> None:
        where = options["output"] or "standard output"
        message = f"{export.documents_written:,} document(s) exported to {where}"
        stats = export.conll_stats
        if export.format.name == "conll":
            message += (
                f"; {stats.spans_written:,} span(s) written, "
                f"{stats.spans_dropped_overlapping:,} dropped as nested or overlapping, "
                f"{stats.spans_dropped_no_token:,} without a token of their own"
            )
        self.stderr.write(message)
