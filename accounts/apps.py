from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from accounts.roles import sync_role_permissions

        # Permissions of every app exist only after that app's post_migrate, so
        # the roles are brought up to date after each one.
        post_migrate.connect(sync_role_permissions, dispatch_uid="sync_roles")
