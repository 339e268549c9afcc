from accounts.roles import ADMIN


def roles(request):
    """Tell templates whether the user is an Admin, for the navigation."""
    user = getattr(request, "user", None)
    is_admin = bool(
        user
        and user.is_authenticated
        and user.is_staff
        and (user.is_superuser or user.groups.filter(name=ADMIN).exists())
    )
    return {"user_is_admin": is_admin}
