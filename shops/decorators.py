from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import WRITE_ROLES


def _no_shop(request):
    return render(request, "shops/no_shop.html", status=403)


def shop_required(view):
    """Login plus a current shop; a user with no shop sees a page that says so (403).

    ``request.shop`` is set by ``CurrentShopMiddleware``; a request that did not pass through
    it (a view called directly, a test's RequestFactory) has no shop either: the same 403,
    never an ``AttributeError``.
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "shop", None) is None or getattr(request, "membership", None) is None:
            return _no_shop(request)
        return view(request, *args, **kwargs)

    return wrapper


def role_required(*roles):
    """Restrict a view to members with one of ``roles`` in the current shop.

    No current shop: the no-shop page (403), as ``shop_required``; another role: 403.
    """

    def decorator(view):
        @shop_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.membership.role not in roles:
                raise PermissionDenied("Your role in this shop cannot do this.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


write_required = role_required(*WRITE_ROLES)
