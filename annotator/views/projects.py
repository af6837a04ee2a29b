from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotator import access
from annotator.models import Annotation


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
def home(request):
    projects = access.projects_for(request.user).annotate(document_count=Count("documents", distinct=True))
    return render(request, "annotator/projects/home.html", {"projects": projects})


@login_required
def project_detail(request, project_id: int):
    project = access.get_project_for_user(request.user, project_id)
    # A coder's counts are of their own spans only; managers and adjudicators see all coders'.
    span_filter = Q(annotations__deleted_at__isnull=True)
    if not access.sees_all_coders(request.user, project):
        span_filter &= Q(annotations__coder=request.user)
    documents = (
        project.documents.without_text()
        .annotate(span_count=Count("annotations", filter=span_filter))
        .order_by("position", "id")
    )
    coded_by_me = set(
        Annotation.objects.alive()
        .filter(coder=request.user, document__project=project)
        .values_list("document_id", flat=True)
        .distinct()
    )
    return render(
        request,
        "annotator/projects/detail.html",
        {
            "project": project,
            "documents": documents,
            "coded_by_me": coded_by_me,
            "is_manager": access.is_manager(request.user, project),
            "is_coder": access.is_coder(request.user, project),
            "roles": sorted(access.roles_in(request.user, project)),
        },
    )
