"""A project's codebook: labels, their attributes, relation types, and reference lists."""

from django.db import models
from django.db.models import Q

from annotator.models.projects import Project


class Label(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=50)
    colour = models.CharField(max_length=7, default="#ffd54f")
    hotkey = models.CharField(max_length=1, blank=True)
    description = models.TextField(blank=True)
    examples = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="label_name_unique"),
            models.UniqueConstraint(
                fields=["project", "hotkey"],
                condition=~Q(hotkey=""),
                name="label_hotkey_unique",
            ),
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="label_colour_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AttributeKind(models.TextChoices):
    ENUM = "enum", "One value from a list"
    MULTI_ENUM = "multi_enum", "Several values from a list"
    INTEGER = "integer", "Whole number"
    BOOLEAN = "boolean", "Yes / no"
    TEXT = "text", "Free text"
    REFERENCE = "reference", "A name from a project list"


class AttributeDefinition(models.Model):
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="attributes")
    name = models.CharField(max_length=50)
    kind = models.CharField(max_length=20, choices=AttributeKind.choices)
    # Allowed values for enum / multi_enum.
    values = models.JSONField(default=list, blank=True)
    # For reference attributes: which project list, and whether other names are accepted.
    list_name = models.CharField(max_length=50, blank=True)
    allow_other = models.BooleanField(default=True)
    default = models.JSONField(null=True, blank=True)
    help_text = models.CharField(max_length=300, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["label", "name"], name="attribute_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label.name}.{self.name}"


class RelationType(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="relation_types")
    name = models.CharField(max_length=50)
    from_label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    to_label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    # How many relations of this type one span may start: None = any.
    max_per_source = models.PositiveIntegerField(null=True, blank=True)
    # "exactly one" relations set this to 1: checked before submit, not on every save,
    # since a coder creates the claim before its source.
    min_per_source = models.PositiveIntegerField(default=0)
    hotkey = models.CharField(max_length=1, blank=True)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="relation_type_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def cardinality(self) -> str:
        if self.max_per_source is None:
            return "any" if not self.min_per_source else f"at least {self.min_per_source}"
        if self.min_per_source == self.max_per_source:
            return f"exactly {self.max_per_source}"
        return f"at most {self.max_per_source}"


class ListEntry(models.Model):
    """An entry of a project list (actors, sources, places) that reference attributes draw on."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="list_entries")
    list_name = models.CharField(max_length=50)
    name = models.CharField(max_length=200)
    aliases = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["list_name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "list_name", "name"], name="list_entry_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.list_name}: {self.name}"
