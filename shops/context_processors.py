from .selectors import memberships_for_user


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_shop": getattr(request, "shop", None),
        "current_membership": getattr(request, "membership", None),
        # Lazy: evaluated only where the shop switcher renders.
        "my_memberships": memberships_for_user(user=user),
    }
