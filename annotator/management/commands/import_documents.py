"""`manage.py import_documents PROJECT FILE… --format …`: the import service from a shell.

PROJECT is the project's id or its exact name. Every file is read and checked before anything
is written; with any problem nothing is, and every problem is printed (file, line, field) and
the command exits non-zero. The import is recorded as done by --as (default: the project's
first manager). The upload limit (ANNOTATOR_MAX_UPLOAD_MB) does not apply: the files are
already on the server, and are read a line or a member at a time.
"""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotator.models import Project, Role
from annotator.services import imports


def project_by_id_or_name(value: str) -> Project:
    """The project whose id, or else exact name, is ``value``."""
    if value.isdigit():
        project = Project.objects.filter(pk=int(value)).first()
        if project is not None:
            return project
    matches = list(Project.objects.filter(name=value)[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CommandError(f"several projects are called {value!r}: give the id")
    raise CommandError(f"no project with id or name {value!r}")


class Command(BaseCommand):
    help = "Import documents (and annotations made elsewhere) into a project: all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument("files", nargs="+", help="the files to import (same format)")
        parser.add_argument("--format", required=True, choices=list(imports.FORMATS))
        parser.add_argument(
            "--user-map",
            action="append",
            default=[],
            metavar="NAME=USERNAME",
            help="a user name in the file and the username it stands for (repeat)",
        )
        parser.add_argument(
            "--create-coders",
            action="store_true",
            help="create coders (without passwords) for names that match nobody",
        )
        parser.add_argument("--offsets", choices=imports.OFFSETS, default="utf16", help="doccano")
        parser.add_argument("--on-duplicate", choices=imports.ON_DUPLICATE, default="skip")
        parser.add_argument(
            "--user",
            default="",
            help="doccano: whose spans a file holds when its name says nobody; "
            "brat: the coder whose spans the files hold (none: the gold layer)",
        )
        parser.add_argument("--text-key", default="text", help="documents-jsonl, label-studio")
        parser.add_argument("--text-column", default="text", help="csv")
        parser.add_argument("--id-column", default="", help="csv")
        parser.add_argument(
            "--metadata-columns", default=None, help="csv: comma-separated (default: all others)"
        )
        parser.add_argument("--delimiter", default=",", help="csv")
        parser.add_argument(
            "--discontinuous", choices=imports.DISCONTINUOUS, default="error", help="brat"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report; write nothing"
        )
        parser.add_argument(
            "--as", dest="as_user", default="", help="the username the import is recorded under"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        project = project_by_id_or_name(options["project"])
        user = self._user(project, options["as_user"])
        try:
            user_map = imports.parse_user_map(options["user_map"])
            result = imports.documents_import(
                project=project,
                user=user,
                source=options["files"],
                format=options["format"],
                options={
                    "user_map": user_map,
                    "create_coders": options["create_coders"],
                    "offsets": options["offsets"],
                    "on_duplicate": options["on_duplicate"],
                    "user": options["user"],
                    "text_key": options["text_key"],
                    "text_column": options["text_column"],
                    "id_column": options["id_column"],
                    "metadata_columns": options["metadata_columns"],
                    "delimiter": options["delimiter"],
                    "discontinuous": options["discontinuous"],
                    "dry_run": options["dry_run"],
                },
                # The files are already on the server: the upload limit is for uploads.
                size_limit=False,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        except FileNotFoundError as error:
            raise CommandError(f"no such file: {error.filename}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
        else:
            self._report(result)
        if not result.ok:
            raise CommandError(f"{len(result.errors)} problem(s): nothing was imported")

    def _user(self, project: Project, username: str):
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"no user {username!r}")
            return user
        membership = project.memberships.filter(role=Role.MANAGER).order_by("user_id").first()
        if membership is None:
            raise CommandError("the project has no manager: say who imports with --as USERNAME")
        return membership.user

    def _report(self, result: imports.ImportResult) -> None:
        s = result.summary
        out = self.stdout.write
        verb = "would import" if not result.written else "imported"
        if result.ok:
            out(
                f"{verb} {s.documents_created:,} document(s), {s.spans:,} span(s), "
                f"{s.relations:,} link(s), {s.gold_spans:,} gold span(s), "
                f"{s.gold_relations:,} gold link(s); {s.documents_updated:,} updated, "
                f"{s.duplicates_skipped:,} duplicate(s) skipped, {s.records_merged:,} merged"
            )
        for name, count in sorted(s.spans_by_coder.items()):
            out(f"  {name}: {count:,} span(s)")
        if s.coders_created:
            out(f"coders created: {', '.join(s.coders_created)}")
        for duplicate in s.duplicates[:20]:
            where = duplicate["file"] + (f", line {duplicate['line']}" if duplicate["line"] else "")
            out(
                f"duplicate ({duplicate['same']}) {duplicate['external_id'] or ''} at {where}: "
                f"{duplicate['action']}"
            )
        for warning in s.warnings:
            out(f"note: {warning}")
        if s.samples:
            offsets = f" (offsets counted as {s.offsets})" if s.offsets else ""
            out(f"sample spans{offsets}:")
            for sample in s.samples:
                out(
                    f"  {sample['document']} {sample['label']} [{sample['start']}, "
                    f"{sample['end']}) {sample['text']!r}"
                )
        for error in result.errors:
            self.stderr.write(str(error))
