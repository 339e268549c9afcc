from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("people/<int:contact_id>.csv", views.contact_csv, name="contact_csv"),
    path("people.csv", views.contacts_csv, name="contacts_csv"),
    path(
        "people/<int:contact_id>/access-bundle.zip",
        views.access_bundle,
        name="access_bundle",
    ),
]
