"""`manage.py release_abandoned`: return idle open assignments to the pool, in every project.

An open (assigned or in-progress) assignment with no activity for longer than its project's
abandon_after_hours is released; the coder's spans stay, visible to managers. "Next document"
does the same for its project each time, so this command only matters for projects nobody is
asking work from; run it from cron (hourly is plenty). Safe to run at any time, repeatedly.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from annotator.models import OPEN_STATES, Project
from annotator.services import assignments_release_abandoned


class Command(BaseCommand):
    help = "Release open assignments idle for longer than their project's abandon_after_hours."

    def handle(self, *args, **options) -> None:
        total = 0
        projects = Project.objects.filter(assignments__state__in=OPEN_STATES).distinct()
        for project in projects.order_by("pk"):
            # One batch at a time, each in its own transaction, until the project has none left.
            while released := assignments_release_abandoned(project=project):
                total += released
                self.stdout.write(f"{project.name}: released {released}")
        self.stdout.write(f"Released {total} abandoned assignment{'' if total == 1 else 's'}.")
