from .selectors import membership_for

SESSION_KEY = "shop_id"


class CurrentShopMiddleware:
    """Sets ``request.shop`` and ``request.membership`` from the session.

    The shop id in the session is re-validated against the user's memberships on every
    request, so a revoked membership takes effect at once and a forged id selects nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.shop = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            stored = request.session.get(SESSION_KEY)
            shop_id = stored if isinstance(stored, int) else None
            membership = membership_for(user=user, shop_id=shop_id)
            if membership is None and shop_id is not None:
                membership = membership_for(user=user, shop_id=None)
            if membership is not None:
                request.membership = membership
                request.shop = membership.shop
                # Assign only on change: an assignment marks the session modified, and Django
                # would then write it back on every request.
                if stored != membership.shop_id:
                    request.session[SESSION_KEY] = membership.shop_id
        return self.get_response(request)
