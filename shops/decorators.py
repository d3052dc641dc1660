from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import WRITE_ROLES


def shop_required(view):
    """Login plus a current shop; a user with no shop sees a page that says so."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.shop is None:
            return render(request, "shops/no_shop.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def role_required(*roles):
    """Restrict a view to members with one of ``roles`` in the current shop."""

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
