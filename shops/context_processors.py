from .selectors import memberships_for_user


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_shop": getattr(request, "shop", None),
        "current_membership": getattr(request, "membership", None),
        # Read once by CurrentShopMiddleware; the shop switcher lists them.
        "my_memberships": getattr(request, "memberships", None)
        if hasattr(request, "memberships")
        else memberships_for_user(user=user),
    }
