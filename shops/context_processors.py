from functools import cache

from .selectors import memberships_for_user, unread_notification_count


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = getattr(request, "memberships", [])

    @cache
    def unread_notifications() -> int:
        # The bell: a template calls this (a callable is called on use), so a page without
        # the bell costs no query and one with it costs one COUNT, however often it is shown.
        return unread_notification_count(user=user, shop_ids=[m.shop_id for m in memberships])

    return {
        "unread_notifications": unread_notifications,
        "current_shop": getattr(request, "shop", None),
        "current_membership": getattr(request, "membership", None),
        # Read once by CurrentShopMiddleware; the shop switcher lists them.
        "my_memberships": getattr(request, "memberships", None)
        if hasattr(request, "memberships")
        else memberships_for_user(user=user),
    }
