"""Admin pages to upload contact files and suppression lists, and to follow an import.

An upload is stored with its `ImportJob` and imported by a worker (`campaigns.tasks`);
the job page refreshes itself until the import is done.
"""

from datetime import UTC, datetime, time

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from campaigns.importing import ImportFileError
from campaigns.models import USPS_STATES, ImportJob, Organization
from campaigns.registry import LISTS, RegistryFileError
from campaigns.tasks import import_job_create
from tenancy.scoping import scoped, tenant_of

REFRESH_SECONDS = 2


class ContactImportForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("name"))
    file = forms.FileField(
        help_text="CSV, UTF-8, first row naming the columns: phone (required), name, state, "
        "postal_code, language, consent_purpose, consent_written, consent_seller_named, "
        "consent_source, consent_evidence, consent_captured_at; any other column becomes a "
        "template variable."
    )


class SuppressionImportForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("name"))
    source = forms.ChoiceField(choices=[(source, source.label) for source in LISTS], label="List")
    state = forms.ChoiceField(
        choices=[("", "—"), *((code, code) for code in sorted(USPS_STATES))],
        required=False,
        help_text="For a state list only.",
    )
    synced_at = forms.DateField(
        label="Registry date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date of this copy of the registry (required for registries).",
    )
    replaces_previous = forms.BooleanField(
        required=False,
        label="Full copy",
        help_text="Numbers of this list that the file no longer holds are removed.",
    )
    file = forms.FileField(help_text="One number per line; blank lines and # comments skipped.")

    def synced_instant(self) -> datetime | None:
        day = self.cleaned_data.get("synced_at")
        return datetime.combine(day, time(0), tzinfo=UTC) if day else None


def import_upload_view(request, kind: str):
    needed = {
        ImportJob.Kind.CONTACTS: ["campaigns.add_contact", "campaigns.add_importjob"],
        ImportJob.Kind.SUPPRESSIONS: ["campaigns.add_suppression", "campaigns.add_importjob"],
    }[kind]
    if not request.user.has_perms(needed):
        raise PermissionDenied
    form_class = ContactImportForm if kind == ImportJob.Kind.CONTACTS else SuppressionImportForm
    tenant = tenant_of(request)
    form = form_class(request.POST or None, request.FILES or None)
    # Only the organisations the user acts in; another's id is refused as an unknown one.
    form.fields["organization"].queryset = scoped(Organization.objects.order_by("name"), tenant)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        extra = {}
        if kind == ImportJob.Kind.SUPPRESSIONS:
            extra = {
                "source": values["source"],
                "state": values["state"],
                "synced_at": form.synced_instant(),
                "replaces_previous": values["replaces_previous"],
            }
        try:
            job = import_job_create(
                organization_id=values["organization"].pk,
                kind=kind,
                upload=values["file"],
                user_id=request.user.pk,
                **extra,
            )
        except (RegistryFileError, ImportFileError) as error:
            form.add_error("file" if isinstance(error, ImportFileError) else None, str(error))
        else:
            return redirect("admin:campaigns_importjob_progress", job.pk)
    organizations = form.fields["organization"].queryset
    if not form.is_bound and tenant.organization is not None:
        form.fields["organization"].initial = tenant.organization
    elif not form.is_bound and organizations.count() == 1:
        form.fields["organization"].initial = organizations.first()
    title = "Import contacts" if kind == ImportJob.Kind.CONTACTS else "Import a suppression list"
    return TemplateResponse(
        request,
        "admin/campaigns/import_form.html",
        {
            **admin.site.each_context(request),
            "title": title,
            "form": form,
            "opts": ImportJob._meta,
            "recent": scoped(ImportJob.objects.filter(kind=kind), tenant).select_related(
                "organization"
            )[:10],
        },
    )


def import_progress_view(request, job_id: int):
    if not request.user.has_perm("campaigns.view_importjob"):
        raise PermissionDenied
    job = get_object_or_404(
        scoped(ImportJob.objects.select_related("organization"), tenant_of(request)), pk=job_id
    )
    back = (
        reverse("admin:campaigns_contact_changelist")
        if job.kind == ImportJob.Kind.CONTACTS
        else reverse("admin:campaigns_suppression_changelist")
    )
    return TemplateResponse(
        request,
        "admin/campaigns/import_progress.html",
        {
            **admin.site.each_context(request),
            "title": f"Import of {job.file_name}",
            "job": job,
            "opts": ImportJob._meta,
            "refresh_seconds": None if job.is_finished else REFRESH_SECONDS,
            "back": back,
        },
    )
