from django.urls import path

from salesforce_sync import views

app_name = "salesforce_sync"

urlpatterns = [
    path("", views.sync_page, name="page"),
    path("sync-now/", views.sync_now, name="sync_now"),
]
