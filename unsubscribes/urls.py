from django.urls import path

from unsubscribes import bulk, views

app_name = "unsubscribes"

urlpatterns = [
    path("u/<str:token>/", views.public_unsubscribe, name="unsubscribe"),
    path(
        "people/<int:contact_id>/unsubscribe/",
        views.person_unsubscribe,
        name="person_unsubscribe",
    ),
    path(
        "people/bulk/unsubscribe/",
        bulk.BulkUnsubscribeView.as_view(),
        name="bulk_unsubscribe",
    ),
    path("people/<int:contact_id>/email/", views.send_email, name="send_email"),
    path(
        "people/<int:contact_id>/resubscribe/",
        views.resubscribe,
        name="resubscribe",
    ),
    path(
        "unsubscribes/evidence/<int:change_id>/",
        views.evidence_download,
        name="evidence_download",
    ),
]
