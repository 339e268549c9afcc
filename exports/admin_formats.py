"""django-import-export's admin export, made as safe and accountable as ours.

Admin classes live in the apps below `exports` (contacts, compliance, ...),
which cannot import from here. So, once the admin has loaded, every admin
that can export is given our safe CSV writer as its only format, and each
export it makes is recorded in the export history. A system check fails when
an admin registered later offers any other format.
"""

from typing import Any

from django.contrib import admin
from django.core import checks
from django.utils import timezone
from import_export.formats.base_formats import CSV
from import_export.mixins import BaseExportMixin

from exports.models import ExportKind
from exports.safety import csv_text
from exports.services import export_record_create


class SafeCSV(CSV):
    """CSV through the app's safe writer: formulas neutralised, no NUL, a BOM."""

    def export_data(self, dataset: Any, **kwargs: Any) -> str:
        return csv_text(dataset.headers or [], dataset)


SAFE_FORMATS = (SafeCSV,)


def _exporting_admins(site: admin.AdminSite) -> list[BaseExportMixin]:
    return [a for a in site._registry.values() if isinstance(a, BaseExportMixin)]


def _recording(model_admin: BaseExportMixin):
    original = model_admin.get_data_for_export

    def get_data_for_export(request, queryset, **kwargs):
        dataset = original(request, queryset, **kwargs)
        opts = model_admin.model._meta
        export_record_create(
            kind=ExportKind.BULK,
            actor=request.user,
            selection={"mode": "admin", "model": opts.label_lower},
            row_count=dataset.height,
            exported_at=timezone.now(),
        )
        return dataset

    return get_data_for_export


def make_admin_exports_safe(site: admin.AdminSite = admin.site) -> None:
    """Give every exporting admin the safe CSV format and record its exports."""
    for model_admin in _exporting_admins(site):
        # Instance attributes win over the class's methods and its settings.
        model_admin.get_export_formats = lambda: list(SAFE_FORMATS)
        model_admin.get_data_for_export = _recording(model_admin)


def unsafe_export_admins(site: admin.AdminSite) -> list[BaseExportMixin]:
    """Return the admins that could write a file with formulas or NUL in it."""
    return [
        model_admin
        for model_admin in _exporting_admins(site)
        if any(f not in SAFE_FORMATS for f in model_admin.get_export_formats())
    ]


@checks.register(checks.Tags.security)
def check_admin_exports_are_safe(app_configs: Any = None, **kwargs: Any) -> list:
    return [
        checks.Error(
            f"{type(model_admin).__name__} offers an export format that is not "
            "exports.admin_formats.SafeCSV.",
            hint="Register it before exports' ready() runs, or call "
            "exports.admin_formats.make_admin_exports_safe() after registering.",
            id="exports.E001",
        )
        for model_admin in unsafe_export_admins(admin.site)
    ]
