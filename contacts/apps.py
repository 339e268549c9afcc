from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "People"

    def ready(self) -> None:
        from contacts import bulk_delete, extensions, retention  # noqa: F401

        extensions.register_bulk_action(
            extensions.BulkAction(
                key="delete",
                label=_("Delete"),
                url_name="contacts:bulk_delete",
                order=90,
                permission="contacts.delete_contact",
            )
        )
        extensions.register_bulk_job_kind(
            extensions.BulkJobKind(
                key=bulk_delete.KIND,
                apply=bulk_delete.apply_delete,
                message=bulk_delete.delete_message,
            )
        )
        extensions.register_person_action(
            extensions.PersonAction(
                key="delete",
                label=_("Delete"),
                url_name="contacts:person_delete",
                order=90,
                permission="contacts.delete_contact",
            )
        )
