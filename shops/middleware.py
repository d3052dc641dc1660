from .selectors import memberships_for_user

SESSION_KEY = "shop_id"


def _last_used(memberships):
    used = [m for m in memberships if m.last_used_at is not None]
    return max(used, key=lambda m: m.last_used_at) if used else memberships[0]


class CurrentShopMiddleware:
    """Sets ``request.shop``, ``request.membership`` and ``request.memberships`` from the session.

    The shop id in the session is re-validated against the user's memberships on every
    request, so a revoked membership takes effect at once and a forged id selects nothing.
    One query reads all of the user's memberships (a handful): the current one is picked from
    them, and the shop switcher lists them without asking again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.shop = None
        request.membership = None
        request.memberships = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.memberships = list(memberships_for_user(user=user))
            stored = request.session.get(SESSION_KEY)
            membership = next((m for m in request.memberships if m.shop_id == stored), None)
            if membership is None and request.memberships:
                # None in this session (a sign-in normally picks one: sellercenter.landing),
                # or no longer a member of it: the shop used last, else the first by name.
                membership = _last_used(request.memberships)
            if membership is not None:
                request.membership = membership
                request.shop = membership.shop
                # Assign only on change: an assignment marks the session modified, and Django
                # would then write it back on every request.
                if stored != membership.shop_id:
                    request.session[SESSION_KEY] = membership.shop_id
        return self.get_response(request)
