"""The codebook: readable by every member (guidelines at hand), editable by managers."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from annotator import access
from annotator.codebook import get_codebook


@login_required
def codebook_detail(request, project_id: int):
    project = access.get_project_for_user(request.user, project_id)
    return render(
        request,
        "annotator/codebook/detail.html",
        {
            "project": project,
            "codebook": get_codebook(project),
            "is_manager": access.is_manager(request.user, project),
        },
    )


urlpatterns = [
    path("", codebook_detail, name="codebook"),
]
