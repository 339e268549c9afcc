app_name = "salesforce_sync"

urlpatterns: list = []
