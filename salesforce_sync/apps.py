from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesforceSyncConfig(AppConfig):
    name = "salesforce_sync"
    verbose_name = _("Salesforce sync")

    def ready(self) -> None:
        from contacts.extensions import (
            CONTACTS_ERASING,
            PersonPanel,
            register_hook,
            register_person_panel,
        )
        from salesforce_sync import checks, panels, services  # noqa: F401
        from unsubscribes.extensions import register_subscription_writer

        register_subscription_writer(services.outbox_rows)
        register_hook(CONTACTS_ERASING, "salesforce_sync", services.outbox_forget)
        register_person_panel(
            PersonPanel(
                key="salesforce_sync",
                template="salesforce_sync/partials/person_panel.html",
                order=60,
                context=panels.person_panel_context,
                permission="contacts.view_contact",
            )
        )
