"""`manage.py agreement PROJECT --format json|csv [filters]`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from annotator.models import AgreementSnapshot, Assignment
from tests.api.helpers import make_span


@pytest.fixture
def coded(project, document, coder, other_coder):
    for who in (coder, other_coder):
        make_span(document, who, "Russian air strikes", label="ACTOR")
        Assignment.objects.create(
            project=project,
            document=document,
            coder=who,
            state="submitted",
            submitted_at=timezone.now(),
        )
    return document


def run(*args) -> str:
    out = io.StringIO()
    call_command("agreement", *args, stdout=out)
    return out.getvalue()


def test_json_report_by_project_id(project, coded):
    data = json.loads(run(str(project.pk), "--format", "json"))

    assert data["report"]["overall"]["exact_f1"]["mean"] == 1.0
    assert {c["name"] for c in data["coders"]} == {"coder", "other_coder"}


def test_csv_report_by_exact_project_name(project, coded):
    rows = list(csv.DictReader(io.StringIO(run("Syria claims", "--format", "csv"))))

    assert rows[0]["section"] == "counts"
    assert any(r["section"] == "pair" and r["coder"] == "coder" for r in rows)


def test_filters_apply(project, coded, coder):
    data = json.loads(run(str(project.pk), "--label", "LOCATION", "--coder", "coder"))

    assert data["filters"]["labels"] == ["LOCATION"]
    assert data["filters"]["coders"] == [coder.pk]


def test_the_command_stores_the_snapshot_the_page_then_reuses(project, coded):
    run(str(project.pk))
    run(str(project.pk), "--format", "csv")

    assert AgreementSnapshot.objects.filter(project=project).count() == 1


def test_writes_to_a_file(project, coded, tmp_path):
    target = tmp_path / "report.json"

    run(str(project.pk), "--output", str(target))

    assert json.loads(target.read_text())["project"] == project.pk


@pytest.mark.parametrize(
    "args, message",
    [
        (["No such project"], "no project"),
        (["{project}", "--label", "NOPE"], "unknown label"),
        (["{project}", "--coder", "nobody"], "no coder"),
        (["{project}", "--documents", "1,x"], "not a list of document ids"),
    ],
)
def test_bad_arguments_are_explained(project, args, message):
    with pytest.raises(CommandError, match=message):
        run(*(a.format(project=project.pk) for a in args))
