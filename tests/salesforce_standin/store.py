"""In-memory Contact and Lead records shaped like Salesforce's.

Records are plain dicts keyed by their canonical field names. Ids are 18-character
case-insensitive Salesforce ids (key prefix, 12 characters, 3-character checksum)
so that code which validates or shortens ids sees realistic values.
"""

import itertools
import string
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

KEY_PREFIXES = {"Contact": "003", "Lead": "00Q"}

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CHECKSUM_ALPHABET = string.ascii_uppercase + "012345"

# Salesforce renders datetimes as 2026-01-01T00:00:00.000+0000 in REST JSON.
_SALESFORCE_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.{millis}+0000"


@dataclass(frozen=True)
class FieldSpec:
    """Describe one field: its canonical name, type and whether clients may write it."""

    name: str
    type: str  # "id", "string", "boolean" or "datetime"
    writable: bool


class RecordError(Exception):
    """A per-record failure, reported like a Salesforce SaveResult error."""

    def __init__(
        self, status_code: str, message: str, fields: Iterable[str] = ()
    ) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.fields = list(fields)

    def as_dict(self) -> dict[str, Any]:
        """Return the error as it appears in a SaveResult's errors list."""
        return {
            "statusCode": self.status_code,
            "message": self.message,
            "fields": list(self.fields),
        }


class UnknownFieldError(Exception):
    """A field name the sObject does not have; Salesforce rejects the whole call."""

    def __init__(self, sobject: str, field_name: str) -> None:
        super().__init__(f"No such column '{field_name}' on sobject of type {sobject}")
        self.sobject = sobject
        self.field_name = field_name


def _standard_fields(*extra: FieldSpec) -> dict[str, FieldSpec]:
    specs = [
        FieldSpec("Id", "id", writable=False),
        FieldSpec("Email", "string", writable=True),
        FieldSpec("FirstName", "string", writable=True),
        FieldSpec("LastName", "string", writable=True),
        FieldSpec("HasOptedOutOfEmail", "boolean", writable=True),
        FieldSpec("CreatedDate", "datetime", writable=False),
        FieldSpec("LastModifiedDate", "datetime", writable=False),
        FieldSpec("SystemModstamp", "datetime", writable=False),
        FieldSpec("IsDeleted", "boolean", writable=False),
        *extra,
    ]
    return {spec.name: spec for spec in specs}


def id_checksum(id15: str) -> str:
    """Return the 3-character suffix that makes a 15-character id case-insensitive."""
    suffix = ""
    for start in (0, 5, 10):
        chunk = id15[start : start + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if char.isupper())
        suffix += _CHECKSUM_ALPHABET[bits]
    return suffix


def make_salesforce_id(key_prefix: str, number: int) -> str:
    """Build an 18-character id from a 3-character key prefix and a serial number."""
    digits = ""
    while number:
        number, remainder = divmod(number, 62)
        digits = _BASE62[remainder] + digits
    # "5g" stands in for the pod/instance characters real ids carry.
    id15 = key_prefix + "5g" + digits.rjust(10, "0")
    if len(id15) != 15:
        raise ValueError("serial number too large for a Salesforce id")
    return id15 + id_checksum(id15)


def normalize_id(value: str) -> str | None:
    """Return the 18-character form of a 15- or 18-character id, else None."""
    if not isinstance(value, str) or not value.isalnum():
        return None
    if len(value) == 15:
        return value + id_checksum(value)
    if len(value) == 18 and id_checksum(value[:15]) == value[15:].upper():
        return value[:15] + value[15:].upper()
    return None


def format_datetime(value: datetime) -> str:
    """Render a datetime the way Salesforce's REST API does."""
    value = value.astimezone(UTC)
    millis = f"{value.microsecond // 1000:03d}"
    return value.strftime(_SALESFORCE_DATETIME_FORMAT.format(millis=millis))


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 datetime as Salesforce accepts it (Z, +0000 or +00:00)."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RecordStore:
    """Hold Contact and Lead records in memory, safe to use from several threads."""

    def __init__(
        self,
        custom_fields: Mapping[str, Iterable[str]] | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._serial = itertools.count(1_000_000)
        self._records: dict[str, dict[str, Any]] = {}
        self._fields: dict[str, dict[str, FieldSpec]] = {
            "Contact": _standard_fields(),
            "Lead": _standard_fields(FieldSpec("Company", "string", writable=True)),
        }
        for sobject, names in (custom_fields or {}).items():
            for name in names:
                self.define_custom_field(sobject, name)

    @property
    def sobjects(self) -> tuple[str, ...]:
        """Return the sObject types this store knows."""
        return tuple(self._fields)

    def define_custom_field(self, sobject: str, name: str) -> None:
        """Add a custom checkbox field (name ending in __c) defaulting to false."""
        if not name.endswith("__c"):
            raise ValueError(f"custom field names end in __c: {name!r}")
        with self._lock:
            self._fields[sobject][name] = FieldSpec(name, "boolean", writable=True)
            for record in self._records.values():
                if record["attributes"]["type"] == sobject:
                    record.setdefault(name, False)

    def field(self, sobject: str, name: str) -> FieldSpec:
        """Return a field's spec by case-insensitive name or raise UnknownFieldError."""
        fields = self._fields.get(sobject)
        if fields is None:
            raise KeyError(sobject)
        spec = fields.get(name)
        if spec is not None:
            return spec
        lowered = name.lower()
        for candidate in fields.values():
            if candidate.name.lower() == lowered:
                return candidate
        raise UnknownFieldError(sobject, name)

    def fields(self, sobject: str) -> list[FieldSpec]:
        """Return every field of an sObject type."""
        return list(self._fields[sobject].values())

    def now(self) -> datetime:
        """Return the store clock's time, cut to Salesforce's millisecond precision."""
        now = self.clock().astimezone(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def add(self, sobject: str, **values: Any) -> str:
        """Create a record of the given type and return its 18-character Id."""
        if sobject not in self._fields:
            raise ValueError(f"unsupported sObject type {sobject!r}")
        with self._lock:
            record_id = values.pop("Id", None) or make_salesforce_id(
                KEY_PREFIXES[sobject], next(self._serial)
            )
            now = self.now()
            record: dict[str, Any] = {"attributes": {"type": sobject}}
            for spec in self._fields[sobject].values():
                record[spec.name] = False if spec.type == "boolean" else None
            record.update(
                Id=record_id, CreatedDate=now, LastModifiedDate=now, SystemModstamp=now
            )
            for name, value in values.items():
                spec = self.field(sobject, name)
                if spec.type == "datetime" and isinstance(value, str):
                    value = parse_datetime(value)
                record[spec.name] = value
            self._records[record_id] = record
            return record_id

    def add_contact(self, **values: Any) -> str:
        """Create a Contact and return its Id."""
        return self.add("Contact", **values)

    def add_lead(self, **values: Any) -> str:
        """Create a Lead and return its Id."""
        return self.add("Lead", **values)

    def get(self, record_id: str) -> dict[str, Any] | None:
        """Return a copy of a record (deleted ones included), or None."""
        with self._lock:
            record = self._records.get(normalize_id(record_id) or record_id)
            return self._copy(record) if record is not None else None

    def all(self, sobject: str, include_deleted: bool = True) -> list[dict[str, Any]]:
        """Return copies of every record of a type, in creation order."""
        with self._lock:
            return [
                self._copy(record)
                for record in self._records.values()
                if record["attributes"]["type"] == sobject
                and (include_deleted or not record["IsDeleted"])
            ]

    def delete(self, record_id: str) -> None:
        """Move a record to the recycle bin, as Salesforce's soft delete does."""
        with self._lock:
            record = self._records[normalize_id(record_id) or record_id]
            record["IsDeleted"] = True
            self._touch(record)

    def clear(self) -> None:
        """Drop every record."""
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        return len(self._records)

    def check_update(
        self, sobject: str | None, record_id: Any, changes: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Validate an update and return the record's Id and canonical changes.

        Raises UnknownFieldError for a field the type lacks (Salesforce fails the
        whole request) and RecordError for anything that fails this record only.
        """
        if not record_id:
            raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call")
        normalized = normalize_id(record_id) if isinstance(record_id, str) else None
        type_label = sobject or "Record"
        if normalized is None or (
            sobject is not None and normalized[:3] != KEY_PREFIXES.get(sobject)
        ):
            raise RecordError(
                "MALFORMED_ID",
                f"{type_label} ID: id value of incorrect type: {record_id}",
                ["Id"],
            )
        with self._lock:
            record = self._records.get(normalized)
            if record is None:
                raise RecordError(
                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"
                )
            if record["IsDeleted"]:
                raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
            record_type = record["attributes"]["type"]
        canonical: dict[str, Any] = {}
        read_only: list[str] = []
        for name, value in changes.items():
            spec = self.field(record_type, name)
            if not spec.writable:
                read_only.append(spec.name)
                continue
            if spec.type == "boolean" and not isinstance(value, bool):
                raise RecordError(
                    "INVALID_TYPE_ON_FIELD_IN_RECORD",
                    f"{spec.name}: value not of required type: {value}",
                    [spec.name],
                )
            if spec.type == "string" and not isinstance(value, str | None):
                raise RecordError(
                    "INVALID_TYPE_ON_FIELD_IN_RECORD",
                    f"{spec.name}: value not of required type: {value}",
                    [spec.name],
                )
            canonical[spec.name] = value
        if read_only:
            raise RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(read_only)}. Please "
                "check the security settings of this field and verify that it is "
                "read/write for your profile or permission set.",
                read_only,
            )
        return normalized, canonical

    def apply_update(self, record_id: str, changes: Mapping[str, Any]) -> None:
        """Write already-checked changes and stamp the record as modified."""
        with self._lock:
            record = self._records[record_id]
            record.update(changes)
            self._touch(record)

    def _touch(self, record: dict[str, Any]) -> None:
        now = self.now()
        record["LastModifiedDate"] = now
        record["SystemModstamp"] = now

    @staticmethod
    def _copy(record: dict[str, Any]) -> dict[str, Any]:
        copied = dict(record)
        copied["attributes"] = dict(record["attributes"])
        return copied
