from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Window,
)
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from annotator.codebook import install_codebook, load_default_codebook
from annotator.models import (
    ACTIVE_STATES,
    OPEN_STATES,
    Annotation,
    Assignment,
    AssignmentState,
    AuditEvent,
    Document,
    Membership,
    Project,
    Role,
)
from annotator.models.documents import content_hash, normalise_newlines
from annotator.models.projects import AssignmentMode, DocumentOrder
from annotator.services.assignments import (
    ALREADY_ASSIGNED,
    DOCUMENT_FULL,
    NOT_A_CODER,
    assignment_create,
    assignment_release,
    shuffle_key,
)

TEXT_REQUIRED = "is required and must not be empty"
TEXT_TOO_LONG = "is {length} characters long; the longest allowed is {limit}"
BAD_DATE = "{value!r} is not a date (use YYYY-MM-DD)"
TEXT_UNSTORABLE = (
    "contains a character that cannot be stored ({char}) at position {position}; "
    "remove it and import again"
)
# PostgreSQL text cannot hold NUL, and no database (nor the content hash) can encode a lone
# surrogate: refuse them here rather than fail, differently per database, on save.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
DOCUMENT_FIELDS = ("title", "outlet", "url", "language", "external_id")


@transaction.atomic
def project_create(
    *, name: str, created_by, codebook: dict | None = None, description: str = ""
) -> Project:
    """A new project with the default codebook (or `codebook`); its creator manages it."""
    project = Project.objects.create(name=name, description=description)
    install_codebook(project, codebook or load_default_codebook())
    Membership.objects.create(project=project, user=created_by, role=Role.MANAGER)
    return project


def member_add(*, project: Project, user, role: str) -> Membership:
    membership, _ = Membership.objects.get_or_create(project=project, user=user, role=role)
    return membership


def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({"published": [BAD_DATE.format(value=value)]}) from None


@transaction.atomic
def document_create(
    *,
    project: Project,
    text: Any,
    title: str = "",
    outlet: str = "",
    url: str = "",
    published: Any = None,
    language: str = "",
    external_id: str = "",
    metadata: dict | None = None,
) -> Document:
    """Store a document. CRLF (and lone CR) become LF; nothing else is normalised."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError({"text": [TEXT_REQUIRED]})
    text = normalise_newlines(text)
    if bad := _UNSTORABLE.search(text):
        char = f"U+{ord(bad.group()):04X}"
        raise ValidationError({"text": [TEXT_UNSTORABLE.format(char=char, position=bad.start())]})
    limit = settings.ANNOTATOR_MAX_DOCUMENT_LENGTH
    if len(text) > limit:
        raise ValidationError({"text": [TEXT_TOO_LONG.format(length=len(text), limit=limit)]})
    if metadata is not None and not isinstance(metadata, dict):
        raise ValidationError({"metadata": ["must be an object"]})
    position = (project.documents.aggregate(m=Max("position"))["m"] or 0) + 1
    document = Document(
        project=project,
        text=text,
        title=title or "",
        outlet=outlet or "",
        url=url or "",
        published=_parse_date(published),
        language=language or "",
        external_id=external_id or "",
        metadata=metadata or {},
        content_hash=content_hash(text),
        position=position,
        shuffle_key=shuffle_key(project.random_seed, position),
    )
    document.full_clean(exclude=["project", "text", "content_hash", "metadata"])
    document.save()
    return document


# --- Project settings (managers) ------------------------------------------------------------

NAME_REQUIRED = "a project needs a name"
NAME_TOO_LONG = "is {length} characters long; the longest allowed is {limit}"
NOT_A_WHOLE_NUMBER = "must be a whole number, got {value!r}"
OUT_OF_RANGE = "must be between {low} and {high}, got {value}"
NOT_A_CHOICE = "{value!r} is not one of: {choices}"
NOT_A_BOOLEAN = "must be yes or no, got {value!r}"

OVERLAP_K_RANGE = (1, 10)
SEED_RANGE = (0, 2_147_483_647)
ABANDON_HOURS_RANGE = (1, 24 * 365)
SETTINGS_FIELDS = (
    "name",
    "description",
    "overlap_k",
    "assignment_mode",
    "document_order",
    "random_seed",
    "abandon_after_hours",
    "hide_coder_names",
    "suggestions_enabled",
)


def _whole(errors: dict, field: str, value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        errors[field] = [NOT_A_WHOLE_NUMBER.format(value=value)]
        return None
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        errors[field] = [NOT_A_WHOLE_NUMBER.format(value=value)]
        return None
    if not low <= number <= high:
        errors[field] = [OUT_OF_RANGE.format(low=low, high=high, value=number)]
        return None
    return number


def _boolean(errors: dict, field: str, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    errors[field] = [NOT_A_BOOLEAN.format(value=value)]
    return None


def _clean_settings(changes: dict[str, Any]) -> dict[str, Any]:
    """The settings as they will be stored; ValidationError naming every field at fault."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "name" in changes:
        name = str(changes["name"] or "").strip()
        limit = Project._meta.get_field("name").max_length
        if not name:
            errors["name"] = [NAME_REQUIRED]
        elif len(name) > limit:
            errors["name"] = [NAME_TOO_LONG.format(length=len(name), limit=limit)]
        clean["name"] = name
    if "description" in changes:
        clean["description"] = str(changes["description"] or "").strip()
    for field, (low, high) in (
        ("overlap_k", OVERLAP_K_RANGE),
        ("random_seed", SEED_RANGE),
        ("abandon_after_hours", ABANDON_HOURS_RANGE),
    ):
        if field in changes:
            clean[field] = _whole(errors, field, changes[field], low, high)
    for field, choices in (
        ("assignment_mode", AssignmentMode.values),
        ("document_order", DocumentOrder.values),
    ):
        if field in changes:
            if changes[field] not in choices:
                errors[field] = [
                    NOT_A_CHOICE.format(value=changes[field], choices=", ".join(choices))
                ]
            clean[field] = changes[field]
    for field in ("hide_coder_names", "suggestions_enabled"):
        if field in changes:
            clean[field] = _boolean(errors, field, changes[field])
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def project_update(
    *,
    project: Project,
    user,
    name: str | None = None,
    description: str | None = None,
    overlap_k: Any = None,
    assignment_mode: str | None = None,
    document_order: str | None = None,
    random_seed: Any = None,
    abandon_after_hours: Any = None,
    hide_coder_names: Any = None,
    suggestions_enabled: Any = None,
) -> Project:
    """Change a project's settings; None leaves a setting as it is.

    A new seed or order recomputes every document's shuffle key at once, so the queue's order
    is always the one the settings say. Lowering k never takes work away from anyone: documents
    that already have more coders simply count as full.
    """
    given = {
        "name": name,
        "description": description,
        "overlap_k": overlap_k,
        "assignment_mode": assignment_mode,
        "document_order": document_order,
        "random_seed": random_seed,
        "abandon_after_hours": abandon_after_hours,
        "hide_coder_names": hide_coder_names,
        "suggestions_enabled": suggestions_enabled,
    }
    clean = _clean_settings({field: value for field, value in given.items() if value is not None})
    project.refresh_from_db(from_queryset=Project.objects.select_for_update())
    before = {field: getattr(project, field) for field in clean}
    changed = {field: value for field, value in clean.items() if before[field] != value}
    if not changed:
        return project
    for field, value in changed.items():
        setattr(project, field, value)
    project.save(update_fields=list(changed))
    if changed.keys() & {"random_seed", "document_order"}:
        documents_reshuffle(project=project)
    if "overlap_k" in changed:
        # The work queue's flag follows k; the counts themselves do not change.
        project.documents.update(
            needs_coders=ExpressionWrapper(
                Q(live_coders__lt=project.overlap_k), output_field=BooleanField()
            )
        )
    AuditEvent.objects.create(
        project=project,
        user=user,
        action="project.update",
        object_type="project",
        object_id=project.pk,
        before={field: before[field] for field in changed},
        after=changed,
    )
    return project


def documents_reshuffle(*, project: Project) -> int:
    """Recompute every document's place in the seeded random order (one bulk update)."""
    documents = list(project.documents.only("id", "position"))
    for document in documents:
        document.shuffle_key = shuffle_key(project.random_seed, document.position)
    Document.objects.bulk_update(documents, ["shuffle_key"], batch_size=1000)
    return len(documents)


# --- Members (managers) and accounts (site staff) -------------------------------------------

NO_SUCH_USER = "there is no user called {username!r}"
USERNAME_REQUIRED = "type a username"
NO_ROLES = "choose at least one role"
UNKNOWN_ROLE = "{role!r} is not a role; the roles are: manager, adjudicator, coder"
NOT_A_MEMBER = "{username} is not a member of this project"
NO_SUCH_ROLE = "{username} is not a {role} in this project"
LAST_MANAGER = "{username} is the project's last manager: make someone else a manager first"
USERNAME_TAKEN = "the username {username!r} is already taken"


def _roles(raw) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    roles = list(dict.fromkeys(str(role).strip() for role in raw or [] if str(role).strip()))
    if not roles:
        raise ValidationError({"roles": [NO_ROLES]})
    unknown = [role for role in roles if role not in Role.values]
    if unknown:
        raise ValidationError({"roles": [UNKNOWN_ROLE.format(role=role) for role in unknown]})
    return roles


def _record_membership(project: Project, by, action: str, member, before, after) -> None:
    AuditEvent.objects.create(
        project=project,
        user=by,
        action=action,
        object_type="membership",
        object_id=member.pk,
        before={"username": member.get_username(), "roles": before} if before is not None else None,
        after={"username": member.get_username(), "roles": after} if after is not None else None,
    )


@transaction.atomic
def membership_add(*, project: Project, username: str, roles, by) -> list[Membership]:
    """Give the user called `username` these roles in the project (roles they already hold
    are kept). Returns all their memberships in the project."""
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    user = None
    if not username:
        errors["username"] = [USERNAME_REQUIRED]
    else:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            errors["username"] = [NO_SUCH_USER.format(username=username)]
    try:
        wanted = _roles(roles)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    held = sorted(project.memberships.filter(user=user).values_list("role", flat=True))
    for role in wanted:
        Membership.objects.get_or_create(project=project, user=user, role=role)
    memberships = list(project.memberships.filter(user=user).order_by("role"))
    now_held = sorted(membership.role for membership in memberships)
    if now_held != held:
        _record_membership(project, by, "membership.add", user, held or None, now_held)
    return memberships


@transaction.atomic
def membership_remove(*, project: Project, user, by, role: str | None = None) -> int:
    """Take one role (or, without `role`, every role) away from a member.

    The last manager cannot be removed. A coder's work stays: their spans, relations and
    submitted assignments are kept for managers and adjudicators; their open assignments are
    released so that the documents go back to the pool. Returns how many roles were removed.
    """
    # Lock the managers' rows: two managers removing each other at once must not both succeed.
    managers = set(
        Membership.objects.select_for_update()
        .filter(project=project, role=Role.MANAGER)
        .values_list("user_id", flat=True)
    )
    if role is not None:
        _roles([role])
    held = sorted(project.memberships.filter(user=user).values_list("role", flat=True))
    username = user.get_username()
    if not held:
        raise ValidationError({"user": [NOT_A_MEMBER.format(username=username)]})
    removing = held if role is None else [role]
    if role is not None and role not in held:
        raise ValidationError({"role": [NO_SUCH_ROLE.format(username=username, role=role)]})
    if Role.MANAGER in removing and managers == {user.pk}:
        raise ValidationError({"user": [LAST_MANAGER.format(username=username)]})
    if Role.CODER in removing:
        open_work = Assignment.objects.filter(project=project, coder=user, state__in=OPEN_STATES)
        for assignment in open_work.select_related("document"):
            assignment_release(assignment=assignment, user=by)
    removed, _ = project.memberships.filter(user=user, role__in=removing).delete()
    remaining = [held_role for held_role in held if held_role not in removing]
    _record_membership(project, by, "membership.remove", user, held, remaining or None)
    return removed


@transaction.atomic
def user_create(*, username: str, password: str = "") -> tuple[Any, str]:
    """A new account (site staff only). Without a password one is generated. Returns the user
    and the password, which is shown once and stored only as a hash."""
    User = get_user_model()
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = [USERNAME_REQUIRED]
    else:
        username_field = User._meta.get_field(User.USERNAME_FIELD)
        try:
            username_field.clean(username, None)
        except ValidationError as error:
            errors["username"] = list(error.messages)
        # Case-insensitively: "Amira" and "amira" would be two people to the app, one to a team.
        if "username" not in errors and User.objects.filter(username__iexact=username).exists():
            errors["username"] = [USERNAME_TAKEN.format(username=username)]
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    else:
        try:
            validate_password(password, user=User(username=username))
        except ValidationError as error:
            errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(username=username, password=password)
    return user, password


# --- Manual assignment (managers) ------------------------------------------------------------

MAX_BULK_DOCUMENTS = 1000
SAME_CODER = "document {document} is already assigned to {username}"


class SkipReason:
    ALREADY_ASSIGNED = "already assigned"
    DOCUMENT_FULL = "document full"
    NOT_A_CODER = "not a coder"
    REFUSED = "refused"  # any other refusal; the message says why


@dataclass(frozen=True)
class Skipped:
    document_id: int
    username: str
    reason: str  # one of SkipReason
    message: str  # the service's own words


@dataclass
class BulkAssignment:
    created: list[Assignment] = dataclasses.field(default_factory=list)
    skipped: list[Skipped] = dataclasses.field(default_factory=list)

    def skipped_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for skip in self.skipped:
            counts[skip.reason] = counts.get(skip.reason, 0) + 1
        return counts


def _skip_reason(error: ValidationError, project: Project, document: Document, coder) -> str:
    """Which of assignment_create's refusals this is, from its message constants."""
    username, document_id = coder.get_username(), document.pk
    full = DOCUMENT_FULL.format(document=document_id, k=project.overlap_k)
    already = ALREADY_ASSIGNED.format(username=username, document=document_id)
    reasons = {
        full: SkipReason.DOCUMENT_FULL,
        already: SkipReason.ALREADY_ASSIGNED,
        NOT_A_CODER.format(username=username): SkipReason.NOT_A_CODER,
    }
    return next(
        (reasons[message] for message in error.messages if message in reasons), SkipReason.REFUSED
    )


@transaction.atomic
def assignments_create_bulk(*, project: Project, documents, coders, assigned_by) -> BulkAssignment:
    """Assign each document to as many of `coders` as it has free slots, spreading the
    documents evenly over the coders (each document starts with the next coder in turn).

    Every pair goes through `assignment_create`, so the k limit and the one-live-assignment
    rule hold as they do everywhere; a pair it refuses is reported with the reason. Once a
    document is full, its remaining coders are reported as skipped without asking again.
    """
    result = BulkAssignment()
    coders = list(coders)
    if not coders:
        return result
    for index, document in enumerate(documents):
        start = (index * project.overlap_k) % len(coders)
        turn = coders[start:] + coders[:start]
        full_message = ""
        for coder in turn:
            if full_message:
                result.skipped.append(
                    Skipped(
                        document.pk, coder.get_username(), SkipReason.DOCUMENT_FULL, full_message
                    )
                )
                continue
            try:
                assignment = assignment_create(
                    project=project, document=document, coder=coder, assigned_by=assigned_by
                )
            except ValidationError as error:
                reason = _skip_reason(error, project, document, coder)
                message = error.messages[0]
                if reason == SkipReason.DOCUMENT_FULL:
                    full_message = message
                result.skipped.append(Skipped(document.pk, coder.get_username(), reason, message))
            else:
                result.created.append(assignment)
    return result


@transaction.atomic
def assignment_reassign(*, assignment: Assignment, to_coder, by) -> Assignment:
    """Release an open assignment and give the document to another coder, both or neither.
    The first coder's spans stay, visible to managers."""
    if to_coder.pk == assignment.coder_id:
        raise ValidationError(
            {
                "coder": [
                    SAME_CODER.format(
                        document=assignment.document_id, username=to_coder.get_username()
                    )
                ]
            }
        )
    assignment_release(assignment=assignment, user=by)
    return assignment_create(
        project=assignment.project, document=assignment.document, coder=to_coder, assigned_by=by
    )


# --- Reads for the manager's screens and the API (no writes below) -------------------------


class DocumentState:
    """Where a document is, from its live and submitted assignments; each is in exactly one."""

    NEEDS_CODERS = "needs_coders"  # fewer live coders than k
    IN_PROGRESS = "in_progress"  # k live coders, fewer than k submitted
    FULLY_CODED = "fully_coded"  # k submitted
    ADJUDICATED = "adjudicated"  # adjudication has started (whatever the assignments say)

    CHOICES = (
        (NEEDS_CODERS, "Needs coders"),
        (IN_PROGRESS, "In progress"),
        (FULLY_CODED, "Fully coded"),
        (ADJUDICATED, "Adjudicated"),
    )
    LABELS = dict(CHOICES)


def document_state(*, live: int, submitted: int, k: int, adjudicated: bool) -> str:
    if adjudicated:
        return DocumentState.ADJUDICATED
    if submitted >= k:
        return DocumentState.FULLY_CODED
    if live >= k:
        return DocumentState.IN_PROGRESS
    return DocumentState.NEEDS_CODERS


def _state_filters(k: int) -> dict[str, Q]:
    """The states as conditions on a document's coder counts (kept by the assignment
    services: Document.live_coders, submitted_coders)."""
    open_ = Q(adjudication_started_at__isnull=True)
    return {
        DocumentState.NEEDS_CODERS: open_ & Q(live_coders__lt=k),
        DocumentState.IN_PROGRESS: open_ & Q(live_coders__gte=k, submitted_coders__lt=k),
        DocumentState.FULLY_CODED: open_ & Q(submitted_coders__gte=k),
        DocumentState.ADJUDICATED: ~open_,
    }


def documents_matching(
    project: Project,
    *,
    state: str = "",
    title: str = "",
    id_from: int | None = None,
    id_to: int | None = None,
):
    """The project's documents (without text, in import order) in `state`, with `title` in
    their title, their ids within [id_from, id_to]. Empty filters match everything."""
    documents = project.documents.without_text().order_by("position", "id")
    if title:
        documents = documents.filter(title__icontains=title)
    if id_from is not None:
        documents = documents.filter(pk__gte=id_from)
    if id_to is not None:
        documents = documents.filter(pk__lte=id_to)
    if state:
        documents = documents.filter(_state_filters(project.overlap_k)[state])
    return documents


@dataclass(frozen=True)
class DocumentCounts:
    total: int
    needs_coders: int
    in_progress: int
    fully_coded: int
    adjudicated: int


@dataclass(frozen=True)
class CoderProgress:
    user_id: int
    username: str
    is_member: bool  # False for someone who coded here and has since been removed
    assigned: int  # live assignments: not started, in progress and submitted
    in_progress: int
    submitted: int
    annotations: int
    median_active_minutes: float | None  # over their submitted documents; None before any

    @property
    def not_started(self) -> int:
        return self.assigned - self.in_progress - self.submitted


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    submitted: int


@dataclass(frozen=True)
class Progress:
    documents: DocumentCounts
    coders: list[CoderProgress]
    throughput: list[DayCount]  # one entry per day, oldest first, today last


# How long the dashboard's figures may be reused while nothing in the project changed.
PROGRESS_CACHE_SECONDS = 30


def project_progress(project: Project, *, days: int = 30, today: dt.date | None = None) -> Progress:
    """The dashboard's numbers in a fixed number of queries, however many coders, documents
    and assignments the project has: every figure is an aggregate in the database, the
    documents' from their kept coder counts.

    They are reused (for PROGRESS_CACHE_SECONDS at most) while the project's progress version
    stays the same: the dashboard refreshes itself every few seconds in every manager's
    browser, and an idle project need not be counted again each time."""
    today = today or timezone.localdate()
    key = f"annotator:progress:{_progress_version(project)}:{days}:{today.isoformat()}"
    progress = cache.get(key)
    if progress is None:
        progress = Progress(
            documents=_document_counts(project),
            coders=_coder_progress(project),
            throughput=_throughput(project, days=days, today=today),
        )
        cache.set(key, progress, PROGRESS_CACHE_SECONDS)
    return progress


def _progress_version(project: Project) -> str:
    """Changes whenever a figure of the dashboard may have: every change of an assignment, a
    span, a link, a member or the settings writes an audit event (services.audit), and a new
    document takes the next position. One query on two indexes."""

    def last(rows, field: str) -> Subquery:
        return Subquery(rows.filter(project=OuterRef("pk")).order_by(f"-{field}").values(field)[:1])

    latest = (
        Project.objects.filter(pk=project.pk)
        .annotate(event=last(AuditEvent.objects, "id"), position=last(Document.objects, "position"))
        .values_list("created", "overlap_k", "event", "position")
        .first()
    )
    if latest is None:  # the project is gone: nothing to reuse
        return f"{project.pk}:gone"
    created, *rest = latest
    return ":".join(str(part) for part in (project.pk, created.timestamp(), *rest))


def _document_counts(project: Project) -> DocumentCounts:
    filters = _state_filters(project.overlap_k)
    counts = project.documents.order_by().aggregate(
        total=Count("pk"),
        **{state: Count("pk", filter=condition) for state, condition in filters.items()},
    )
    return DocumentCounts(**counts)


def _coder_progress(project: Project) -> list[CoderProgress]:
    submitted = Q(state=AssignmentState.SUBMITTED)
    figures = {
        "assigned": Count("pk"),
        "in_progress": Count("pk", filter=Q(state=AssignmentState.IN_PROGRESS)),
        "submitted": Count("pk", filter=submitted),
    }
    on_postgresql = connection.vendor == "postgresql"
    if on_postgresql:
        # The medians in the same pass over the assignments (an ordered-set aggregate).
        figures["median"] = _Median("active_seconds", filter=submitted)
    counts = {
        row.pop("coder_id"): row
        for row in Assignment.objects.filter(project=project, state__in=ACTIVE_STATES)
        .values("coder_id")
        .annotate(**figures)
        .order_by()
    }
    if on_postgresql:
        medians = {coder_id: row.pop("median") for coder_id, row in counts.items()}
    else:
        medians = _median_active_seconds(project)
    annotations = dict(
        Annotation.objects.alive()
        .filter(document__project=project)
        .values("coder_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("coder_id", "n")
    )
    # The project's coders, and anyone else who worked here (a coder removed since).
    is_coder = Exists(
        Membership.objects.filter(project=project, role=Role.CODER, user=OuterRef("pk"))
    )
    people = (
        get_user_model()
        .objects.filter(Q(is_coder) | Q(pk__in=counts.keys() | annotations.keys()))
        .annotate(is_member=is_coder)
        .values_list("pk", "username", "is_member")
    )
    empty = {"assigned": 0, "in_progress": 0, "submitted": 0}
    coders = [
        CoderProgress(
            user_id=user_id,
            username=username,
            is_member=is_member,
            annotations=annotations.get(user_id, 0),
            median_active_minutes=None
            if medians.get(user_id) is None
            else round(medians[user_id] / 60, 1),
            **counts.get(user_id, empty),
        )
        for user_id, username, is_member in people
    ]
    return sorted(coders, key=lambda coder: (not coder.is_member, coder.username.lower()))


class _Median(Aggregate):
    """PostgreSQL's exact median of a column (an ordered-set aggregate)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _median_active_seconds(project: Project) -> dict[int, float]:
    """Each coder's median active time per submitted document, computed in the database so
    that only one row per coder comes back (SQLite; PostgreSQL's come with the counts)."""
    submitted = Assignment.objects.filter(
        project=project, state=AssignmentState.SUBMITTED
    ).order_by()
    # With window functions: rank each coder's submitted assignments by active time and keep
    # the middle row, or the middle two, of each: n <= 2 * rank <= n + 2.
    ranked = (
        submitted.annotate(
            rank=Window(
                RowNumber(), partition_by=F("coder_id"), order_by=F("active_seconds").asc()
            ),
            of=Window(Count("pk"), partition_by=F("coder_id")),
        )
        .alias(twice=F("rank") * 2)
        .filter(twice__gte=F("of"), twice__lte=F("of") + 2)
        .values_list("coder_id", "active_seconds")
    )
    middles: dict[int, list[int]] = {}
    for coder_id, seconds in ranked:
        middles.setdefault(coder_id, []).append(seconds)
    return {coder_id: sum(values) / len(values) for coder_id, values in middles.items()}


def _throughput(project: Project, *, days: int, today: dt.date) -> list[DayCount]:
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time.min, tzinfo=timezone.get_current_timezone())
    rows = dict(
        Assignment.objects.filter(
            project=project, state=AssignmentState.SUBMITTED, submitted_at__gte=since
        )
        .annotate(day=TruncDate("submitted_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("day", "n")
    )
    return [
        DayCount(day=day, submitted=rows.get(day, 0))
        for day in (first + dt.timedelta(days=offset) for offset in range(days))
    ]
