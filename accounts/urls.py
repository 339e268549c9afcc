from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.decorators.http import require_http_methods

from accounts.views import LoginView

urlpatterns = [
    path(
        "login/",
        # The method check comes first: LoginView would otherwise redirect a
        # signed-in user whatever the method.
        require_http_methods(["GET", "POST"])(
            LoginView.as_view(
                redirect_authenticated_user=True, http_method_names=["get", "post"]
            )
        ),
        name="login",
    ),
    path(
        "logout/",
        auth_views.LogoutView.as_view(http_method_names=["post"]),
        name="logout",
    ),
]
