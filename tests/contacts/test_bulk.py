"""The bulk flow: selection, confirmation, apply, jobs and their progress."""

import threading
import time

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import bulk, extensions, tasks
from contacts.choices import SourceType
from contacts.models import BulkJob, Contact
from contacts.selection import Selection
from tests.factories import ContactFactory, contacts_in_bulk

pytestmark = pytest.mark.django_db

DELETE = reverse("contacts:bulk_delete")
PEOPLE = reverse("contacts:people")


def ids_params(contacts) -> str:
    return "&".join(f"ids={c.pk}" for c in contacts)


def test_the_people_page_offers_the_registered_bulk_actions(rep_client):
    ContactFactory()

    html = rep_client.get(PEOPLE).content.decode()

    assert 'data-bulk-action="delete"' in html
    assert "Select all on this page" in html
    assert "people.js" in html


def test_opening_delete_shows_a_confirmation_naming_the_count(rep_client):
    chosen = ContactFactory.create_batch(3)

    response = rep_client.get(f"{DELETE}?scope=ids&{ids_params(chosen)}")

    assert response.status_code == 200
    assert "Delete 3 contacts?" in response.content.decode()
    assert Contact.objects.count() == 3


def test_the_confirmation_step_changes_nothing(rep_client):
    chosen = ContactFactory.create_batch(2)

    response = rep_client.post(DELETE, {"scope": "ids", "ids": [c.pk for c in chosen]})

    assert "Delete 2 contacts?" in response.content.decode()
    assert Contact.objects.count() == 2


def test_confirming_deletes_the_selected_contacts_only(rep_client):
    chosen = ContactFactory.create_batch(2)
    kept = ContactFactory()

    response = rep_client.post(
        DELETE,
        {"scope": "ids", "ids": [c.pk for c in chosen], "step": "apply"},
        follow=True,
    )

    assert list(Contact.objects.values_list("pk", flat=True)) == [kept.pk]
    assert "2 contacts deleted." in response.content.decode()
    job = BulkJob.objects.get()
    assert (job.state, job.total, job.done, job.changed) == ("done", 2, 2, 2)
    assert "selection" not in job.params


def test_all_matching_sends_the_filter_and_applies_to_every_match(rep_client):
    imported = contacts_in_bulk(60, source_type=SourceType.IMPORT)
    others = contacts_in_bulk(5, source_type=SourceType.CRM_SYNC)

    confirmation = rep_client.get(
        f"{DELETE}?scope=all&filter=source_type%3Dimport"
    ).content.decode()
    rep_client.post(
        DELETE, {"scope": "all", "filter": "source_type=import", "step": "apply"}
    )

    assert f"Delete {len(imported)} contacts?" in confirmation
    assert set(Contact.objects.values_list("pk", flat=True)) == {c.pk for c in others}


def test_the_all_matching_banner_names_the_total(rep_client):
    contacts_in_bulk(60)

    html = rep_client.get(PEOPLE).content.decode()

    assert "Select all 60 matching this filter" in html


@pytest.mark.parametrize(
    "query",
    [
        "",
        "scope=ids",
        "scope=ids&ids=abc",
        "scope=ids&ids=-4",
        "scope=ids&ids=%C2%B2",
        "scope=ids&ids=99999999999999999999999",
        "scope=everything",
        "scope=all&filter=permission_type%3Dnope",
        "scope=all&filter=created_after%3D2025-99-01",
        # A NUL in the filter: PostgreSQL's JSON, where jobs keep it, refuses it.
        "scope=all&filter=%00",
    ],
)
def test_a_bad_selection_is_a_400_and_changes_nothing(rep_client, query):
    ContactFactory()

    get = rep_client.get(f"{DELETE}?{query}")
    post = rep_client.post(f"{DELETE}?{query}", {"step": "apply"})

    assert get.status_code == 400
    assert post.status_code == 400
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("scope=ids", "Select at least one person first."),
        (
            "&".join(f"ids={i}" for i in range(1, 1002)),
            "At most 1,000 people can be checked one by one. Use "
            "“Select all … matching this filter” instead.",
        ),
        (
            "scope=all&filter=created_after%3D2025-99-01",
            "The filter is not valid. Correct it in the People list first.",
        ),
        (
            "scope=ids&ids=abc",
            "This selection could not be read. Reload the People list and select "
            "again.",
        ),
    ],
)
def test_a_bad_selection_says_why_in_plain_text(rep_client, query, reason):
    response = rep_client.get(f"{DELETE}?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == reason


def test_htmx_gets_the_modal_and_a_client_redirect(rep_client):
    chosen = ContactFactory()

    modal = rep_client.get(
        f"{DELETE}?scope=ids&ids={chosen.pk}", headers={"HX-Request": "true"}
    )
    applied = rep_client.post(
        DELETE,
        {"scope": "ids", "ids": chosen.pk, "step": "apply"},
        headers={"HX-Request": "true"},
    )

    assert modal.content.decode().lstrip().startswith("<dialog")
    assert applied["HX-Redirect"] == PEOPLE


def test_users_who_may_not_delete_are_refused(outsider_client):
    chosen = ContactFactory()

    response = outsider_client.post(
        DELETE, {"scope": "ids", "ids": chosen.pk, "step": "apply"}
    )

    assert response.status_code == 403
    assert Contact.objects.count() == 1


def test_a_bulk_apply_costs_the_same_queries_at_any_size(rep_client):
    data = {"scope": "all", "filter": "source_type=import", "step": "apply"}
    counts = []
    for size in (30, 300):
        contacts_in_bulk(size, source_type=SourceType.IMPORT)
        with CaptureQueriesContext(connection) as queries:
            rep_client.post(DELETE, data)
        assert Contact.objects.count() == 0
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_a_job_resumes_after_its_last_committed_batch(sales_rep):
    contacts = contacts_in_bulk(7)
    job = bulk.bulk_job_create(
        kind="delete",
        selection=Selection(ids=tuple(c.pk for c in contacts)),
        change={},
        actor=sales_rep,
    )
    # A worker was lost after the first three contacts were committed.
    BulkJob.objects.filter(pk=job.pk).update(last_id=contacts[2].pk, done=3)

    job = bulk.bulk_job_run(job_id=job.pk, batch_size=2)

    assert (job.state, job.done) == ("done", 7)
    assert list(Contact.objects.values_list("pk", flat=True)) == [
        c.pk for c in contacts[:3]
    ]


def test_a_failing_job_is_recorded_with_a_plain_message(sales_rep, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("secret internals")

    extensions.register_bulk_job_kind(
        extensions.BulkJobKind(key="explode", apply=explode, message=str)
    )
    contacts = contacts_in_bulk(3)
    job = bulk.bulk_job_create(
        kind="explode",
        selection=Selection(ids=tuple(c.pk for c in contacts)),
        change={},
        actor=sales_rep,
    )

    tasks.bulk_job_run.apply(args=[job.pk])

    job.refresh_from_db()
    assert job.state == "failed"
    assert "stopped after 0 of 3 contacts" in job.error
    assert "secret" not in job.error
    assert "selection" not in job.params


@pytest.mark.services
def test_two_runs_of_one_job_take_turns_and_count_each_contact_once(
    postgres, transactional_db, sales_rep
):
    def retitle(*, contacts, change, actor):
        return contacts.exclude(title="Retitled").update(title="Retitled")

    extensions.register_bulk_job_kind(
        extensions.BulkJobKind(key="retitle", apply=retitle, message=str)
    )
    contacts = contacts_in_bulk(9)
    job = bulk.bulk_job_create(
        kind="retitle",
        selection=Selection(ids=tuple(c.pk for c in contacts)),
        change={},
        actor=sales_rep,
    )

    # A task delivered twice: both runs start while the first contact is
    # locked, so they overlap from their first batch on.
    errors: list[Exception] = []
    with transaction.atomic():
        Contact.objects.select_for_update().get(pk=contacts[0].pk)
        runs = [_in_thread(job.pk, errors) for _ in range(2)]
        _wait_for(lambda: errors or _sessions_waiting_on_locks() == 2)
        assert errors == []
    for run in runs:
        run.join(timeout=30)

    job.refresh_from_db()
    assert errors == []
    assert (job.state, job.total, job.done, job.changed) == ("done", 9, 9, 9)
    assert set(Contact.objects.values_list("title", flat=True)) == {"Retitled"}


def _in_thread(job_id: int, errors: list) -> threading.Thread:
    def run():
        try:
            bulk.bulk_job_run(job_id=job_id, batch_size=2)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _sessions_waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction the statistics views keep their first answer.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _wait_for(condition) -> None:
    for _ in range(200):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("the two runs never overlapped")


def test_the_sweep_fails_abandoned_small_jobs_and_returns_large_ones(
    sales_rep, settings
):
    settings.BULK_TASK_THRESHOLD = 10
    params = {"selection": {"ids": [1]}, "change": {}}

    def job(**fields) -> BulkJob:
        return BulkJob.objects.create(
            kind="delete", actor=sales_rep, params=params, **fields
        )

    small = job(total=10, done=0, state="running")
    large = job(total=11, done=4, state="running")
    waiting = job(total=11, state="pending")
    finished = job(total=11, done=11, state="done")
    imported = BulkJob.objects.create(kind="import", total=11, state="running")
    previewed = BulkJob.objects.create(kind="import_preview", total=11, state="running")
    cutoff = timezone.now()
    fresh = job(total=11, state="pending")

    queued = bulk.bulk_jobs_recover(stalled_before=cutoff)

    assert queued == [large.pk, waiting.pk]
    small.refresh_from_db()
    assert (small.state, small.error) == (
        "failed",
        "The change stopped after 0 of 10 contacts. Those were changed; "
        "start the action again for the rest.",
    )
    large.refresh_from_db()
    assert large.error == (
        "The change was interrupted after 4 of 11 contacts and resumed from "
        "there. No contact is changed twice."
    )
    for untouched in (finished, imported, previewed, fresh):
        before = untouched.state
        untouched.refresh_from_db()
        assert untouched.state == before


def test_someone_elses_job_is_not_found(client, sales_rep):
    job = BulkJob.objects.create(kind="delete", actor=sales_rep)
    other = User.objects.create_user("other-rep", password="x-password-1")
    other.groups.set(sales_rep.groups.all())
    client.force_login(other)

    assert client.get(reverse("contacts:bulk_job", args=[job.pk])).status_code == 404


def test_a_running_job_polls_and_the_people_page_links_to_it(rep_client, sales_rep):
    job = BulkJob.objects.create(
        kind="delete", actor=sales_rep, total=10, done=4, state="running"
    )
    url = reverse("contacts:bulk_job", args=[job.pk])

    partial = rep_client.get(url, headers={"HX-Request": "true"}).content.decode()
    people = rep_client.get(PEOPLE).content.decode()

    assert 'hx-trigger="every 1s"' in partial
    assert 'value="40"' in partial
    assert "4 of 10 contacts" in partial
    assert url in people


@pytest.mark.services
def test_a_large_selection_runs_in_the_worker_with_progress(
    celery_worker, client, settings, monkeypatch
):
    from accounts.roles import SALES_REP
    from accounts.services import user_create

    settings.BULK_TASK_THRESHOLD = 5
    monkeypatch.setattr(bulk, "BATCH_SIZE", 4)
    rep = user_create(username="worker-rep", password="rep-password-1", role=SALES_REP)
    client.force_login(rep)
    contacts_in_bulk(13, source_type=SourceType.IMPORT)
    keep = ContactFactory(source_type=SourceType.CRM_SYNC)

    response = client.post(
        DELETE, {"scope": "all", "filter": "source_type=import", "step": "apply"}
    )

    job = BulkJob.objects.get()
    assert response["Location"] == reverse("contacts:bulk_job", args=[job.pk])
    for _ in range(100):
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.1)
    page = client.get(response["Location"]).content.decode()
    assert (job.state, job.total, job.done) == ("done", 13, 13)
    assert 'value="100"' in page
    assert "13 contacts deleted." in page
    assert "hx-trigger" not in page
    assert list(Contact.objects.values_list("pk", flat=True)) == [keep.pk]


def test_more_fields_than_any_form_has_get_a_page_that_says_so(rep_client):
    query = "&".join(f"ids={i}" for i in range(1, 1202))

    response = rep_client.get(f"{DELETE}?{query}")

    assert response.status_code == 400
    assert "This request could not be read" in response.content.decode()
