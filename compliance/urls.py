from django.urls import path

from compliance import views

app_name = "compliance"

urlpatterns = [
    path("<int:contact_id>/", views.card, name="card"),
    path("<int:contact_id>/edit/", views.card_edit, name="card_edit"),
    path("<int:contact_id>/history/", views.history, name="history"),
]
