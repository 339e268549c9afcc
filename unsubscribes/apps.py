from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnsubscribesConfig(AppConfig):
    name = "unsubscribes"
    verbose_name = _("Unsubscribes")

    def ready(self) -> None:
        from contacts.extensions import (
            CONTACTS_ERASING,
            PersonPanel,
            register_hook,
            register_person_panel,
        )
        from unsubscribes import bulk, panels, services

        register_hook(
            CONTACTS_ERASING, "unsubscribes", services.subscription_history_redact
        )
        register_person_panel(
            PersonPanel(
                key="unsubscribes",
                template="unsubscribes/partials/subscription_panel.html",
                order=30,
                context=panels.subscription_panel_context,
                permission="unsubscribes.view_subscriptionchange",
            )
        )
        register_person_panel(
            PersonPanel(
                key="sent_emails",
                template="unsubscribes/partials/sent_emails_panel.html",
                order=35,
                context=panels.sent_emails_panel_context,
                permission="unsubscribes.send_email",
            )
        )
        bulk.register()
