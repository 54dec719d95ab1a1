"""What the contact list shows beside each contact, in the list's one query: consent on
file, whether the number opted out, and the contact's last call and its outcome."""

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from calls.models import Call
from campaigns.models import Consent, Suppression


def contacts_with_call_history(queryset: QuerySet) -> QuerySet:
    """`queryset` annotated with has_consent, has_revoked_consent, is_opted_out,
    last_call_at, last_call_id, last_outcome and last_status: subqueries, so no N+1 and
    no GROUP BY that would change what actions and counts see."""
    consents = Consent.objects.filter(contact=OuterRef("pk"))
    last_call = Call.objects.filter(target__contact=OuterRef("pk")).order_by("-created_at", "-id")
    return queryset.annotate(
        has_consent=Exists(consents.filter(revoked_at__isnull=True)),
        has_revoked_consent=Exists(consents.filter(revoked_at__isnull=False)),
        is_opted_out=Exists(
            Suppression.objects.filter(
                organization=OuterRef("organization"),
                phone=OuterRef("phone"),
                source=Suppression.Source.OPT_OUT,
            )
        ),
        last_call_at=Subquery(last_call.values("created_at")[:1]),
        last_call_id=Subquery(last_call.values("id")[:1]),
        last_outcome=Subquery(last_call.values("outcome")[:1]),
        last_status=Subquery(last_call.values("status")[:1]),
    )
