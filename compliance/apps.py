from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self) -> None:
        from compliance import bulk, panels, services
        from contacts.extensions import (
            CONTACTS_CREATED,
            CONTACTS_ERASING,
            register_hook,
            register_person_panel,
        )

        register_person_panel(panels.CARD)
        register_person_panel(panels.HISTORY)

        register_hook(
            CONTACTS_CREATED, "compliance", services.compliance_record_created
        )
        register_hook(
            CONTACTS_ERASING, "compliance", services.compliance_history_redact
        )
        bulk.register()
