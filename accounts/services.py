"""Create users in a role."""

from django.contrib.auth.models import Group, User
from django.db import transaction

from accounts.roles import ADMIN, ROLES


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a user holding one role; Admins are staff so they reach the admin."""
    if role not in ROLES:
        raise ValueError(f"Unknown role: {role!r}")
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == ADMIN,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user
