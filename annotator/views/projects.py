from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotator import access


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_GET
def project_detail(request, project_id: int):
    project = access.get_project_for_user(request.user, project_id)
    # A coder's counts are of their own spans only; managers and adjudicators see all coders'.
    # A coder lists only the documents they may open (access.documents_for_coding).
    span_filter = Q(annotations__deleted_at__isnull=True)
    sees_all = access.sees_all_coders(request.user, project)
    if sees_all:
        documents = project.documents.all()
    else:
        span_filter &= Q(annotations__coder=request.user)
        documents = access.documents_for_coding(request.user, project)
    documents = (
        documents.without_text()
        .annotate(span_count=Count("annotations", filter=span_filter))
        .order_by("position", "id")
    )
    documents = list(documents)
    if not sees_all:
        for document in documents:
            document.can_code = True
    else:
        # A manager or adjudicator who also codes: mark the documents they may open.
        openable = (
            dict(access.documents_for_coding(request.user, project).values_list("pk", "my_state"))
            if access.is_coder(request.user, project)
            else {}
        )
        for document in documents:
            document.can_code = document.pk in openable
            document.my_state = openable.get(document.pk)
    return render(
        request,
        "annotator/projects/detail.html",
        {
            "project": project,
            "documents": documents,
            "is_manager": access.is_manager(request.user, project),
            "is_coder": access.is_coder(request.user, project),
            "roles": sorted(access.roles_in(request.user, project)),
        },
    )
