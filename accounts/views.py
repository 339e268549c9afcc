"""Log in: Django's view, refusing clearly when failed logins cannot be counted."""

import logging

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# How long a person is asked to wait; Redis restarts in seconds.
RETRY_AFTER_SECONDS = 60


class LoginView(auth_views.LoginView):
    """Django's LoginView, answering 503 on its own form while Redis is down.

    django-axes counts failed logins in Redis. A login whose count cannot be
    read is refused rather than let through, or taking Redis down would lift
    the lockout; the person sees the form again with the reason instead of
    the generic error page. People already signed in are not affected.
    """

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return super().post(request, *args, **kwargs)
        except RedisError as error:
            logger.warning(
                "Login refused: failed logins cannot be counted (%s)",
                type(error).__name__,
            )
        # The posted form cannot be validated again without Redis: an unbound
        # one keeps the username typed, not the password.
        form = self.get_form_class()(
            request, initial={"username": request.POST.get("username", "")}
        )
        context = self.get_context_data(
            form=form,
            unavailable=_(
                "Logging in is unavailable for a moment. Try again in a minute."
            ),
        )
        response = self.render_to_response(context, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
