"""The API's routes, included under /api/v1/ (names: "api:<name>")."""

from django.urls import path

from annotator.api import views

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("projects/", views.ProjectList.as_view(), name="projects"),
    path("projects/<int:project_id>/", views.ProjectDetail.as_view(), name="project"),
    path(
        "projects/<int:project_id>/documents/",
        views.ProjectDocuments.as_view(),
        name="project-documents",
    ),
    path("documents/<int:document_id>/", views.DocumentDetail.as_view(), name="document"),
    path(
        "documents/<int:document_id>/annotations/",
        views.DocumentAnnotations.as_view(),
        name="document-annotations",
    ),
    path(
        "documents/<int:document_id>/relations/",
        views.DocumentRelations.as_view(),
        name="document-relations",
    ),
    path("annotations/<int:annotation_id>/", views.AnnotationDetail.as_view(), name="annotation"),
    path("relations/<int:relation_id>/", views.RelationDetail.as_view(), name="relation"),
]
