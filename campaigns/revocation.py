"""Consent revocation and opt-out: one service for every channel (operator, API, a call)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from campaigns.models import Consent, Suppression


@dataclass(frozen=True)
class Revocation:
    consents_revoked: int
    suppression_created: bool


def consent_revoke(
    *, organization_id: int, phone: str, via: str, at: datetime, reason: str = ""
) -> Revocation:
    """Revoke every consent this organisation holds for `phone` and suppress the number for
    all of its campaigns, in one transaction.

    Idempotent: consents already revoked keep their first revocation; the suppression row is
    created once. `via` is a Consent.RevokedVia value.
    """
    if via not in Consent.RevokedVia.values:
        raise ValueError(
            f"{via!r} is not a revocation channel: {', '.join(Consent.RevokedVia.values)}."
        )
    with transaction.atomic():
        revoked = Consent.objects.filter(
            contact__organization_id=organization_id, contact__phone=phone, revoked_at__isnull=True
        ).update(revoked_at=at, revoked_via=via)
        _, created = Suppression.objects.get_or_create(
            organization_id=organization_id,
            phone=phone,
            source=Suppression.Source.OPT_OUT,
            state="",
            defaults={"reason": reason or f"Opted out ({via})"},
        )
    return Revocation(consents_revoked=revoked, suppression_created=created)
