"""`manage.py agreement PROJECT --format json|csv [filters]`: the agreement report of a project.

PROJECT is the project's id or its exact name. The report is the one the page shows: a stored
snapshot when the data has not changed since it was computed, else computed now (and stored).
Coder names are shown: whoever runs this command can read the database anyway.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from annotator import reports
from annotator.models import Project


def _ids(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.replace(",", " ").split())
    except ValueError:
        raise CommandError(f"--documents: {text!r} is not a list of document ids") from None


class Command(BaseCommand):
    help = "Print a project's inter-coder agreement report as JSON or CSV."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument("--format", choices=("json", "csv"), default="json")
        parser.add_argument("--output", "-o", help="write here instead of standard output")
        parser.add_argument("--label", action="append", default=[], help="a label (repeat)")
        parser.add_argument(
            "--coder", action="append", default=[], help="a coder's username or user id (repeat)"
        )
        parser.add_argument("--documents", default="", help="comma-separated document ids")
        parser.add_argument("--published-from", type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--published-to", type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--sample", type=int, help="a random sample of this many documents")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--codebook-version", type=int)

    def handle(self, *args, **options):
        project = self._project(options["project"])
        filters = reports.AgreementFilters(
            labels=tuple(options["label"]),
            coders=self._coders(project, options["coder"]),
            document_ids=_ids(options["documents"]),
            published_from=options["published_from"],
            published_to=options["published_to"],
            sample=options["sample"],
            seed=options["seed"],
            codebook_version=options["codebook_version"],
        )
        if filters.sample is not None and filters.sample < 1:
            raise CommandError("--sample must be at least 1")
        known = set(project.labels.values_list("name", flat=True))
        if unknown := sorted(set(filters.labels) - known):
            raise CommandError(f"unknown label: {', '.join(unknown)}")
        snapshot = reports.snapshot_for(project, filters, background=False)
        if not snapshot.is_ready:
            raise CommandError(f"the report could not be computed: {snapshot.error}")
        names = reports.coder_names(snapshot.payload, show_names=True)
        buffer = io.StringIO()
        if options["format"] == "json":
            body = reports.public_payload(snapshot.payload, names, show_names=True)
            buffer.write(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(buffer)
            writer.writerow(reports.CSV_COLUMNS)
            writer.writerows(reports.csv_rows(snapshot.payload, names))
        if options["output"]:
            with open(options["output"], "w", newline="", encoding="utf-8") as out:
                out.write(buffer.getvalue())
        else:
            self.stdout.write(buffer.getvalue(), ending="")

    def _project(self, value: str) -> Project:
        if value.isdigit() and (project := Project.objects.filter(pk=int(value)).first()):
            return project
        matches = list(Project.objects.filter(name=value)[:2])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise CommandError(f"several projects are named {value!r}: give the id")
        raise CommandError(f"no project with id or name {value!r}")

    def _coders(self, project: Project, values: list[str]) -> tuple[int, ...]:
        coders = {c["username"]: c["id"] for c in reports.project_coders(project)}
        ids = []
        for value in values:
            if value in coders:
                ids.append(coders[value])
            elif value.isdigit():
                ids.append(int(value))
            else:
                raise CommandError(f"no coder {value!r} in project {project.name!r}")
        return tuple(ids)
