from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = _("Exports")

    def ready(self) -> None:
        from contacts import extensions
        from exports import admin_formats, services

        extensions.register_person_action(
            extensions.PersonAction(
                key="export",
                label=_("Export"),
                url_name="exports:contact_csv",
                order=50,
                permission="exports.export_contact",
            )
        )
        extensions.register_person_action(
            extensions.PersonAction(
                key="access_bundle",
                label=_("Access bundle"),
                url_name="exports:access_bundle",
                order=60,
                permission="exports.export_access_bundle",
            )
        )
        extensions.register_bulk_action(
            extensions.BulkAction(
                key="export",
                label=_("Export"),
                url_name="exports:contacts_csv",
                order=50,
                permission="exports.export_contacts_bulk",
            )
        )
        extensions.register_hook(
            extensions.CONTACTS_ERASING, "exports", services.export_records_unlink
        )
        admin_formats.make_admin_exports_safe()
