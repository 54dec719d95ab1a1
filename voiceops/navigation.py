"""The console's sidebar: the admin's pages grouped as operators and finance think of them,
each shown only to those whose role may open it."""

from collections.abc import Callable

from django.http import HttpRequest
from django.urls import reverse_lazy


def may_view(*permissions: str):
    """A sidebar permission check: the user holds any of `permissions` (view or change) in
    the organisation they act in."""

    def check(request) -> bool:
        return any(request.user.has_perm(permission) for permission in permissions)

    return check


def is_current(link) -> Callable[[HttpRequest], bool]:
    """Active when `link` is the most specific sidebar page the request is under: the finance
    report (…/campaigndailycost/report/) lights "Reports" alone, not also "Daily costs"
    (…/campaigndailycost/), which the theme's prefix match would."""

    def check(request) -> bool:
        under = [
            str(page["link"]) for page in _pages() if request.path.startswith(str(page["link"]))
        ]
        return bool(under) and max(under, key=len) == str(link)

    return check


def _page(title: str, icon: str, app_label: str, model: str, *, view: str = "changelist"):
    link = reverse_lazy(f"admin:{app_label}_{model}_{view}")
    return {
        "title": title,
        "icon": icon,
        "link": link,
        "active": is_current(link),
        "permission": may_view(f"{app_label}.view_{model}", f"{app_label}.change_{model}"),
    }


def _pages() -> list[dict]:
    return [item for group in SIDEBAR_NAVIGATION for item in group["items"] if "active" in item]


def sidebar_navigation(request) -> list[dict]:
    """Unfold's SIDEBAR navigation; each item's `permission` hides it from other roles, and
    a group with no visible item is not shown."""
    return SIDEBAR_NAVIGATION


SIDEBAR_NAVIGATION = [
    {
        "title": "Overview",
        "items": [
            {"title": "Dashboard", "icon": "dashboard", "link": reverse_lazy("admin:index")},
        ],
    },
    {
        "title": "Campaigns",
        "separator": True,
        "items": [
            _page("Campaigns", "campaign", "campaigns", "campaign"),
            _page("Targets", "checklist", "campaigns", "target"),
            _page("Contacts", "contacts", "campaigns", "contact"),
            _page("Imports", "upload_file", "campaigns", "importjob"),
            _page("Consents", "verified_user", "campaigns", "consent"),
            _page("Suppressions", "block", "campaigns", "suppression"),
            _page("Do-Not-Call registries", "gavel", "campaigns", "registrysync"),
        ],
    },
    {
        "title": "Calls",
        "separator": True,
        "items": [
            _page("Calls", "call", "calls", "call"),
            _page("Phone numbers", "dialpad", "calls", "phonenumber"),
            _page("Survey results", "ballot", "calls", "surveyanswer"),
        ],
    },
    {
        "title": "Agents & surveys",
        "separator": True,
        "items": [
            _page("Agents", "support_agent", "agents", "agent"),
            _page("Surveys", "quiz", "campaigns", "survey"),
        ],
    },
    {
        "title": "Finance",
        "separator": True,
        "items": [
            _page("Reports", "monitoring", "calls", "campaigndailycost", view="report"),
            _page("Daily costs", "bar_chart", "calls", "campaigndailycost"),
            _page("Cost ledger", "receipt_long", "calls", "costentry"),
            _page("Rate cards", "sell", "calls", "ratecard"),
            _page("Budget alerts", "notifications", "campaigns", "budgetalert"),
        ],
    },
    {
        "title": "Settings",
        "separator": True,
        "items": [
            _page("Organisation", "domain", "campaigns", "organization"),
            _page("Members", "group", "tenancy", "membership"),
            _page("API keys", "key", "tenancy", "apikey"),
            _page("Webhooks", "webhook", "calls", "webhookendpoint"),
            _page("Webhook deliveries", "outbox", "calls", "webhookdelivery"),
        ],
    },
]
