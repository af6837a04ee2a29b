"""What the API reads and writes.

Output serializers describe rows and codebook snapshots. Input serializers check only shapes
and types (an integer, an object, a string); every rule about the data itself (bounds, quotes,
labels, attributes, relation types) belongs to `annotator.services`, whose ValidationError
becomes a 400 in `errors.py`. Quotes and document text are never trimmed: offsets count every
character.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotator.codebook import get_codebook
from annotator.guidelines import render_markdown
from annotator.models import Annotation, Assignment, AssignmentState, Document, Project, Relation

# -- Projects and their codebooks ------------------------------------------------------------


class AttributeSpecSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    values = serializers.ListField(child=serializers.JSONField(), help_text="enum values")
    list_name = serializers.CharField(help_text="the project list a reference draws on")
    list_values = serializers.ListField(child=serializers.CharField())
    allow_other = serializers.BooleanField(help_text="whether a reference may name others")
    default = serializers.JSONField(allow_null=True)
    help_text = serializers.CharField()


class LabelSpecSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    colour = serializers.CharField()
    hotkey = serializers.CharField()
    enabled = serializers.BooleanField()
    description = serializers.CharField()
    examples = serializers.CharField()
    attributes = AttributeSpecSerializer(many=True)


class RelationTypeSpecSerializer(serializers.Serializer):
    """A relation type with its labels by name; needs the codebook in its context."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    from_label = serializers.SerializerMethodField()
    to_label = serializers.SerializerMethodField()
    cardinality = serializers.CharField()
    min_per_source = serializers.IntegerField()
    max_per_source = serializers.IntegerField(allow_null=True)
    hotkey = serializers.CharField()
    description = serializers.CharField()

    def get_from_label(self, relation_type) -> str:
        return self.context["codebook"].label_by_id(relation_type.from_label_id).name

    def get_to_label(self, relation_type) -> str:
        return self.context["codebook"].label_by_id(relation_type.to_label_id).name


class CodebookSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    allow_overlap = serializers.BooleanField()
    labels = LabelSpecSerializer(many=True)
    relation_types = serializers.SerializerMethodField()

    @extend_schema_field(RelationTypeSpecSerializer(many=True))
    def get_relation_types(self, codebook) -> list:
        context = {"codebook": codebook}
        return RelationTypeSpecSerializer(codebook.relation_types, many=True, context=context).data


class ProjectSerializer(serializers.ModelSerializer):
    """A project and the requesting user's roles in it (prefetched as `my_memberships`)."""

    roles = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "roles"]
        read_only_fields = fields

    def get_roles(self, project) -> list[str]:
        return sorted(membership.role for membership in project.my_memberships)


class ProjectDetailSerializer(ProjectSerializer):
    codebook = serializers.SerializerMethodField()
    guidelines = serializers.CharField(
        read_only=True, help_text="The manager's coding guidelines, in Markdown"
    )
    guidelines_html = serializers.SerializerMethodField(
        help_text="The guidelines rendered to HTML and sanitised (safe to insert in a page)"
    )

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "codebook", "guidelines", "guidelines_html"]
        read_only_fields = fields

    def get_guidelines_html(self, project) -> str:
        return render_markdown(project.guidelines)

    @extend_schema_field(CodebookSerializer)
    def get_codebook(self, project) -> dict:
        return CodebookSerializer(get_codebook(project)).data


# -- Documents -------------------------------------------------------------------------------

DOCUMENT_FIELDS = ["id", "title", "outlet", "url", "published", "language", "external_id"]


class DocumentSerializer(serializers.ModelSerializer):
    """A document in a list: everything but its text."""

    class Meta:
        model = Document
        fields = [*DOCUMENT_FIELDS, "position", "created"]
        read_only_fields = fields


class DocumentDetailSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = [
            *DOCUMENT_FIELDS,
            "project",
            "metadata",
            "content_hash",
            "position",
            "created",
            "text",
        ]
        read_only_fields = fields


class DocumentCreateSerializer(serializers.Serializer):
    """One document; `services.document_create` checks the text and the fields' lengths."""

    text = serializers.CharField(trim_whitespace=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True)
    outlet = serializers.CharField(required=False, allow_blank=True)
    url = serializers.URLField(required=False, allow_blank=True)
    published = serializers.DateField(required=False, allow_null=True)
    language = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(required=False, allow_blank=True)
    metadata = serializers.DictField(required=False)


# -- Annotations -----------------------------------------------------------------------------


class AnnotationSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    coder = serializers.CharField(source="coder.username", read_only=True)
    attributes = serializers.DictField(read_only=True)

    class Meta:
        model = Annotation
        fields = [
            "id",
            "document",
            "label",
            "start",
            "end",
            "text",
            "attributes",
            "coder",
            "version",
        ]
        read_only_fields = fields

    def get_label(self, span: Annotation) -> str:
        # Writes pass the codebook's names in the context: the label row is not read again
        # just to name it in the answer.
        names = self.context.get("label_names")
        if names and span.label_id in names:
            return names[span.label_id]
        return span.label.name


class AnnotationCreateSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="a label name from the project's codebook")
    start = serializers.IntegerField(help_text="code-point offset, inclusive")
    end = serializers.IntegerField(help_text="code-point offset, exclusive")
    text = serializers.CharField(
        trim_whitespace=False, allow_blank=True, help_text="the quote: document.text[start:end]"
    )
    attributes = serializers.DictField(required=False)
    client_id = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        help_text="chosen by the client; a repeated POST with it returns the first span",
    )


class AnnotationUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="the version the client last read")
    label = serializers.CharField(required=False)
    attributes = serializers.DictField(required=False, help_text="replaces all attributes")
    start = serializers.IntegerField(required=False)
    end = serializers.IntegerField(required=False)
    text = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True)

    # The view never validates this partially: `version` is required even in a PATCH. The
    # schema generator marks every field of a PATCH body optional by setting `partial`; pin
    # it to False so the schema says what the view does.
    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="the version the client last read")


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField(
        allow_null=True, help_text="null when the span was deleted meanwhile"
    )


# -- Relations -------------------------------------------------------------------------------


class RelationSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="type.name", read_only=True)
    source = serializers.IntegerField(source="source_id", read_only=True)
    target = serializers.IntegerField(source="target_id", read_only=True)
    coder = serializers.CharField(source="coder.username", read_only=True)

    class Meta:
        model = Relation
        fields = ["id", "document", "type", "source", "target", "coder"]
        read_only_fields = fields


class RelationCreateSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="a relation type name from the project's codebook")
    source = serializers.IntegerField(help_text="id of one of your spans in this document")
    target = serializers.IntegerField(help_text="id of one of your spans in this document")
    client_id = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=64
    )


# -- Assignments -----------------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    document_title = serializers.CharField(source="document.title", read_only=True)
    coder = serializers.CharField(source="coder.username", read_only=True)
    assigned_by = serializers.CharField(
        source="assigned_by.username",
        read_only=True,
        allow_null=True,
        help_text="the manager who assigned it; null when the coder took it",
    )
    active_seconds = serializers.IntegerField(
        read_only=True, help_text="measured time with the coding page in focus and in use"
    )

    class Meta:
        model = Assignment
        fields = [
            "id",
            "project",
            "document",
            "document_title",
            "coder",
            "state",
            "assigned_by",
            "created",
            "started_at",
            "submitted_at",
            "released_at",
            "last_activity_at",
            "active_seconds",
        ]
        read_only_fields = fields


class AssignmentFilterSerializer(serializers.Serializer):
    coder = serializers.CharField(required=False, help_text="a coder's username (managers)")
    state = serializers.ChoiceField(choices=AssignmentState.choices, required=False)


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="which check, e.g. claim_without_source")
    message = serializers.CharField()
    span_ids = serializers.ListField(child=serializers.CharField(), help_text="the spans concerned")
    severity = serializers.CharField()


class SubmittedSerializer(serializers.Serializer):
    assignment = AssignmentSerializer()
    warnings = FindingSerializer(many=True, help_text="what the pre-submit checks found")


# -- Authentication --------------------------------------------------------------------------


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
