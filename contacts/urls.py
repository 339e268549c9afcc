from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.people, name="people"),
    path("<int:contact_id>/", views.person_detail, name="person_detail"),
]
