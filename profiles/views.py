"""The HTML front door of the profiles app: view and edit the profile."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from authsite.errors import ValidationFailed
from profiles.forms import ProfileForm
from profiles.selectors import profile_get
from profiles.services import profile_update


class ProfileView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "profiles/detail.html", {"profile": profile_get(user=request.user)})


class ProfileEditView(LoginRequiredMixin, View):
    template_name = "profiles/edit.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        profile = profile_get(user=request.user)
        form = ProfileForm(initial=ProfileForm.initial_from(profile))
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                profile_update(user=request.user, fields=form.cleaned_data)
            except ValidationFailed as exc:
                for field, field_messages in (exc.errors or {}).items():
                    target = field if field in form.fields else None
                    for message in field_messages:
                        form.add_error(target, message)
            else:
                messages.success(request, _("Your profile has been saved."))
                return redirect("profiles:detail")
        return render(request, self.template_name, {"form": form})
