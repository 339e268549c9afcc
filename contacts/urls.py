from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.people, name="people"),
    path("bulk/delete/", views.bulk_delete, name="bulk_delete"),
    path("jobs/<int:job_id>/", views.bulk_job, name="bulk_job"),
    path("import/", views.people_import, name="people_import"),
    path("import/confirm/", views.people_import_confirm, name="people_import_confirm"),
    path("<int:contact_id>/delete/", views.person_delete, name="person_delete"),
    path("<int:contact_id>/", views.person_detail, name="person_detail"),
]

urlpatterns += [
    path("new/", views.person_create, name="person_create"),
    path("<int:contact_id>/edit/", views.person_edit, name="person_edit"),
]
