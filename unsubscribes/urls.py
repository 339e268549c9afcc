from django.urls import path

from unsubscribes import views

app_name = "unsubscribes"

urlpatterns = [
    path("u/<str:token>/", views.public_unsubscribe, name="unsubscribe"),
    path(
        "people/<int:contact_id>/unsubscribe/",
        views.person_unsubscribe,
        name="person_unsubscribe",
    ),
]
