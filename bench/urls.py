"""The app's URLs, plus a view that does nothing: the unsubscribe baseline."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def noop(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/noop/", noop),
    path("", include("salesinsight.urls")),
]
