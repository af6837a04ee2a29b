from annotator.models import Annotation, AuditEvent, Relation


def span_snapshot(span: Annotation) -> dict:
    return {
        "id": span.pk,
        "label_id": span.label_id,
        "start": span.start,
        "end": span.end,
        "text": span.text,
        "attributes": span.attributes,
        "version": span.version,
    }


def relation_snapshot(relation: Relation) -> dict:
    return {
        "id": relation.pk,
        "type_id": relation.type_id,
        "source_id": relation.source_id,
        "target_id": relation.target_id,
    }


def record(*, user, document, action: str, obj, before=None, after=None, undone=False) -> None:
    AuditEvent.objects.create(
        project_id=document.project_id,
        document=document,
        user=user,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=obj.pk,
        before=before,
        after=after,
        undone=undone,
    )
