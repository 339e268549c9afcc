"""Exercise the Salesforce stand-in through the real simple-salesforce client."""

import csv
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from . import SalesforceStandin, make_salesforce_id, normalize_id, soql

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCATOR_URL = re.compile(r"^/services/data/v59\.0/query/01g[0-9A-Za-z]{15}-(\d+)$")


@pytest.fixture
def standin() -> Iterator[SalesforceStandin]:
    with SalesforceStandin(custom_fields={"Contact": ["Marketing_Opt_In__c"]}) as sf:
        yield sf


@pytest.fixture
def sf(standin: SalesforceStandin) -> Salesforce:
    return standin.client()


def add_contacts(standin: SalesforceStandin, count: int) -> list[str]:
    return [
        standin.store.add_contact(
            Email=f"person{number}@example.com",
            FirstName="Person",
            LastName=f"Number{number}",
        )
        for number in range(count)
    ]


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# -- ids and SOQL -------------------------------------------------------------


def test_ids_are_18_characters_with_a_valid_checksum() -> None:
    record_id = make_salesforce_id("003", 123456)

    assert len(record_id) == 18
    assert record_id.startswith("003")
    assert normalize_id(record_id[:15]) == record_id
    # The checksum example from Salesforce's own documentation.
    assert normalize_id("a0D30000001n7Pi") == "a0D30000001n7PiEAI"
    assert normalize_id("not-an-id") is None


def test_soql_parser_rejects_what_it_does_not_support() -> None:
    with pytest.raises(soql.SoqlError) as error:
        soql.parse("SELECT Id FROM Contact GROUP BY Email")
    assert error.value.error_code == "MALFORMED_QUERY"

    with pytest.raises(soql.SoqlError):
        soql.parse("SELECT Id FROM Contact WHERE Email LIKE 'a%'")

    parsed = soql.parse(
        "select Id from Contact where (Email = 'a\\'b' or IsDeleted = false) "
        "and SystemModstamp >= 2026-01-01T00:00:00.000+0000 "
        "order by Email desc nulls first limit 5"
    )
    assert parsed.sobject == "Contact"
    assert parsed.descending is True
    assert parsed.nulls_last is False
    assert parsed.limit == 5
    assert parsed.where.operator == "AND"
    assert parsed.where.operands[0].operands[0].value == "a'b"
    assert parsed.where.operands[1].value == datetime(2026, 1, 1, tzinfo=UTC)


# -- query --------------------------------------------------------------------


def test_query_pages_through_next_records_url(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    ids = add_contacts(standin, 5)
    standin.query_batch_size = 2

    first = sf.query("SELECT Id, Email FROM Contact ORDER BY Email")

    assert first["totalSize"] == 5
    assert first["done"] is False
    assert LOCATOR_URL.match(first["nextRecordsUrl"]).group(1) == "2"
    assert [r["Id"] for r in first["records"]] == ids[:2]
    assert first["records"][0]["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{ids[0]}",
    }
    assert list(first["records"][0]) == ["attributes", "Id", "Email"]

    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert [r["Id"] for r in second["records"]] == ids[2:4]
    assert second["done"] is False

    # A bare locator works too, as with query_more(identifier_is_url=False).
    third = sf.query_more(second["nextRecordsUrl"].rsplit("/", 1)[1])
    assert [r["Id"] for r in third["records"]] == ids[4:]
    assert third["done"] is True
    assert "nextRecordsUrl" not in third

    assert standin.counts["query"] == 1
    assert standin.counts["query_more"] == 2


def test_query_all_collects_every_page(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    ids = add_contacts(standin, 7)
    standin.query_batch_size = 3

    result = sf.query_all("SELECT Id FROM Contact")

    assert sorted(r["Id"] for r in result["records"]) == sorted(ids)
    assert standin.counts == {"query": 1, "query_more": 2}


def test_query_batch_size_hint_header_is_honoured(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    add_contacts(standin, 450)

    result = sf.query(
        "SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"}
    )

    assert len(result["records"]) == 200
    assert result["totalSize"] == 450


def test_query_filters_orders_and_limits(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    old = standin.store.add_contact(
        Email="Old@Example.com",
        LastName="Old",
        SystemModstamp="2025-06-01T00:00:00Z",
        HasOptedOutOfEmail=True,
    )
    new = standin.store.add_contact(
        Email="new@example.com", LastName="New", SystemModstamp="2026-02-01T00:00:00Z"
    )
    no_email = standin.store.add_contact(
        LastName="Nobody", SystemModstamp="2026-03-01T00:00:00Z"
    )
    gone = standin.store.add_contact(
        Email="gone@example.com", SystemModstamp="2026-04-01T00:00:00Z"
    )
    standin.store.delete(gone)
    lead = standin.store.add_lead(Email="lead@example.com", Company="Acme")

    def ids(query: str, **kwargs: object) -> list[str]:
        return [r["Id"] for r in sf.query(query, **kwargs)["records"]]

    assert ids(
        "SELECT Id FROM Contact WHERE SystemModstamp > 2026-01-01T00:00:00Z "
        "ORDER BY SystemModstamp"
    ) == [new, no_email]
    # SOQL string comparison ignores case.
    assert ids("SELECT Id FROM Contact WHERE Email = 'old@example.COM'") == [old]
    assert ids(
        "SELECT Id FROM Contact WHERE Email IN ('x@y.z', 'NEW@example.com')"
    ) == [new]
    assert ids(
        "SELECT Id FROM Contact WHERE HasOptedOutOfEmail = true OR Email = null"
    ) == [old, no_email]
    assert ids(
        "SELECT Id FROM Contact WHERE Email != null AND HasOptedOutOfEmail = false"
    ) == [new]
    assert ids("SELECT Id FROM Contact ORDER BY Email NULLS LAST LIMIT 2") == [new, old]
    # A 15-character id literal matches the 18-character Id.
    assert ids(format_soql("SELECT Id FROM Contact WHERE Id = {}", new[:15])) == [new]
    assert ids("SELECT Id FROM Lead") == [lead]
    # Deleted records only show through queryAll.
    assert gone in ids("SELECT Id FROM Contact", include_deleted=True)
    assert gone not in ids("SELECT Id FROM Contact")

    modstamp = sf.query(
        format_soql("SELECT SystemModstamp FROM Contact WHERE Id = {}", old)
    )
    assert modstamp["records"][0]["SystemModstamp"] == "2025-06-01T00:00:00.000+0000"


@pytest.mark.parametrize(
    ("query", "error_code"),
    [
        ("SELECT Nope FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Account", "INVALID_TYPE"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Contact WHERE HasOptedOutOfEmail = 'yes'",
            "INVALID_QUERY_FILTER_OPERATOR",
        ),
    ],
)
def test_query_errors_have_salesforce_shape(
    sf: Salesforce, query: str, error_code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.query(query)

    assert error.value.status == 400
    assert error.value.content[0]["errorCode"] == error_code
    assert error.value.content[0]["message"]


def test_unknown_query_locator_is_rejected(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.query_more("01g5g0000000000AAA-2000")

    assert error.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


# -- sObject Collections and single records ----------------------------------


def collection_body(ids: list[str], all_or_none: bool = False, **fields: object):
    return {
        "allOrNone": all_or_none,
        "records": [
            {"attributes": {"type": "Contact"}, "id": record_id, **fields}
            for record_id in ids
        ],
    }


def test_collections_update_of_200_records(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    ids = add_contacts(standin, 200)
    before = standin.store.get(ids[0])["SystemModstamp"]
    time.sleep(0.002)

    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json=collection_body(ids, HasOptedOutOfEmail=True, Marketing_Opt_In__c=True),
    )

    assert results == [{"id": i, "success": True, "errors": []} for i in ids]
    for record_id in ids:
        record = standin.store.get(record_id)
        assert record["HasOptedOutOfEmail"] is True
        assert record["Marketing_Opt_In__c"] is True
        assert record["SystemModstamp"] > before
        assert record["LastModifiedDate"] == record["SystemModstamp"]
    assert standin.counts == {"collections_patch": 1}


def test_collections_update_of_201_records_is_rejected(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    ids = add_contacts(standin, 201)

    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.restful(
            "composite/sobjects",
            method="PATCH",
            json=collection_body(ids, HasOptedOutOfEmail=True),
        )

    assert error.value.status == 400
    assert error.value.content == [
        {
            "message": "record limit reached. cannot submit more than 200 records "
            "into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]
    assert not any(standin.store.get(i)["HasOptedOutOfEmail"] for i in ids)


def test_collections_report_per_record_errors_in_order(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    ok, deleted, validated = add_contacts(standin, 3)
    standin.store.delete(deleted)
    standin.faults.fail_records(
        [validated], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Email is blocked", ["Email"]
    )
    body = collection_body([ok, deleted, "003notarealid", validated], Email="n@x.io")

    results = sf.restful("composite/sobjects", method="PATCH", json=body)

    assert results == [
        {"id": ok, "success": True, "errors": []},
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "ENTITY_IS_DELETED",
                    "message": "entity is deleted",
                    "fields": [],
                }
            ],
        },
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "MALFORMED_ID",
                    "message": "Contact ID: id value of incorrect type: 003notarealid",
                    "fields": ["Id"],
                }
            ],
        },
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    "message": "Email is blocked",
                    "fields": ["Email"],
                }
            ],
        },
    ]
    assert standin.store.get(ok)["Email"] == "n@x.io"
    assert standin.store.get(validated)["Email"] != "n@x.io"


def test_collections_all_or_none_rolls_everything_back(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    good, bad = add_contacts(standin, 2)
    standin.faults.fail_records([bad], "ENTITY_IS_DELETED", times=1)

    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json=collection_body([good, bad], all_or_none=True, HasOptedOutOfEmail=True),
    )

    assert results[0]["id"] == good
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert standin.store.get(good)["HasOptedOutOfEmail"] is False

    # times=1: the injected error was used up, so a retry succeeds.
    retry = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json=collection_body([good, bad], all_or_none=True, HasOptedOutOfEmail=True),
    )
    assert [r["success"] for r in retry] == [True, True]


def test_collections_refuse_unknown_and_read_only_fields(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    (record_id,) = add_contacts(standin, 1)

    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.restful(
            "composite/sobjects",
            method="PATCH",
            json=collection_body([record_id], Nope=1),
        )
    assert error.value.content[0]["errorCode"] == "INVALID_FIELD"

    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json=collection_body([record_id], SystemModstamp="2020-01-01T00:00:00Z"),
    )
    assert results[0]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert results[0]["errors"][0]["fields"] == ["SystemModstamp"]


def test_collections_get_returns_records_and_nulls(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    first, second = add_contacts(standin, 2)
    missing = make_salesforce_id("003", 99)

    results = sf.restful(
        "composite/sobjects/Contact",
        params={"ids": f"{first},{missing},{second}", "fields": "Id,Email"},
    )

    assert [r and r["Id"] for r in results] == [first, None, second]
    assert results[0]["Email"] == "person0@example.com"
    assert standin.counts == {"collections_get": 1}


def test_single_record_update_and_get(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    (record_id,) = add_contacts(standin, 1)

    status = sf.Contact.update(record_id, {"HasOptedOutOfEmail": True})

    assert status == 204
    assert standin.store.get(record_id)["HasOptedOutOfEmail"] is True
    fetched = sf.Contact.get(record_id)
    assert fetched["HasOptedOutOfEmail"] is True
    assert fetched["attributes"]["type"] == "Contact"
    assert standin.counts == {"record_patch": 1, "record_get": 1}


def test_single_record_update_of_unknown_or_deleted_id(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    (deleted,) = add_contacts(standin, 1)
    standin.store.delete(deleted)

    with pytest.raises(SalesforceResourceNotFound) as error:
        sf.Contact.update(make_salesforce_id("003", 42), {"Email": "a@b.c"})
    assert error.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]

    with pytest.raises(SalesforceResourceNotFound) as error:
        sf.Contact.update(deleted, {"Email": "a@b.c"})
    assert error.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_single_record_update_with_injected_validation_error(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    (record_id,) = add_contacts(standin, 1)
    standin.faults.fail_records([record_id], "FIELD_CUSTOM_VALIDATION_EXCEPTION")

    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.Contact.update(record_id, {"Email": "a@b.c"})

    assert error.value.content[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert standin.store.get(record_id)["Email"] == "person0@example.com"


# -- Bulk API 2.0 -------------------------------------------------------------


def test_bulk2_update_through_simple_salesforce(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    ids = add_contacts(standin, 5)
    standin.bulk_polls_until_complete = 2
    standin.faults.fail_records([ids[3]], "ENTITY_IS_DELETED")

    [summary] = sf.bulk2.Contact.update(
        records=[{"Id": i, "HasOptedOutOfEmail": "true"} for i in ids], wait=0
    )

    assert summary["numberRecordsProcessed"] == 5
    assert summary["numberRecordsFailed"] == 1
    assert summary["job_id"].startswith("750")
    assert [standin.store.get(i)["HasOptedOutOfEmail"] for i in ids] == [
        True,
        True,
        True,
        False,
        True,
    ]

    failed = parse_csv(sf.bulk2.Contact.get_failed_records(summary["job_id"]))
    assert failed == [
        {
            "sf__Id": ids[3],
            "sf__Error": "ENTITY_IS_DELETED:entity is deleted:--",
            "Id": ids[3],
            "HasOptedOutOfEmail": "true",
        }
    ]
    succeeded = parse_csv(sf.bulk2.Contact.get_successful_records(summary["job_id"]))
    assert {row["sf__Id"] for row in succeeded} == set(ids) - {ids[3]}
    assert {row["sf__Created"] for row in succeeded} == {"false"}

    # Two InProgress answers, the JobComplete one, then simple-salesforce's
    # final read of the job.
    assert standin.counts == {
        "bulk_create": 1,
        "bulk_upload": 1,
        "bulk_close": 1,
        "bulk_poll": 4,
        "bulk_results": 2,
    }


def test_bulk2_job_lifecycle_over_plain_requests(standin: SalesforceStandin) -> None:
    ids = add_contacts(standin, 2)
    standin.bulk_polls_until_complete = 1
    http = standin.session()
    http.headers["Authorization"] = "Bearer " + standin.issue_session()
    jobs = standin.data_url("62.0") + "jobs/ingest"

    created = http.post(
        jobs,
        json={
            "object": "Contact",
            "operation": "update",
            "contentType": "CSV",
            "lineEnding": "CRLF",
        },
        timeout=5,
    )
    assert created.status_code == 200
    job = created.json()
    assert job["state"] == "Open"
    assert job["apiVersion"] == 62.0
    assert job["contentUrl"] == f"services/data/v62.0/jobs/ingest/{job['id']}/batches"
    assert created.headers["Sforce-Limit-Info"] == "api-usage=1/15000"

    upload = http.put(
        f"{jobs}/{job['id']}/batches",
        data=f"Id,Email,LastName\r\n{ids[0]},a@b.c,#N/A\r\n{ids[1]},,Kept\r\n",
        headers={"Content-Type": "text/csv"},
        timeout=5,
    )
    assert upload.status_code == 201

    closed = http.patch(
        f"{jobs}/{job['id']}", json={"state": "UploadComplete"}, timeout=5
    )
    assert closed.json()["state"] == "UploadComplete"

    polled = http.get(f"{jobs}/{job['id']}", timeout=5).json()
    assert polled["state"] == "InProgress"
    assert standin.store.get(ids[0])["Email"] == "person0@example.com"

    polled = http.get(f"{jobs}/{job['id']}", timeout=5).json()
    assert polled["state"] == "JobComplete"
    assert polled["numberRecordsProcessed"] == 2
    first, second = standin.store.get(ids[0]), standin.store.get(ids[1])
    assert (first["Email"], first["LastName"]) == ("a@b.c", None)
    # An empty cell leaves the field as it was.
    assert (second["Email"], second["LastName"]) == ("person1@example.com", "Kept")

    results = http.get(f"{jobs}/{job['id']}/successfulResults/", timeout=5)
    assert results.headers["Content-Type"] == "text/csv"
    assert (
        results.text.splitlines()[0] == '"sf__Id","sf__Created","Id","Email","LastName"'
    )


def test_bulk2_job_with_unknown_column_fails(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    ids = add_contacts(standin, 1)

    with pytest.raises(Exception, match="Field name not found : Bogus"):
        sf.bulk2.Contact.update(records=[{"Id": ids[0], "Bogus": "1"}], wait=0)


# -- limits, authentication and login -----------------------------------------


def test_limits_and_limit_info_header(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    standin.api_request_limit = 100
    sf.query("SELECT Id FROM Contact")

    limits = sf.limits()

    assert limits["DailyApiRequests"] == {"Max": 100, "Remaining": 98}
    assert sf.api_usage["api-usage"].used == 2
    assert sf.api_usage["api-usage"].total == 100
    assert standin.counts == {"query": 1, "limits": 1}


def test_exhausted_api_quota_answers_request_limit_exceeded(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    standin.api_request_limit = 2
    sf.limits()
    sf.limits()

    with pytest.raises(SalesforceRefusedRequest) as error:
        sf.limits()

    assert error.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_requests_without_a_valid_session_get_401(standin: SalesforceStandin) -> None:
    url = standin.data_url() + "limits/"

    for headers in ({}, {"Authorization": "Bearer forged"}):
        response = requests.get(url, headers=headers, verify=standin.ca_path, timeout=5)
        assert response.status_code == 401
        assert response.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]
        assert response.headers["Sforce-Limit-Info"] == "api-usage=0/15000"

    token = standin.issue_session()
    response = requests.get(
        url,
        headers={"Authorization": f"Bearer {token}"},
        verify=standin.ca_path,
        timeout=5,
    )
    assert response.status_code == 200


def test_certificate_is_verified_against_the_standin_ca(
    standin: SalesforceStandin,
) -> None:
    # The system trust store does not know the per-server CA.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(standin.instance_url, verify=True, timeout=5)


def test_soap_login_with_security_token(standin: SalesforceStandin) -> None:
    add_contacts(standin, 1)

    sf = standin.login_client()

    assert sf.sf_instance == f"127.0.0.1:{standin.port}"
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 1
    assert standin.counts == {"login": 1, "query": 1}
    assert standin.requests[0].path == "/services/Soap/u/59.0"


def test_soap_login_with_a_wrong_password_fails(standin: SalesforceStandin) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as error:
        Salesforce(
            username=standin.api.username,
            password="wrong",
            security_token=standin.api.security_token,
            session=standin.session(),
        )

    assert error.value.code == "INVALID_LOGIN"


def test_oauth_password_flow_through_simple_salesforce(
    standin: SalesforceStandin,
) -> None:
    sf = Salesforce(
        username=standin.api.username,
        password=standin.api.password,
        consumer_key=standin.api.client_id,
        consumer_secret=standin.api.client_secret,
        session=standin.session(),
    )

    assert sf.sf_instance == f"127.0.0.1:{standin.port}"
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000
    assert standin.requests[0].path == "/services/oauth2/token"


def _rsa_key_pem() -> tuple[str, str]:
    """Return a new (private, public) RSA key pair, both as PEM text."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


def test_oauth_jwt_bearer_flow_of_simple_salesforce(standin: SalesforceStandin) -> None:
    private, public = _rsa_key_pem()
    standin.api.jwt_public_key = public

    sf = Salesforce(
        username=standin.api.username,
        consumer_key=standin.api.client_id,
        privatekey=private,
        session=standin.session(),
    )

    assert sf.limits()["DailyApiRequests"]["Max"] == 15000
    assert standin.requests[0].path == "/services/oauth2/token"


@pytest.mark.parametrize(
    ("change", "error", "description"),
    [
        ({"exp": 1}, "invalid_grant", "expired authorization code"),
        ({"aud": "https://example.com"}, "invalid_grant", "audience is invalid"),
        ({"iss": "someone-else"}, "invalid_client_id", "client identifier invalid"),
        (
            {"sub": "nobody@example.com"},
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        ({"key": "another"}, "invalid_grant", "invalid assertion"),
    ],
)
def test_a_jwt_bearer_assertion_is_refused_as_salesforce_refuses_it(
    standin: SalesforceStandin, change: dict, error: str, description: str
) -> None:
    private, public = _rsa_key_pem()
    standin.api.jwt_public_key = public
    claims = {
        "iss": standin.api.client_id,
        "sub": standin.api.username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
    }
    signing_key = _rsa_key_pem()[0] if change.pop("key", None) else private
    assertion = jwt.encode({**claims, **change}, signing_key, algorithm="RS256")

    refused = requests.post(
        standin.token_url,
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion,
        },
        verify=standin.ca_path,
        timeout=5,
    )

    assert refused.status_code == 400
    assert refused.json() == {"error": error, "error_description": description}


def test_oauth_client_credentials_flow(standin: SalesforceStandin) -> None:
    sf = Salesforce(
        consumer_key=standin.api.client_id,
        consumer_secret=standin.api.client_secret,
        domain="salesinsight.my",
        session=standin.session(),
    )
    assert sf.limits()["DailyApiRequests"]["Remaining"] == 14999

    refused = requests.post(
        standin.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": standin.api.client_id,
            "client_secret": "wrong",
        },
        verify=standin.ca_path,
        timeout=5,
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_client"

    granted = requests.post(
        standin.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": standin.api.client_id,
            "client_secret": standin.api.client_secret,
        },
        verify=standin.ca_path,
        timeout=5,
    ).json()
    assert granted["instance_url"] == standin.instance_url
    assert granted["token_type"] == "Bearer"
    assert standin.api.is_valid_session(granted["access_token"])


# -- faults -------------------------------------------------------------------


def test_invalid_session_fault_forces_a_relogin(standin: SalesforceStandin) -> None:
    add_contacts(standin, 1)
    sf = standin.login_client()
    old_token = sf.session_id
    standin.faults.invalid_session(kind="query")

    result = sf.query("SELECT Id FROM Contact")

    assert result["totalSize"] == 1
    assert sf.session_id != old_token
    assert not standin.api.is_valid_session(old_token)
    assert standin.counts == {"login": 2, "query": 2}
    assert [(r.kind, r.status, r.fault) for r in standin.requests] == [
        ("login", 200, None),
        ("query", 401, "invalid_session"),
        ("login", 200, None),
        ("query", 200, None),
    ]


def test_invalid_session_fault_without_login_raises(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    standin.faults.invalid_session()

    with pytest.raises(SalesforceExpiredSession) as error:
        sf.limits()
    assert error.value.content[0]["errorCode"] == "INVALID_SESSION_ID"

    # The session stays revoked: a re-login is the only way back.
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()


def test_request_limit_fault_fires_the_given_number_of_times(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    standin.faults.request_limit_exceeded(times=2)

    for _ in range(2):
        with pytest.raises(SalesforceRefusedRequest) as error:
            sf.limits()
        assert error.value.status == 403
        assert error.value.content == [
            {
                "message": "TotalRequests Limit exceeded.",
                "errorCode": "REQUEST_LIMIT_EXCEEDED",
            }
        ]
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000
    assert standin.faults.pending == []


def test_forbidden_fault(standin: SalesforceStandin, sf: Salesforce) -> None:
    standin.faults.forbidden("API_DISABLED_FOR_ORG", "API is not enabled")

    with pytest.raises(SalesforceRefusedRequest) as error:
        sf.query("SELECT Id FROM Contact")

    assert error.value.content[0]["errorCode"] == "API_DISABLED_FOR_ORG"


@pytest.mark.parametrize(
    ("status", "error_code"), [(500, "UNKNOWN_EXCEPTION"), (503, "SERVER_UNAVAILABLE")]
)
def test_server_error_faults(
    standin: SalesforceStandin, sf: Salesforce, status: int, error_code: str
) -> None:
    standin.faults.server_error(status, kind="collections_patch")

    # Other kinds pass untouched.
    sf.query("SELECT Id FROM Contact")
    with pytest.raises(SalesforceGeneralError) as error:
        sf.restful("composite/sobjects", method="PATCH", json=collection_body([]))

    assert error.value.status == status
    assert error.value.content[0]["errorCode"] == error_code
    assert [r.status for r in standin.requests] == [200, status]


def test_slow_fault_outlasts_the_client_timeout(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    (record_id,) = add_contacts(standin, 1)
    standin.faults.slow(1.0, kind="record_patch")

    with pytest.raises(requests.exceptions.ReadTimeout):
        sf.restful(
            f"sobjects/Contact/{record_id}",
            method="PATCH",
            json={"Email": "late@example.com"},
            timeout=0.2,
        )

    # As with Salesforce, the work still happens after the client gave up.
    deadline = time.monotonic() + 5
    while standin.store.get(record_id)["Email"] != "late@example.com":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_connection_reset_fault(standin: SalesforceStandin, sf: Salesforce) -> None:
    (record_id,) = add_contacts(standin, 1)
    standin.faults.connection_reset(path_contains="/sobjects/Contact/")

    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Contact.update(record_id, {"Email": "never@example.com"})

    assert standin.store.get(record_id)["Email"] == "person0@example.com"
    assert sf.Contact.update(record_id, {"Email": "again@example.com"}) == 204
    assert [(r.kind, r.status, r.fault) for r in standin.requests] == [
        ("record_patch", None, "connection_reset"),
        ("record_patch", 204, None),
    ]


def test_faults_skip_logins_unless_aimed_at_them(standin: SalesforceStandin) -> None:
    standin.faults.server_error(503)
    sf = standin.login_client()
    with pytest.raises(SalesforceGeneralError):
        sf.limits()

    standin.faults.server_error(503, kind="login")
    with pytest.raises(SalesforceAuthenticationFailed):
        standin.login_client()


def test_bulk2_failed_results_carry_injected_validation_errors(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    ids = add_contacts(standin, 3)
    standin.faults.fail_records(
        ids[:2], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Blocked", ["Email"]
    )

    [summary] = sf.bulk2.Contact.update(
        records=[{"Id": i, "Email": "bulk@example.com"} for i in ids], wait=0
    )

    failed = parse_csv(sf.bulk2.Contact.get_failed_records(summary["job_id"]))
    assert {row["sf__Id"] for row in failed} == set(ids[:2])
    assert {row["sf__Error"] for row in failed} == {
        "FIELD_CUSTOM_VALIDATION_EXCEPTION:Blocked:Email"
    }
    assert [standin.store.get(i)["Email"] for i in ids] == [
        "person0@example.com",
        "person1@example.com",
        "bulk@example.com",
    ]


# -- Composite Batch ----------------------------------------------------------


def query_subrequest(text: str, version: str = "59.0") -> dict[str, str]:
    return {
        "method": "GET",
        "url": f"/services/data/v{version}/query/?" + urlencode({"q": text}),
    }


def batch(sf: Salesforce, *subrequests: dict, halt_on_error: bool = False) -> dict:
    body = {"batchRequests": list(subrequests), "haltOnError": halt_on_error}
    return sf.restful("composite/batch", method="POST", json=body)


def test_composite_batch_answers_each_subrequest_as_a_direct_call_would(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    contact_ids = add_contacts(standin, 3)
    lead_id = standin.store.add_lead(Email="lin@example.com", LastName="L")
    standin.query_batch_size = 2

    answer = batch(
        sf,
        query_subrequest("SELECT Id FROM Contact"),
        query_subrequest("SELECT Id, Email FROM Lead"),
        # Salesforce also takes URLs relative to /services/data/.
        {"method": "GET", "url": "v59.0/limits"},
    )

    contacts, leads, limits = answer["results"]
    assert answer["hasErrors"] is False
    assert [r["statusCode"] for r in answer["results"]] == [200, 200, 200]
    assert contacts["result"]["done"] is False
    assert [r["Id"] for r in contacts["result"]["records"]] == contact_ids[:2]
    assert leads["result"]["records"] == [
        {
            "attributes": {
                "type": "Lead",
                "url": f"/services/data/v59.0/sobjects/Lead/{lead_id}",
            },
            "Id": lead_id,
            "Email": "lin@example.com",
        }
    ]
    assert limits["result"]["DailyApiRequests"]["Max"] == 15000
    # A locator from a batch pages on like any other.
    rest = sf.query_more(contacts["result"]["nextRecordsUrl"], identifier_is_url=True)
    assert [r["Id"] for r in rest["records"]] == contact_ids[2:]

    assert standin.counts == {"composite_batch": 1, "query_more": 1}
    assert standin.subrequest_counts == {"query": 2, "limits": 1}
    assert [(s.kind, s.status) for s in standin.requests[0].subrequests] == [
        ("query", 200),
        ("query", 200),
        ("limits", 200),
    ]
    # Each subrequest counts against the API limit; the batch itself does not.
    assert standin.api_requests_used == 4
    assert sf.api_usage["api-usage"].used == 4


def test_a_failed_subrequest_answers_inside_a_200_and_the_rest_still_run(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    add_contacts(standin, 1)
    with pytest.raises(SalesforceMalformedRequest) as direct:
        sf.query("SELECT Bogus FROM Contact")

    answer = batch(
        sf,
        query_subrequest("SELECT Bogus FROM Contact"),
        query_subrequest("SELECT Id FROM Contact"),
    )

    failed, passed = answer["results"]
    assert answer["hasErrors"] is True
    assert (failed["statusCode"], failed["result"]) == (400, direct.value.content)
    assert (passed["statusCode"], passed["result"]["totalSize"]) == (200, 1)


def test_halt_on_error_answers_412_for_every_later_subrequest(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    answer = batch(
        sf,
        {"method": "GET", "url": "/services/data/v59.0/sobjects/Contact/nope"},
        query_subrequest("SELECT Id FROM Contact"),
        {"method": "GET", "url": "/services/data/v59.0/limits"},
        halt_on_error=True,
    )

    assert answer["hasErrors"] is True
    assert [r["statusCode"] for r in answer["results"]] == [404, 412, 412]
    assert answer["results"][1]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"
    # Halted subrequests never ran, so they cost nothing.
    assert standin.api_requests_used == 1
    assert standin.subrequest_counts == {"record_get": 1, "query": 1, "limits": 1}


def test_a_fault_aimed_at_a_kind_answers_the_subrequest_inside_the_batch(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    standin.faults.invalid_session(kind="query")
    token = sf.session_id

    answer = batch(
        sf,
        query_subrequest("SELECT Id FROM Contact"),
        query_subrequest("SELECT Id FROM Lead"),
    )

    # The revoked session fails the next subrequest too, as in Salesforce.
    assert [r["statusCode"] for r in answer["results"]] == [401, 401]
    assert answer["results"][0]["result"] == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert not standin.api.is_valid_session(token)
    assert [
        (
            r.kind,
            r.status,
            r.fault,
            [(s.kind, s.status, s.fault) for s in r.subrequests],
        )
        for r in standin.requests
    ] == [
        (
            "composite_batch",
            200,
            None,
            [("query", 401, "invalid_session"), ("query", 401, None)],
        )
    ]


def test_the_request_limit_can_run_out_between_subrequests(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    standin.api_request_limit = 1

    answer = batch(
        sf,
        query_subrequest("SELECT Id FROM Contact"),
        query_subrequest("SELECT Id FROM Lead"),
    )

    assert [r["statusCode"] for r in answer["results"]] == [200, 403]
    assert answer["results"][1]["result"][0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    # With the quota spent, the batch itself is refused.
    with pytest.raises(SalesforceRefusedRequest) as error:
        batch(sf, query_subrequest("SELECT Id FROM Contact"))
    assert error.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


@pytest.mark.parametrize(
    ("inject", "raised"),
    [
        pytest.param(
            lambda f: f.server_error(503), SalesforceGeneralError, id="no-kind"
        ),
        pytest.param(
            lambda f: f.request_limit_exceeded(kind="composite_batch"),
            SalesforceRefusedRequest,
            id="batch-kind",
        ),
        pytest.param(
            lambda f: f.connection_reset(kind="query"),
            requests.exceptions.ConnectionError,
            id="reset-in-a-subrequest",
        ),
    ],
)
def test_faults_on_the_batch_itself_fail_the_whole_request(
    standin: SalesforceStandin, sf: Salesforce, inject, raised
) -> None:
    inject(standin.faults)

    with pytest.raises(raised):
        batch(sf, query_subrequest("SELECT Id FROM Contact"))

    assert standin.counts == {"composite_batch": 1}
    assert standin.faults.pending == []
    # The next batch goes through.
    assert batch(sf, query_subrequest("SELECT Id FROM Contact"))["hasErrors"] is False


@pytest.mark.parametrize(
    "subrequests",
    [
        pytest.param([], id="empty"),
        pytest.param([query_subrequest("SELECT Id FROM Contact")] * 26, id="26"),
        pytest.param(
            [{"method": "PATCH", "url": "/services/data/v59.0/composite/sobjects"}],
            id="not-batchable",
        ),
        pytest.param(
            [{"method": "POST", "url": "/services/data/v59.0/limits"}],
            id="wrong-method",
        ),
        pytest.param(
            [query_subrequest("SELECT Id FROM Contact", version="60.0")],
            id="newer-version",
        ),
        pytest.param([{"url": "/services/data/v59.0/limits"}], id="no-method"),
    ],
)
def test_a_malformed_batch_is_refused_before_any_subrequest_runs(
    standin: SalesforceStandin, sf: Salesforce, subrequests: list
) -> None:
    good = query_subrequest("SELECT Id FROM Contact")

    with pytest.raises(SalesforceMalformedRequest) as error:
        batch(sf, good, *subrequests) if subrequests else batch(sf)

    assert error.value.content[0]["errorCode"] == "INVALID_BATCH_REQUEST"
    assert standin.api_requests_used == 0
    assert standin.subrequest_counts == {}


# -- counting, reset and the standalone process ------------------------------


def test_reset_clears_records_faults_counts_and_usage(
    standin: SalesforceStandin, sf: Salesforce
) -> None:
    add_contacts(standin, 2)
    standin.faults.server_error(times=5)
    with pytest.raises(SalesforceGeneralError):
        sf.limits()

    standin.reset()

    assert standin.counts == {}
    assert standin.requests == []
    assert len(standin.store) == 0
    assert standin.faults.pending == []
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
    assert standin.api_requests_used == 1


def test_unknown_paths_and_methods(standin: SalesforceStandin, sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("nothing/here")

    with pytest.raises(SalesforceGeneralError) as error:
        sf.restful("limits/", method="POST")
    assert error.value.status == 405
    assert error.value.content[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    assert standin.counts == {"unknown": 2}


def test_runs_as_a_standalone_process() -> None:
    command = [
        sys.executable,
        "-m",
        "tests.salesforce_standin",
        "--port",
        "0",
        "--print-url",
        "--contacts",
        "3",
    ]
    with subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            details = json.loads(process.stdout.readline())
            response = requests.get(
                details["instance_url"] + "/services/data/v59.0/query/",
                params={"q": "SELECT Id FROM Contact"},
                headers={"Authorization": "Bearer " + details["token"]},
                verify=details["ca_path"],
                timeout=5,
            )
            assert response.json()["totalSize"] == 3
        finally:
            process.terminate()
            process.wait(timeout=10)

    assert process.returncode == 0
