import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contacts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ExportRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("single", "Contact CSV"),
                            ("bulk", "Bulk CSV"),
                            ("access_bundle", "Access bundle"),
                        ],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                (
                    "actor_name",
                    models.CharField(max_length=150, verbose_name="exported by"),
                ),
                (
                    "selection",
                    models.JSONField(
                        blank=True, default=dict, verbose_name="selection"
                    ),
                ),
                ("row_count", models.PositiveIntegerField(verbose_name="rows")),
                (
                    "completed",
                    models.BooleanField(default=True, verbose_name="completed"),
                ),
                ("exported_at", models.DateTimeField(verbose_name="exported at")),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="exported by",
                    ),
                ),
                (
                    "contact",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="export_records",
                        to="contacts.contact",
                        verbose_name="contact",
                    ),
                ),
            ],
            options={
                "verbose_name": "export",
                "verbose_name_plural": "export history",
                "permissions": [
                    ("export_contact", "Can export a contact as CSV"),
                    ("export_contacts_bulk", "Can export contacts in bulk"),
                    ("export_access_bundle", "Can export a data-subject access bundle"),
                ],
                "default_permissions": ("view",),
                "indexes": [
                    models.Index(fields=["-exported_at", "-id"], name="export_newest")
                ],
            },
        ),
    ]
