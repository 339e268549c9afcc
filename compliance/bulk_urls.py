"""URLs of the People list's Permission and Source bulk actions."""

from django.urls import path

from compliance.bulk import BulkPermissionView, BulkReconfirmView, BulkSourceView

app_name = "compliance_bulk"

urlpatterns = [
    path("permission/", BulkPermissionView.as_view(), name="permission"),
    path("source/", BulkSourceView.as_view(), name="source"),
    path("reconfirm/", BulkReconfirmView.as_view(), name="reconfirm"),
]
