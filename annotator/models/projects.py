from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    MANAGER = "manager", "Manager"
    ADJUDICATOR = "adjudicator", "Adjudicator"
    CODER = "coder", "Coder"


class AssignmentMode(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic: coders take the next document"
    MANUAL = "manual", "Manual: managers assign documents"


class DocumentOrder(models.TextChoices):
    IMPORT = "import", "Import order"
    RANDOM = "random", "Random (seeded)"


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user) -> "ProjectQuerySet":
        """Projects the user is a member of, in any role. Start every lookup here."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user).distinct()


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Coding guidelines in Markdown, written by the manager; rendered sanitised.
    guidelines = models.TextField(blank=True)
    # Whether spans of one coder may overlap or nest (the default codebook says no).
    allow_overlap = models.BooleanField(default=False)
    # How many coders code each document independently.
    overlap_k = models.PositiveSmallIntegerField(default=2)
    assignment_mode = models.CharField(
        max_length=20, choices=AssignmentMode.choices, default=AssignmentMode.AUTOMATIC
    )
    document_order = models.CharField(
        max_length=20, choices=DocumentOrder.choices, default=DocumentOrder.IMPORT
    )
    random_seed = models.PositiveIntegerField(default=0)
    # An open assignment with no activity for this long returns to the pool.
    abandon_after_hours = models.PositiveIntegerField(default=72)
    # Shown to coders next to their names: a manager may hide coder names from adjudicators.
    hide_coder_names = models.BooleanField(default=False)
    # Bumped by every codebook change; annotations remember the version they were made under.
    codebook_version = models.PositiveIntegerField(default=1)
    # The number lexicon per language ({"en": {...}}, the shape of claims/lexicon_en.json),
    # as a manager edited it; a language without an entry uses the shipped lexicon.
    # db_default: SQLite then adds the column in place (see Document.shuffle_key).
    lexicon = models.JSONField(default=dict, blank=True, db_default={})
    # Codes of pre-submit findings (annotator.claims.checks) that make submitting refuse.
    blocking_checks = models.JSONField(default=list, blank=True, db_default=[])
    # Suggested spans on the coding screen (annotator/claims/suggest.py). Off unless a manager
    # turns it on, so that blind coding studies stay unprimed.
    suggestions_enabled = models.BooleanField(default=False, db_default=False)
    created = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overlap_k__gte=1) & models.Q(overlap_k__lte=10),
                name="project_overlap_k_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def roles_of(self, user) -> set[str]:
        return set(self.memberships.filter(user=user).values_list("role", flat=True))


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.project}"
