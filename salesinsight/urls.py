from django.contrib import admin
from django.urls import include, path
from django.views.decorators.http import require_POST
from django.views.generic import RedirectView
from django.views.i18n import set_language

urlpatterns = [
    path(
        "",
        RedirectView.as_view(pattern_name="contacts:people", http_method_names=["get"]),
        name="home",
    ),
    path("", include("accounts.urls")),
    path("people/", include("contacts.urls")),
    path("compliance/", include("compliance.urls")),
    path("compliance/bulk/", include("compliance.bulk_urls")),
    path("", include("unsubscribes.urls")),
    path("exports/", include("exports.urls")),
    path("salesforce/", include("salesforce_sync.urls")),
    path("overview/", include("overview.urls")),
    # The language switch: POST only (Django's view would answer GET too).
    path("i18n/setlang/", require_POST(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]

handler403 = "salesinsight.views.permission_denied"
handler404 = "salesinsight.views.page_not_found"
