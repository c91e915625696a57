"""Settings → API tokens: each user creates and revokes their own tokens; staff
also see everyone's and may revoke them (a departed colleague's, a leaked one)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from hub.api.models import ApiToken
from hub.web import audit


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What will use it, e.g. “ERP stock feed”."),
    )


def owner(request: HttpRequest) -> AbstractBaseUser:
    # LoginRequiredMiddleware guarantees a logged-in user on every page here.
    assert isinstance(request.user, AbstractBaseUser)
    return request.user


def owner_id(request: HttpRequest) -> int:
    # LoginRequiredMiddleware guarantees a logged-in user on every page here.
    user_id = request.user.pk
    assert isinstance(user_id, int)
    return user_id


def visible_tokens(request: HttpRequest) -> QuerySet[ApiToken]:
    """Staff see every user's tokens; everyone else only their own."""
    if request.user.is_staff:
        return ApiToken.objects.all()
    return ApiToken.objects.filter(user_id=owner_id(request))


@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        # Rendered in this response only, never stored in a message or a session.
        row, new_token = ApiToken.issue(owner(request), form.cleaned_data["name"])
        audit.record(request, row, audit.ADDITION, "Created the API token.")
        form = TokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": visible_tokens(request).select_related("user"),
        "show_owner": request.user.is_staff,
    }
    response = render(request, "api/tokens.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(visible_tokens(request), pk=pk)
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        audit.record(request, token, audit.CHANGE, "Revoked the API token.")
    messages.success(request, _("Revoked the token %(name)s.") % {"name": token.name})
    return redirect("api_tokens")
