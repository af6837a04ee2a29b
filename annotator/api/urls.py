"""The API's routes, included under /api/v1/ (names: "api:<name>")."""

from django.urls import path

from annotator.api import agreement, gold, manage, transfer, views, work

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("projects/", views.ProjectList.as_view(), name="projects"),
    path("projects/<int:project_id>/", views.ProjectDetail.as_view(), name="project"),
    path(
        "projects/<int:project_id>/agreement/",
        agreement.ProjectAgreement.as_view(),
        name="project-agreement",
    ),
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
    path(
        "projects/<int:project_id>/assignments/",
        work.ProjectAssignments.as_view(),
        name="project-assignments",
    ),
    path(
        "projects/<int:project_id>/assignments/next/",
        work.NextAssignment.as_view(),
        name="assignment-next",
    ),
    path(
        "assignments/<int:assignment_id>/submit/",
        work.AssignmentSubmit.as_view(),
        name="assignment-submit",
    ),
    path(
        "assignments/<int:assignment_id>/reopen/",
        work.AssignmentReopen.as_view(),
        name="assignment-reopen",
    ),
    path(
        "assignments/<int:assignment_id>/release/",
        work.AssignmentRelease.as_view(),
        name="assignment-release",
    ),
    path(
        "projects/<int:project_id>/members/",
        manage.ProjectMembers.as_view(),
        name="project-members",
    ),
    path(
        "projects/<int:project_id>/members/<int:user_id>/",
        manage.ProjectMember.as_view(),
        name="project-member",
    ),
    path(
        "projects/<int:project_id>/progress/",
        manage.ProjectProgress.as_view(),
        name="project-progress",
    ),
    path(
        "projects/<int:project_id>/history/",
        manage.ProjectHistory.as_view(),
        name="project-history",
    ),
    path(
        "projects/<int:project_id>/imports/",
        transfer.ProjectImports.as_view(),
        name="project-imports",
    ),
    path(
        "projects/<int:project_id>/export/", transfer.ProjectExport.as_view(), name="project-export"
    ),
    path("documents/<int:document_id>/gold/", gold.DocumentGold.as_view(), name="document-gold"),
    path("documents/<int:document_id>/gold/accept/", gold.GoldAccept.as_view(), name="gold-accept"),
    path(
        "documents/<int:document_id>/gold/accept-agreed/",
        gold.GoldAcceptAgreed.as_view(),
        name="gold-accept-agreed",
    ),
    path(
        "documents/<int:document_id>/gold/accept-majority/",
        gold.GoldAcceptMajority.as_view(),
        name="gold-accept-majority",
    ),
    path("documents/<int:document_id>/gold/add/", gold.GoldAdd.as_view(), name="gold-add"),
    path("documents/<int:document_id>/gold/reject/", gold.GoldReject.as_view(), name="gold-reject"),
    path(
        "documents/<int:document_id>/gold/relations/",
        gold.GoldRelationAdd.as_view(),
        name="gold-relation-add",
    ),
    path(
        "documents/<int:document_id>/gold/relations/accept/",
        gold.GoldRelationAccept.as_view(),
        name="gold-relation-accept",
    ),
    path(
        "documents/<int:document_id>/adjudication/start/",
        gold.AdjudicationStart.as_view(),
        name="adjudication-start",
    ),
    path(
        "documents/<int:document_id>/adjudication/complete/",
        gold.AdjudicationComplete.as_view(),
        name="adjudication-complete",
    ),
    path(
        "documents/<int:document_id>/adjudication/reopen/",
        gold.AdjudicationReopen.as_view(),
        name="adjudication-reopen",
    ),
    path("gold/spans/<int:gold_span_id>/edit/", gold.GoldSpanEdit.as_view(), name="gold-span-edit"),
    path(
        "gold/spans/<int:gold_span_id>/delete/",
        gold.GoldSpanDelete.as_view(),
        name="gold-span-delete",
    ),
    path(
        "gold/relations/<int:gold_relation_id>/delete/",
        gold.GoldRelationDelete.as_view(),
        name="gold-relation-delete",
    ),
    path("annotations/<int:annotation_id>/", views.AnnotationDetail.as_view(), name="annotation"),
    path("relations/<int:relation_id>/", views.RelationDetail.as_view(), name="relation"),
]
