"""The manager's screens: new projects and accounts, settings, members, manual assignment,
the dashboard and the history pages.

Each view: the project through `access` (managers only: anyone else gets a 404), a form that
parses the input, one service from annotator.services.projects, then a redirect (plain posts)
or the re-rendered section (htmx; 422 with the form's errors when a change is refused).
Fragments are partials of the page templates in templates/annotator/manage/, picked by the
id of the element htmx swaps (HX-Target).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotator import access
from annotator.models import (
    ACTIVE_STATES,
    Assignment,
    AssignmentState,
    AuditEvent,
    Membership,
    Project,
    Role,
)
from annotator.models.projects import AssignmentMode, DocumentOrder
from annotator.services import assignments as assignment_services
from annotator.services import projects as services
from annotator.services.projects import DocumentState

PAGE_SIZE = 50
THROUGHPUT_DAYS = 30
HTMX_ERROR = 422


def _managed_project(request, project_id: int) -> Project:
    return access.get_project_for_user(request.user, project_id, roles={Role.MANAGER})


# --- Forms: they parse the input; the services decide what is allowed ----------------------


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    overlap_k = forms.IntegerField(
        label="Coders per document (k)",
        widget=forms.NumberInput(attrs={"min": 1, "max": 10}),
        help_text="How many coders code each document independently (1 to 10).",
    )
    assignment_mode = forms.ChoiceField(choices=AssignmentMode.choices, widget=forms.RadioSelect)
    document_order = forms.ChoiceField(choices=DocumentOrder.choices, widget=forms.RadioSelect)
    random_seed = forms.IntegerField(
        label="Seed of the random order",
        widget=forms.NumberInput(attrs={"min": 0}),
        help_text="The same seed always gives the same order; a new seed reshuffles.",
    )
    abandon_after_hours = forms.IntegerField(
        label="Return idle work to the pool after (hours)",
        widget=forms.NumberInput(attrs={"min": 1}),
    )
    hide_coder_names = forms.BooleanField(
        required=False, label="Hide coder names from adjudicators"
    )
    suggestions_enabled = forms.BooleanField(
        required=False,
        label="Suggest spans to coders",
        help_text=(
            "Marks likely claims, sources, actors and places (from the project's lists and the "
            "Syria gazetteer) as dashed suggestions coders accept or reject. Leave off for "
            "blind coding studies."
        ),
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": services.NO_ROLES},
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to generate one; it is shown once, after the account is created.",
    )


STATE_FILTER_CHOICES = [("", "All states"), *DocumentState.CHOICES]


class DocumentFilterForm(forms.Form):
    state = forms.ChoiceField(choices=STATE_FILTER_CHOICES, required=False)
    title = forms.CharField(required=False, max_length=200, label="Title contains")
    id_from = forms.IntegerField(required=False, min_value=1, label="Id from")
    id_to = forms.IntegerField(required=False, min_value=1, label="Id to")

    def filters(self) -> dict[str, Any]:
        """The filters to apply: none for a field that did not parse."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "state": data.get("state") or "",
            "title": (data.get("title") or "").strip(),
            "id_from": data.get("id_from"),
            "id_to": data.get("id_to"),
        }


class BulkAssignForm(forms.Form):
    coders = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "choose at least one coder"},
    )
    limit = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=services.MAX_BULK_DOCUMENTS,
        label="At most this many documents",
        widget=forms.NumberInput(attrs={"min": 1, "max": services.MAX_BULK_DOCUMENTS}),
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coders"].queryset = _coders_of(project)
        self.fields["coders"].label_from_instance = lambda user: user.get_username()


def _coders_of(project: Project):
    return (
        get_user_model()
        .objects.filter(memberships__project=project, memberships__role=Role.CODER)
        .order_by("username")
    )


def _form_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal on the form: on its fields where the form has them."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


def _htmx_target(request) -> str:
    return (request.htmx.target or "") if request.htmx else ""


# --- New projects and accounts --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request):
    if not access.may_create_projects(request.user):
        raise Http404("No such page")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = services.project_create(
            name=form.cleaned_data["name"].strip(),
            description=form.cleaned_data["description"].strip(),
            created_by=request.user,
        )
        messages.success(request, f"Project {project.name} created: add its members next.")
        return redirect("project-members", project.pk)
    status = HTMX_ERROR if request.method == "POST" else 200
    return render(request, "annotator/manage/project_new.html", {"form": form}, status=status)


@never_cache  # the page may show a new account's password
@login_required
@require_http_methods(["GET", "POST"])
def user_create(request):
    if not access.may_administer_users(request.user):
        raise Http404("No such page")
    form = UserCreateForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            user, password = services.user_create(**form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            created = {"username": user.get_username(), "password": password}
            # A fresh, empty form for the next account; the password is shown only this once.
            form = UserCreateForm()
    status = HTMX_ERROR if request.method == "POST" and created is None else 200
    context = {"form": form, "created": created}
    return render(request, "annotator/manage/user_new.html", context, status=status)


# --- Settings -------------------------------------------------------------------------------

SETTINGS_TEMPLATE = "annotator/manage/settings.html"


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request, project_id: int):
    project = _managed_project(request, project_id)
    if request.method == "GET":
        form = SettingsForm(initial={f: getattr(project, f) for f in services.SETTINGS_FIELDS})
        return render(request, SETTINGS_TEMPLATE, {"project": project, "form": form})
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            services.project_update(project=project, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            message = "Settings saved."
            if not request.htmx:
                messages.success(request, message)
                return redirect("project-settings", project.pk)
            form = SettingsForm(initial={f: getattr(project, f) for f in services.SETTINGS_FIELDS})
            context = {"project": project, "form": form, "status": message}
            return render(request, f"{SETTINGS_TEMPLATE}#settings-form", context)
    context = {"project": project, "form": form, "status": "Not saved: see the fields marked."}
    template = f"{SETTINGS_TEMPLATE}#settings-form" if request.htmx else SETTINGS_TEMPLATE
    return render(request, template, context, status=HTMX_ERROR)


# --- Members --------------------------------------------------------------------------------

MEMBERS_TEMPLATE = "annotator/manage/members.html"


@login_required
@require_http_methods(["GET", "POST"])
def project_members(request, project_id: int):
    project = _managed_project(request, project_id)
    if request.method == "GET":
        return _members_page(request, project, MemberAddForm())
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            memberships = services.membership_add(
                project=project,
                username=form.cleaned_data["username"],
                roles=form.cleaned_data["roles"],
                by=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            roles = ", ".join(m.role for m in memberships)
            message = f"{form.cleaned_data['username'].strip()} is now: {roles}."
            return _members_saved(request, project, message)
    return _members_page(request, project, form, status="Not added: see the form.", code=HTMX_ERROR)


@login_required
@require_POST
def member_remove(request, project_id: int, user_id: int):
    project = _managed_project(request, project_id)
    member = get_object_or_404(
        get_user_model().objects.filter(memberships__project=project).distinct(), pk=user_id
    )
    role = request.POST.get("role") or None
    try:
        services.membership_remove(project=project, user=member, role=role, by=request.user)
    except ValidationError as error:
        message = "Not removed: " + "; ".join(error.messages)
        if request.htmx:
            return _members_page(request, project, MemberAddForm(), status=message, code=HTMX_ERROR)
        messages.error(request, message)
        return redirect("project-members", project.pk)
    what = f"the {role} role" if role else "every role"
    message = f"{member.get_username()} lost {what}."
    if member.pk == request.user.pk and not access.is_manager(request.user, _fresh(project)):
        # A manager who stepped down can no longer see this page.
        messages.success(request, message)
        if request.htmx:
            return HttpResponseClientRedirect(reverse("home"))
        return redirect("home")
    return _members_saved(request, project, message)


def _fresh(project: Project) -> Project:
    """The project without the roles memoised on it by access.roles_in."""
    return Project.objects.get(pk=project.pk)


def _members_saved(request, project: Project, message: str) -> HttpResponse:
    if request.htmx:
        return _members_page(request, project, MemberAddForm(), status=message)
    messages.success(request, message)
    return redirect("project-members", project.pk)


def _members_page(
    request, project: Project, form: MemberAddForm, *, status: str = "", code: int = 200
) -> HttpResponse:
    members: dict[int, dict] = {}
    for membership in project.memberships.select_related("user").order_by("user__username", "role"):
        row = members.setdefault(membership.user_id, {"user": membership.user, "roles": []})
        row["roles"].append(membership.role)
    context = {
        "project": project,
        "members": list(members.values()),
        "form": form,
        "status": status,
        "status_error": code != 200,
    }
    template = f"{MEMBERS_TEMPLATE}#members" if request.htmx else MEMBERS_TEMPLATE
    return render(request, template, context, status=code)


# --- Manual assignment ----------------------------------------------------------------------

ASSIGNMENTS_TEMPLATE = "annotator/manage/assignments.html"


@login_required
@require_http_methods(["GET", "POST"])
def project_assignments(request, project_id: int):
    project = _managed_project(request, project_id)
    if request.method == "GET":
        filter_form = DocumentFilterForm(request.GET)
        bulk_form = BulkAssignForm(project=project)
        return _assignments_page(request, project, filter_form, bulk_form)
    filter_form = DocumentFilterForm(request.POST)
    bulk_form = BulkAssignForm(request.POST, project=project)
    if not bulk_form.is_valid():
        return _assignments_page(request, project, filter_form, bulk_form, code=HTMX_ERROR)
    limit = bulk_form.cleaned_data["limit"] or services.MAX_BULK_DOCUMENTS
    documents = services.documents_matching(project, **filter_form.filters())[:limit]
    result = services.assignments_create_bulk(
        project=project,
        documents=list(documents),
        coders=list(bulk_form.cleaned_data["coders"]),
        assigned_by=request.user,
    )
    if request.htmx:
        return _assignments_page(request, project, filter_form, bulk_form, report=result)
    messages.success(request, _report_summary(result))
    if result.skipped:
        details = "; ".join(
            f"document {s.document_id} for {s.username}: {s.reason}" for s in result.skipped[:20]
        )
        more = len(result.skipped) - 20
        messages.warning(request, f"Skipped {details}" + (f"; and {more} more" if more > 0 else ""))
    return redirect(_assignments_url(project, filter_form))


@login_required
@require_POST
def assignment_release(request, project_id: int, assignment_id: int):
    project = _managed_project(request, project_id)
    assignment = _project_assignment(project, assignment_id)
    try:
        assignment_services.assignment_release(assignment=assignment, user=request.user)
    except ValidationError as error:
        return _row_answer(request, project, assignment, error=error)
    message = f"Released {assignment.coder.get_username()}'s assignment."
    return _row_answer(request, project, assignment, message=message)


@login_required
@require_POST
def assignment_reassign(request, project_id: int, assignment_id: int):
    project = _managed_project(request, project_id)
    assignment = _project_assignment(project, assignment_id)
    username = (request.POST.get("coder") or "").strip()
    to_coder = _coders_of(project).filter(username=username).first()
    try:
        if to_coder is None:
            refusal = assignment_services.NOT_A_CODER.format(username=username or "nobody")
            raise ValidationError({"coder": [refusal]})
        services.assignment_reassign(assignment=assignment, to_coder=to_coder, by=request.user)
    except ValidationError as error:
        return _row_answer(request, project, assignment, error=error)
    message = f"Document {assignment.document_id} moved to {username}."
    return _row_answer(request, project, assignment, message=message)


def _project_assignment(project: Project, assignment_id: int) -> Assignment:
    return get_object_or_404(
        Assignment.objects.select_related("document", "coder"), pk=assignment_id, project=project
    )


def _row_answer(request, project, assignment, *, message: str = "", error=None) -> HttpResponse:
    """The document's row again (htmx), or back to the list with a message."""
    text = "Not done: " + "; ".join(error.messages) if error else message
    if not request.htmx:
        (messages.error if error else messages.success)(request, text)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("project-assignments", args=[project.pk])
        return redirect(back)
    document = project.documents.without_text().get(pk=assignment.document_id)
    context = {
        "project": project,
        "row": _document_rows(project, [document])[0],
        "row_status": text,
        "row_error": error is not None,
        "list_url": request.POST.get("next", ""),
    }
    return render(
        request,
        f"{ASSIGNMENTS_TEMPLATE}#document-row",
        context,
        status=HTMX_ERROR if error else 200,
    )


def _report_summary(result: services.BulkAssignment) -> str:
    created = len(result.created)
    summary = f"Created {created} assignment{'s' if created != 1 else ''}."
    if result.skipped:
        reasons = ", ".join(f"{n} {reason}" for reason, n in result.skipped_by_reason().items())
        summary += f" Skipped {len(result.skipped)}: {reasons}."
    return summary


def _assignments_url(project: Project, filter_form: DocumentFilterForm) -> str:
    query = {k: v for k, v in filter_form.filters().items() if v not in ("", None)}
    url = reverse("project-assignments", args=[project.pk])
    if query:
        url += "?" + urlencode(query)
    return url


def _assignments_page(
    request,
    project: Project,
    filter_form: DocumentFilterForm,
    bulk_form: BulkAssignForm,
    *,
    report: services.BulkAssignment | None = None,
    code: int = 200,
) -> HttpResponse:
    filters = filter_form.filters()
    documents = services.documents_matching(project, **filters)
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "filter_form": filter_form,
        "filters": filters,
        "bulk_form": bulk_form,
        "page": page,
        "rows": _document_rows(project, page.object_list),
        "coder_names": list(_coders_of(project).values_list("username", flat=True)),
        "report": report,
        "report_summary": _report_summary(report) if report else "",
        "max_bulk": services.MAX_BULK_DOCUMENTS,
        "list_url": _assignments_url(project, filter_form),
    }
    template = ASSIGNMENTS_TEMPLATE
    if _htmx_target(request) == "assignment-work":
        template += "#assignment-work"
    return render(request, template, context, status=code)


def _document_rows(project: Project, documents) -> list[dict]:
    """Each document with its live assignments and its state: one query for the lot."""
    documents = list(documents)
    live: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in (
        Assignment.objects.filter(
            document_id__in=[d.pk for d in documents], state__in=ACTIVE_STATES
        )
        .select_related("coder")
        .order_by("id")
    ):
        live[assignment.document_id].append(assignment)
    rows = []
    for document in documents:
        assignments = live[document.pk]
        state = services.document_state(
            live=len(assignments),
            submitted=sum(a.state == AssignmentState.SUBMITTED for a in assignments),
            k=project.overlap_k,
            adjudicated=document.adjudication_started_at is not None,
        )
        rows.append(
            {
                "document": document,
                "assignments": assignments,
                "state": state,
                "state_label": DocumentState.LABELS[state],
            }
        )
    return rows


# --- Dashboard ------------------------------------------------------------------------------

DASHBOARD_TEMPLATE = "annotator/manage/dashboard.html"


@login_required
@require_GET
def project_dashboard(request, project_id: int):
    project = _managed_project(request, project_id)
    target = _htmx_target(request)
    context: dict[str, Any] = {"project": project}
    if target != "dashboard-documents":
        context.update(_stats_context(project))
    if target != "dashboard-stats":
        filter_form = DocumentFilterForm(request.GET)
        documents = services.documents_matching(project, **filter_form.filters())
        page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(
            filter_form=filter_form, page=page, rows=_document_rows(project, page.object_list)
        )
    template = DASHBOARD_TEMPLATE
    if target == "dashboard-stats":
        template += "#stats"
    elif target == "dashboard-documents":
        template += "#documents"
    return render(request, template, context)


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar, in a 0..100 wide SVG coordinate space; `key` names its
    colour (CSS class seg-<key>) and, for document states, the state filter."""

    key: str
    label: str
    value: int
    x: str
    width: str


def _svg_number(value: float) -> str:
    """A coordinate as SVG wants it, formatted here: the template's number localisation is
    slow (a dashboard has hundreds of them) and could use a decimal comma."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _stack(parts: list[tuple[str, str, int]], total: int) -> list[Segment]:
    segments, x = [], 0.0
    for key, label, value in parts:
        width = 100 * value / total if total else 0.0
        segments.append(Segment(key, label, value, _svg_number(x), _svg_number(width)))
        x += width
    return segments


def _stack_svg(segments: list[Segment], css: str) -> str:
    """A stacked bar as inline SVG: geometry in attributes, colours from manage.css. Built
    here rather than in the template: the dashboard draws one per coder, and a template loop
    over a hundred of them costs more than every query of the page."""
    label = ", ".join(f"{segment.label} {segment.value}" for segment in segments)
    rects = format_html_join(
        "",
        '<rect class="seg-{}" x="{}" y="0" width="{}" height="4"><title>{}: {}</title></rect>',
        (
            (segment.key, segment.x, segment.width, segment.label, segment.value)
            for segment in segments
            if segment.value
        ),
    )
    return format_html(
        '<svg class="stack {}" viewBox="0 0 100 4" preserveAspectRatio="none" role="img" '
        'aria-label="{}">{}</svg>',
        css,
        label,
        rects,
    )


CHART_WIDTH, CHART_HEIGHT = 640, 180
CHART_LEFT, CHART_BOTTOM, CHART_TOP = 40, 24, 12


def _throughput_chart(throughput: list[services.DayCount]) -> dict:
    """Bars, gridlines and labels of the submissions-per-day chart, as SVG coordinates."""
    peak = max((day.submitted for day in throughput), default=0)
    top = max(_nice_ceiling(peak), 1)
    plot_height = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    plot_width = CHART_WIDTH - CHART_LEFT - 8
    slot = plot_width / max(len(throughput), 1)
    baseline = CHART_TOP + plot_height
    bars = []
    for index, day in enumerate(throughput):
        height = plot_height * day.submitted / top
        x = CHART_LEFT + index * slot + slot * 0.15
        bars.append(
            {
                "x": _svg_number(x),
                "y": _svg_number(baseline - height),
                "width": _svg_number(slot * 0.7),
                "height": _svg_number(height),
                "middle": _svg_number(x + slot * 0.35),
                "day": day.day,
                "submitted": day.submitted,
            }
        )
    ticks = [
        {"value": value, "y": _svg_number(baseline - plot_height * value / top)}
        for value in sorted({0, top // 2, top})
    ]
    # A date under every 7th day, counted back from today.
    labels = [
        {"x": bar["middle"], "text": bar["day"].strftime("%d %b")}
        for index, bar in enumerate(bars)
        if (len(bars) - 1 - index) % 7 == 0
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "tick_x": CHART_LEFT - 6,
        "right": CHART_WIDTH - 8,
        "baseline": baseline,
        "label_y": baseline + 16,
        "bars": bars,
        "ticks": ticks,
        "labels": labels,
        "total": sum(day.submitted for day in throughput),
        "first": throughput[0].day if throughput else None,
        "last": throughput[-1].day if throughput else None,
    }


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `value`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _stats_context(project: Project) -> dict:
    progress = services.project_progress(project, days=THROUGHPUT_DAYS)
    counts = progress.documents
    overall = _stack(
        [(state, label, getattr(counts, state)) for state, label in DocumentState.CHOICES],
        counts.total,
    )
    widest = max((coder.assigned for coder in progress.coders), default=0)
    coders = [
        {
            "coder": coder,
            "bar": _stack_svg(
                _stack(
                    [
                        ("submitted", "Submitted", coder.submitted),
                        ("in_progress", "In progress", coder.in_progress),
                        ("not_started", "Not started", coder.not_started),
                    ],
                    widest,
                ),
                "bar",
            ),
        }
        for coder in progress.coders
    ]
    return {
        "counts": counts,
        "overall": overall,
        "overall_svg": _stack_svg(overall, "overall"),
        "coders": coders,
        "chart": _throughput_chart(progress.throughput),
        "updated": timezone.localtime(),
    }


# --- History --------------------------------------------------------------------------------

HISTORY_TEMPLATE = "annotator/manage/history.html"


@login_required
@require_GET
def document_history(request, project_id: int, document_id: int):
    project = _managed_project(request, project_id)
    document = get_object_or_404(project.documents.without_text(), pk=document_id)
    events = project.audit_events.filter(document=document)
    return _history_page(request, project, events, subject=f"document {document.pk}: {document}")


@login_required
@require_GET
def coder_history(request, project_id: int, user_id: int):
    project = _managed_project(request, project_id)
    # Members, and former members who left a trace here; anyone else is no business of ours.
    User = get_user_model()
    people = User.objects.filter(
        Exists(Membership.objects.filter(project=project, user=OuterRef("pk")))
        | Exists(AuditEvent.objects.filter(project=project, user=OuterRef("pk")))
        | Exists(Assignment.objects.filter(project=project, coder=OuterRef("pk")))
    )
    person = get_object_or_404(people, pk=user_id)
    events = project.audit_events.filter(user=person)
    return _history_page(request, project, events, subject=person.get_username(), person=person)


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None  # None: the field did not exist before (a creation)
    after: str | None  # None: the field is gone (a deletion)


# Fields that name other rows: shown by name, under a readable heading.
REFERENCE_FIELDS = {"label_id": "label", "type_id": "type", "coder_id": "coder"}
HIDDEN_FIELDS = {"id"}


def describe_changes(before: dict | None, after: dict | None, names: dict) -> list[Change]:
    """What an audit event changed, field by field, with ids shown by name. A creation lists
    the new values, a deletion the old ones, an update only what differs."""
    before, after = before or {}, after or {}
    both = bool(before) and bool(after)
    changes = []
    for key in dict.fromkeys([*before, *after]):
        if key in HIDDEN_FIELDS:
            continue
        old, new = before.get(key), after.get(key)
        if both and old == new:
            continue
        changes.append(
            Change(
                field=REFERENCE_FIELDS.get(key, key),
                before=_readable(key, old, names) if key in before else None,
                after=_readable(key, new, names) if key in after else None,
            )
        )
    return changes


def _readable(key: str, value: Any, names: dict) -> str:
    if key in REFERENCE_FIELDS and value is not None:
        return names.get(REFERENCE_FIELDS[key], {}).get(value, f"#{value}")
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_readable('', v, names)}" for k, v in value.items()) or "(none)"
    if isinstance(value, list):
        return ", ".join(_readable("", v, names) for v in value) or "(none)"
    return str(value)


def _history_page(request, project, events, *, subject: str, person=None) -> HttpResponse:
    events = events.select_related("user", "document").order_by("-id")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    coder_ids = {
        snapshot["coder_id"]
        for event in page.object_list
        for snapshot in (event.before, event.after)
        if isinstance(snapshot, dict) and isinstance(snapshot.get("coder_id"), int)
    }
    names = {
        "label": dict(project.labels.values_list("id", "name")),
        "type": dict(project.relation_types.values_list("id", "name")),
        "coder": dict(
            get_user_model().objects.filter(pk__in=coder_ids).values_list("id", "username")
        )
        if coder_ids
        else {},
    }
    rows = [
        {"event": event, "changes": describe_changes(event.before, event.after, names)}
        for event in page.object_list
    ]
    context = {"project": project, "page": page, "rows": rows, "subject": subject, "person": person}
    return render(request, HISTORY_TEMPLATE, context)


urlpatterns = [
    path("projects/new/", project_create, name="project-create"),
    path("users/new/", user_create, name="user-create"),
    path("projects/<int:project_id>/settings/", project_settings, name="project-settings"),
    path("projects/<int:project_id>/members/", project_members, name="project-members"),
    path(
        "projects/<int:project_id>/members/<int:user_id>/remove/",
        member_remove,
        name="project-member-remove",
    ),
    path("projects/<int:project_id>/assignments/", project_assignments, name="project-assignments"),
    path(
        "projects/<int:project_id>/assignments/<int:assignment_id>/release/",
        assignment_release,
        name="assignment-release",
    ),
    path(
        "projects/<int:project_id>/assignments/<int:assignment_id>/reassign/",
        assignment_reassign,
        name="assignment-reassign",
    ),
    path("projects/<int:project_id>/dashboard/", project_dashboard, name="project-dashboard"),
    path(
        "projects/<int:project_id>/documents/<int:document_id>/history/",
        document_history,
        name="document-history",
    ),
    path(
        "projects/<int:project_id>/coders/<int:user_id>/history/",
        coder_history,
        name="coder-history",
    ),
]
