app_name = "unsubscribes"

urlpatterns: list = []
