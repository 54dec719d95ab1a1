"""The admin with two organisations: every changelist, change view and custom page shows
only the current organisation's rows; the other's answer 404 and cannot be written to."""

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents.models import Agent
from calls.models import PhoneNumber
from campaigns.models import Campaign, Consent, Contact, ImportJob, Question, Target
from tenancy.admin_scoping import ScopedAdmin, ScopedFormMixin
from tenancy.models import ApiKey
from tenancy.roles import PERMISSIONS
from tenancy.scoping import ORGANIZATION_PATHS

pytestmark = pytest.mark.django_db

# Registered by Django and django-axes; no role grants any of their permissions, so only
# superusers reach them (they hold users and login attempts of the whole install).
INSTALL_WIDE = {
    "auth.user",
    "auth.group",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
}


def registered():
    return {
        model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()
    }


def project_admins():
    return sorted(label for label in registered() if label not in INSTALL_WIDE)


def admin_url(obj, view: str) -> str:
    opts = obj._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{view}"
    return (
        reverse(name, args=[obj.pk]) if view in ("change", "delete", "history") else reverse(name)
    )


def listed_pks(page) -> set:
    return set(page.context["cl"].queryset.values_list("pk", flat=True))


def test_it_scopes_every_registered_admin_and_inline():
    """A model registered in the admin without the scoping base (or without saying how it
    reaches its organisation) fails here."""
    for label, model_admin in registered().items():
        if label in INSTALL_WIDE:
            assert not any(
                name.startswith(label.split(".")[0] + ".")
                for role in PERMISSIONS.values()
                for name in role
            )
            continue
        assert isinstance(model_admin, ScopedAdmin), f"{label}'s admin is not a ScopedAdmin"
        assert label in ORGANIZATION_PATHS, f"{label} has no organisation path"
        for inline in model_admin.inlines:
            assert issubclass(inline, ScopedFormMixin), f"{inline.__name__} is not scoped"


@pytest.mark.parametrize("label", project_admins())
def test_a_changelist_lists_only_the_current_organisations_rows(
    client, label, ours, theirs, admin_of_ours
):
    client.force_login(admin_of_ours)

    page = client.get(admin_url(ours[label], "changelist"))

    assert page.status_code == 200
    listed = listed_pks(page)
    assert ours[label].pk in listed
    if ORGANIZATION_PATHS[label] is not None:
        assert theirs[label].pk not in listed
    else:  # shared by every organisation (the providers' rate card)
        assert theirs[label].pk in listed


@pytest.mark.parametrize(
    "label", [label for label in project_admins() if ORGANIZATION_PATHS[label] is not None]
)
def test_another_organisations_object_answers_404_on_every_view(
    client, label, ours, theirs, admin_of_ours
):
    client.force_login(admin_of_ours)

    own = client.get(admin_url(ours[label], "change"))
    other = client.get(admin_url(theirs[label], "change"))
    history = client.get(admin_url(theirs[label], "history"))
    forged = client.post(admin_url(theirs[label], "change"), {"name": "Taken over"})

    assert own.status_code == 200
    assert (other.status_code, history.status_code) == (404, 404)
    # Read-only models refuse any POST before looking the object up: 403 either way.
    assert forged.status_code in (403, 404)
    assert str(theirs[label]) not in other.content.decode()
    assert "Taken over" not in {str(row) for row in type(theirs[label]).objects.all()}


def test_a_superuser_sees_every_organisation_until_they_pick_one(
    client, django_user_model, ours, theirs
):
    root = django_user_model.objects.create_superuser("root", password="pw-root-123-long")
    client.force_login(root)
    url = reverse("admin:campaigns_contact_changelist")

    everything = listed_pks(client.get(url))
    client.post(
        reverse("admin:campaigns_organization_switch"),
        {"organization": theirs.organization.pk, "next": url},
    )
    picked = listed_pks(client.get(url))
    client.post(reverse("admin:campaigns_organization_switch"), {"organization": "all"})
    again = listed_pks(client.get(url))

    both = {ours["campaigns.contact"].pk, theirs["campaigns.contact"].pk}
    assert everything == both == again
    assert picked == {theirs["campaigns.contact"].pk}


CUSTOM_VIEWS = [
    ("admin:campaigns_campaign_preview", "campaigns.campaign"),
    ("admin:campaigns_contact_explanation", "campaigns.contact"),
    ("admin:campaigns_target_explanation", "campaigns.target"),
    ("admin:campaigns_importjob_progress", "campaigns.importjob"),
    ("admin:campaigns_targetingjob_progress", "campaigns.targetingjob"),
]


@pytest.mark.parametrize(("name", "label"), CUSTOM_VIEWS)
def test_every_custom_page_answers_404_for_another_organisations_object(
    client, name, label, ours, theirs, operator_of_ours
):
    client.force_login(operator_of_ours)

    own = client.get(reverse(name, args=[ours[label].pk]))
    other = client.get(reverse(name, args=[theirs[label].pk]))

    assert own.status_code == 200
    assert other.status_code == 404


@pytest.mark.parametrize("action", ["launch", "pause", "resume", "cancel"])
def test_the_lifecycle_buttons_answer_404_for_another_organisations_campaign(
    client, action, theirs, operator_of_ours
):
    client.force_login(operator_of_ours)
    campaign = theirs["campaigns.campaign"]

    posted = client.post(reverse("admin:campaigns_campaign_lifecycle", args=[campaign.pk, action]))

    campaign.refresh_from_db()
    assert posted.status_code == 404
    assert campaign.status == Campaign.Status.DRAFT


def test_the_explanation_offers_only_the_organisations_campaigns(
    client, ours, theirs, operator_of_ours
):
    client.force_login(operator_of_ours)

    page = client.get(
        reverse("admin:campaigns_contact_explanation", args=[ours["campaigns.contact"].pk]),
        {"campaign": theirs["campaigns.campaign"].pk},
    )

    assert page.status_code == 200
    assert theirs["campaigns.campaign"].name not in page.content.decode()
    assert "Select a valid choice" in page.content.decode()


@pytest.mark.parametrize("kind", ["contact", "suppression"])
def test_an_upload_into_another_organisation_is_refused(
    client, kind, ours, theirs, operator_of_ours
):
    client.force_login(operator_of_ours)
    fields = {
        "organization": theirs.organization.pk,
        "file": SimpleUploadedFile("a.csv", b"phone\n3055550150\n"),
    }
    if kind == "suppression":
        fields.update(source="internal")

    page = client.get(reverse(f"admin:campaigns_{kind}_import"))
    posted = client.post(reverse(f"admin:campaigns_{kind}_import"), fields)

    assert theirs.organization.name not in page.content.decode()
    assert posted.status_code == 200
    assert "Select a valid choice" in posted.content.decode()
    assert ImportJob.objects.count() == 2  # the fixture's two


def test_a_forged_campaign_with_another_organisations_agent_and_number_is_refused(
    client, ours, theirs, operator_of_ours
):
    client.force_login(operator_of_ours)

    posted = client.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "organization": theirs.organization.pk,
            "name": "Borrowed",
            "kind": "reminder",
            "purpose": "informational",
            "agent": theirs["agents.agent"].pk,
            "caller_id": theirs["calls.phonenumber"].pk,
            "weekdays": "0,1,2,3,4",
            "max_concurrent_calls": 1,
            "calls_per_second": 1,
            "max_attempts": 1,
            "retry_delays": "[]",
        },
    )

    errors = posted.context["adminform"].form.errors
    assert set(errors) >= {"agent", "caller_id"}
    assert "organization" not in posted.context["adminform"].form.fields  # hidden from members
    assert not Campaign.objects.filter(name="Borrowed").exists()


@pytest.mark.parametrize(
    ("url_name", "fields", "model"),
    [
        (
            "admin:campaigns_consent_add",
            lambda theirs: {
                "contact": theirs["campaigns.contact"].pk,
                "purpose": "informational",
                "source": "forged",
                "captured_at_0": "2026-11-17",
                "captured_at_1": "10:00:00",
            },
            Consent,
        ),
        (
            "admin:campaigns_target_add",
            lambda theirs: {
                "campaign": theirs["campaigns.campaign"].pk,
                "contact": theirs["campaigns.contact"].pk,
                "status": "pending",
                "attempts": 0,
                "variables": "{}",
            },
            Target,
        ),
        (
            "admin:campaigns_question_add",
            lambda theirs: {
                "survey": theirs["campaigns.survey"].pk,
                "position": 2,
                "kind": "text",
                "text": "Forged question",
            },
            Question,
        ),
    ],
)
def test_a_forged_post_naming_another_organisations_row_gets_a_form_error(
    client, url_name, fields, model, theirs, operator_of_ours
):
    client.force_login(operator_of_ours)
    before = model.objects.count()

    posted = client.post(reverse(url_name), fields(theirs))

    form = posted.context["adminform"].form
    assert posted.status_code == 200
    assert any(
        "Select a valid choice" in message
        for messages in form.errors.values()
        for message in messages
    )
    assert model.objects.count() == before


def test_a_phone_number_cannot_route_to_another_organisations_agent(client, theirs, admin_of_ours):
    client.force_login(admin_of_ours)

    posted = client.post(
        reverse("admin:calls_phonenumber_add"),
        {"number": "+12025550177", "inbound_agent": theirs["agents.agent"].pk, "is_inbound": "on"},
    )

    assert "inbound_agent" in posted.context["adminform"].form.errors
    assert not PhoneNumber.objects.filter(number="+12025550177").exists()


def test_a_member_creates_into_the_current_organisation_whatever_the_post_says(
    client, ours, theirs, operator_of_ours
):
    client.force_login(operator_of_ours)

    client.post(
        reverse("admin:agents_agent_add"),
        {
            "organization": theirs.organization.pk,
            "name": "Front desk",
            "instructions": "Remind {{ contact.name }}.",
            "voice": "alloy",
            "language": "en",
            "max_call_seconds": 300,
            "max_cost_per_call": "1.00",
            "tools": '["end_call"]',
        },
    )
    created = client.post(
        reverse("admin:campaigns_contact_add"),
        {
            "organization": theirs.organization.pk,
            "phone": "+13055550199",
            "name": "New",
            "language": "en",
            "variables": "{}",
            "consents-TOTAL_FORMS": 0,
            "consents-INITIAL_FORMS": 0,
        },
    )

    assert created.status_code == 302
    assert Contact.objects.get(phone="+13055550199").organization == ours.organization
    assert not Agent.objects.filter(name="Front desk", organization=theirs.organization).exists()


def test_a_duplicate_phone_in_the_organisation_is_a_form_error_not_a_crash(
    client, ours, operator_of_ours
):
    client.force_login(operator_of_ours)

    posted = client.post(
        reverse("admin:campaigns_contact_add"),
        {
            "phone": ours["campaigns.contact"].phone,
            "language": "en",
            "variables": "{}",
            "consents-TOTAL_FORMS": 0,
            "consents-INITIAL_FORMS": 0,
        },
    )

    assert posted.status_code == 200
    assert posted.context["adminform"].form.non_field_errors()


def test_an_action_never_reaches_another_organisations_rows(client, ours, theirs, operator_of_ours):
    client.force_login(operator_of_ours)

    client.post(
        reverse("admin:campaigns_contact_changelist"),
        {"action": "record_opt_out", "_selected_action": [theirs["campaigns.contact"].pk]},
    )
    client.post(
        reverse("admin:campaigns_consent_changelist"),
        {
            "action": "revoke",
            "_selected_action": [theirs["campaigns.consent"].pk],
            "select_across": "1",
        },
    )

    assert not Consent.objects.filter(
        revoked_at__isnull=False, contact__organization=theirs.organization
    ).exists()
    # select_across acted on this organisation's consents only
    assert Consent.objects.get(pk=ours["campaigns.consent"].pk).revoked_at is not None


def test_related_list_filters_list_only_the_organisations_rows(
    client, ours, theirs, operator_of_ours
):
    client.force_login(operator_of_ours)

    targets = client.get(reverse("admin:campaigns_target_changelist")).content.decode()
    contacts = client.get(reverse("admin:campaigns_contact_changelist")).content.decode()

    assert ours["campaigns.campaign"].name in targets
    assert theirs["campaigns.campaign"].name not in targets
    assert theirs.organization.name not in contacts  # no organisation filter for members


def test_autocomplete_and_raw_id_lookups_stay_in_the_organisation(
    client, ours, theirs, operator_of_ours
):
    client.force_login(operator_of_ours)

    lookup = client.get(
        reverse("admin:campaigns_contact_changelist"), {"_to_field": "id", "_popup": "1"}
    )

    assert listed_pks(lookup) == {ours["campaigns.contact"].pk}


@pytest.mark.parametrize("label", project_admins())
def test_finance_cannot_write_anything(client, label, ours, finance_of_ours):
    client.force_login(finance_of_ours)
    obj = ours[label]
    before = type(obj).objects.count()

    added = client.post(admin_url(obj, "add"), {"name": "By finance"})
    changed = client.post(admin_url(obj, "change"), {"name": "By finance"})
    deleted = client.post(admin_url(obj, "delete"), {"post": "yes"})

    assert (added.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    assert type(obj).objects.count() == before


def test_operators_never_see_a_cost(client, ours, operator_of_ours):
    client.force_login(operator_of_ours)
    call = ours["calls.call"]

    listing = client.get(reverse("admin:calls_call_changelist")).content.decode()
    page = client.get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()
    ledger = client.get(reverse("admin:calls_costentry_changelist"))

    for text in (listing, page):
        assert "Cost total" not in text
        assert "0.123400" not in text
        assert "Carrier minutes" not in text  # the ledger inline
    assert ledger.status_code == 403


def test_members_see_only_their_organisation_and_only_superusers_add_one(
    client, ours, theirs, admin_of_ours
):
    client.force_login(admin_of_ours)

    listing = client.get(reverse("admin:campaigns_organization_changelist"))
    added = client.get(reverse("admin:campaigns_organization_add"))
    renamed = client.post(
        reverse("admin:campaigns_organization_change", args=[ours.organization.pk]),
        {
            "name": "Bayview Dental Group",
            "callback_number": "+12025550143",
            "time_zone": "America/New_York",
            "country": "US",
            "currency": "USD",
            "line_capacity": "10",
            "inbound_reserve": "2",
            "account_calls_per_second": "1",
        },
    )

    ours.organization.refresh_from_db()
    assert listed_pks(listing) == {ours.organization.pk}
    assert added.status_code == 403
    assert renamed.status_code == 302, renamed.context["adminform"].form.errors
    assert ours.organization.name == "Bayview Dental Group"


def test_an_api_key_of_another_organisation_cannot_be_revoked(client, theirs, admin_of_ours):
    client.force_login(admin_of_ours)

    client.post(
        reverse("admin:tenancy_apikey_changelist"),
        {"action": "revoke", "_selected_action": [theirs["tenancy.apikey"].pk]},
    )

    assert ApiKey.objects.get(pk=theirs["tenancy.apikey"].pk).revoked_at is None
