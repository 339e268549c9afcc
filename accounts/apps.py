from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from accounts.roles import sync_role_permissions

        # Permissions of every app exist only after that app's post_migrate, so
        # the roles are brought up to date after each one.
        post_migrate.connect(sync_role_permissions, dispatch_uid="sync_roles")
