from django.apps import AppConfig


class UnsubscribesConfig(AppConfig):
    name = "unsubscribes"
