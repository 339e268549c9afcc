from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

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
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler403 = "salesinsight.views.permission_denied"
handler404 = "salesinsight.views.page_not_found"
