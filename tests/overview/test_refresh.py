"""Refreshing the overview: the Refresh button, the schedule, a real worker."""

import time

import pytest
from django.conf import settings
from django.urls import reverse

from overview.models import Summary
from overview.services import summary_refresh
from salesinsight.celery import app
from tests.factories import ContactFactory

REFRESH = reverse("overview:refresh")
OVERVIEW = reverse("overview:overview")


@pytest.fixture
def tasks_in_process():
    """Run tasks inside the test, as the app does without REDIS_URL."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.mark.django_db
def test_refresh_recomputes_the_figures_once_the_request_commits(
    rep_client, tasks_in_process, django_capture_on_commit_callbacks
):
    ContactFactory.create_batch(3)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = rep_client.post(REFRESH)

    assert len(queued) == 1
    assert response["Location"] == OVERVIEW
    assert Summary.objects.get().figures["contacts"] == 3
    html = rep_client.get(OVERVIEW).content.decode()
    assert "Refresh queued. The figures update once it has run." in html
    assert "3 contacts in all." in html


@pytest.mark.django_db
def test_a_second_refresh_moments_later_is_not_queued_again(
    rep_client, tasks_in_process, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rep_client.post(REFRESH)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = rep_client.post(REFRESH, follow=True)

    assert queued == []
    assert Summary.objects.count() == 1
    assert "A refresh is already queued." in response.content.decode()


@pytest.mark.django_db
def test_refresh_accepts_only_post(rep_client):
    assert rep_client.get(REFRESH).status_code == 405
    assert not Summary.objects.exists()


@pytest.mark.django_db
def test_a_refresh_keeps_only_the_newest_summary():
    first = summary_refresh()
    ContactFactory()

    second = summary_refresh()

    assert list(Summary.objects.all()) == [second]
    assert second.computed_at >= first.computed_at
    assert second.figures["contacts"] == 1


def test_the_beat_schedule_refreshes_the_overview_on_the_configured_interval():
    entry = settings.CELERY_BEAT_SCHEDULE["overview-refresh"]

    assert entry["schedule"] == settings.OVERVIEW_REFRESH_MINUTES * 60 == 600
    assert entry["task"] in app.tasks


@pytest.mark.services
def test_the_refresh_button_reaches_a_real_worker(celery_worker, client):
    from accounts.roles import SALES_REP
    from accounts.services import user_create

    rep = user_create(username="worker-rep", password="rep-password-1", role=SALES_REP)
    client.force_login(rep)
    ContactFactory.create_batch(2)

    client.post(REFRESH)

    for _ in range(100):
        if Summary.objects.exists():
            break
        time.sleep(0.1)
    assert Summary.objects.get().figures["contacts"] == 2
    assert "2 contacts in all." in client.get(OVERVIEW).content.decode()
