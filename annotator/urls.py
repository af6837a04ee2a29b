from csp.decorators import csp_update
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotator.views import coding, projects, work

# Swagger UI (served from drf-spectacular-sidecar, no CDN) carries one fixed inline <style>;
# allow exactly that block by its hash, nothing else.
api_docs = csp_update({"style-src": ["'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema")
)

urlpatterns = [
    path("", work.home, name="home"),
    path("healthz", projects.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("projects/<int:project_id>/", projects.project_detail, name="project"),
    path("projects/<int:project_id>/next/", work.next_document, name="next-document"),
    path("assignments/<int:assignment_id>/submit/", work.submit, name="assignment-submit"),
    path("assignments/<int:assignment_id>/reopen/", work.reopen, name="assignment-reopen"),
    path("assignments/<int:assignment_id>/beat/", work.beat, name="assignment-beat"),
    path("projects/<int:project_id>/codebook.css", coding.codebook_css, name="codebook-css"),
    path("projects/<int:project_id>/codebook/", include("annotator.views.codebook")),
    path("projects/<int:project_id>/guidelines/", include("annotator.views.guidelines")),
    path("projects/<int:project_id>/agreement/", include("annotator.views.agreement")),
    path("projects/<int:project_id>/claims/", include("annotator.views.claims")),
    path("projects/<int:project_id>/lexicon/", include("annotator.views.lexicon")),
    path("projects/<int:project_id>/", include("annotator.views.transfer")),
    path("", include("annotator.views.manage")),
    path("", include("annotator.views.adjudication")),
    path("documents/<int:document_id>/", coding.coding_screen, name="coding"),
    path("documents/<int:document_id>/spans/", coding.span_create_view, name="span-create"),
    path(
        "documents/<int:document_id>/relations/",
        coding.relation_create_view,
        name="relation-create",
    ),
    path("documents/<int:document_id>/undo/", coding.undo_view, name="undo"),
    path("documents/<int:document_id>/checks/", coding.checks_view, name="coding-checks"),
    path(
        "documents/<int:document_id>/suggestions/reject/",
        coding.suggestion_reject_view,
        name="suggestion-reject",
    ),
    path("spans/<int:span_id>/", coding.span_panel, name="span-panel"),
    path("spans/<int:span_id>/delete/", coding.span_delete_view, name="span-delete"),
    path(
        "relations/<int:relation_id>/delete/", coding.relation_delete_view, name="relation-delete"
    ),
    path("api/v1/", include("annotator.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api-docs"),
]
