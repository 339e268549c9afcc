from django.apps import AppConfig


class SalesforceSyncConfig(AppConfig):
    name = "salesforce_sync"
    verbose_name = "Salesforce sync"
