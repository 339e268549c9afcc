from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnsubscribesConfig(AppConfig):
    name = "unsubscribes"
    verbose_name = _("Unsubscribes")

    def ready(self) -> None:
        from contacts.extensions import CONTACTS_ERASING, register_hook
        from unsubscribes import services

        register_hook(
            CONTACTS_ERASING, "unsubscribes", services.subscription_history_redact
        )
