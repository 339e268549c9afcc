"""The Django admin, for Admins only."""

from functools import update_wrapper

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


class SalesInsightAdminSite(admin.AdminSite):
    site_header = _("Sales Insight administration")
    site_title = _("Sales Insight admin")
    index_title = _("Administration")

    def login(self, request, extra_context=None):
        # Django sends a logged-in non-staff user back to the admin's login
        # form, which reads as "wrong password". A Sales rep is told plainly
        # that the admin is not for their role instead.
        if request.user.is_authenticated and not self.has_permission(request):
            raise PermissionDenied
        return super().login(request, extra_context)

    def admin_view(self, view, cacheable=False):
        # The same plain refusal on every admin page, rather than a redirect
        # to the login form that then refuses: one answer, 403, for a Sales
        # rep anywhere under /admin/ (salesinsight/access.py).
        guarded = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return guarded(request, *args, **kwargs)

        return update_wrapper(inner, guarded)
