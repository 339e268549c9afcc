"""Where proof-of-consent files live: under MEDIA_ROOT, never at a public URL."""

import posixpath
import uuid

from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """A file system storage that has no URL; files leave only through views."""

    def url(self, name: str | None) -> str:
        raise ValueError(
            "Private files have no public URL; serve them through a view that "
            "checks permissions."
        )


private_storage = PrivateStorage()


def evidence_path(instance: object, filename: str) -> str:
    """Return a random path for an evidence file, keeping only its extension.

    The uploaded name may carry the person's name; the stored one never does.
    """
    extension = posixpath.splitext(filename)[1].lower()[:10]
    return f"evidence/{uuid.uuid4().hex}{extension}"
