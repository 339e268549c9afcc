from django.contrib.admin.apps import AdminConfig


class SalesInsightAdminConfig(AdminConfig):
    default_site = "salesinsight.admin.SalesInsightAdminSite"
