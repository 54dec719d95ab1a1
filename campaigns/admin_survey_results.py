"""The survey results page (`/admin/campaigns/survey/<id>/results/`, optionally for one
campaign with `?campaign=<id>`) and its CSV: operators and finance read them, each in their
own organisation (`calls.view_surveyanswer`)."""

import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify

from campaigns.models import Campaign, Survey
from campaigns.survey_results import (
    survey_answer_call_count,
    survey_answer_header,
    survey_answer_rows,
    survey_results,
)
from tenancy.scoping import scoped, tenant_of
from voiceops.csv_export import csv_response

# The page lists the latest calls' answers; the CSV has every one.
PAGE_ROWS = 200
# Whole calls on the axis, bars wide enough to read, no legend for a single series.
CHART_OPTIONS = json.dumps(
    {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "maxBarThickness": 48,
        "plugins": {"legend": {"display": False}},
        "scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}},
    }
)


def _survey_and_campaign(request, survey_id: int) -> tuple[Survey, Campaign | None]:
    if not request.user.has_perm("calls.view_surveyanswer"):
        raise PermissionDenied
    tenant = tenant_of(request)
    survey = get_object_or_404(scoped(Survey.objects, tenant), pk=survey_id)
    campaign_id = request.GET.get("campaign") or None
    if campaign_id is None:
        return survey, None
    if not campaign_id.isdigit():
        raise Http404("No such campaign.")
    campaign = get_object_or_404(
        scoped(Campaign.objects, tenant), pk=int(campaign_id), survey=survey
    )
    return survey, campaign


def _chart(result) -> str:
    return json.dumps(
        {
            "labels": [bar.label for bar in result.bars],
            "datasets": [
                {
                    "label": "Calls",
                    "data": [bar.count for bar in result.bars],
                    "backgroundColor": "var(--color-primary-600)",
                }
            ],
        }
    )


def _header_parts(request, survey: Survey, campaign: Campaign | None) -> list[dict]:
    """The page's trail, linking only pages the user may open (finance reads results but
    not the survey's form)."""
    if request.user.has_perm("campaigns.view_survey"):
        return [
            {"title": "Surveys", "link": reverse("admin:campaigns_survey_changelist")},
            {"title": survey, "link": reverse("admin:campaigns_survey_change", args=[survey.pk])},
            {"title": "Results"},
        ]
    if campaign is not None:
        return [
            {"title": "Campaigns", "link": reverse("admin:campaigns_campaign_changelist")},
            {
                "title": campaign,
                "link": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
            },
            {"title": f"Results of {survey}"},
        ]
    return [{"title": "Survey results"}, {"title": survey}]


def survey_results_view(request, survey_id: int):
    survey, campaign = _survey_and_campaign(request, survey_id)
    campaign_id = campaign.pk if campaign else None
    results = survey_results(survey=survey, campaign_id=campaign_id)
    rows = survey_answer_rows(survey=survey, campaign_id=campaign_id, limit=PAGE_ROWS)
    tenant = tenant_of(request)
    return TemplateResponse(
        request,
        "admin/campaigns/survey_results.html",
        {
            **admin.site.each_context(request),
            "title": f"Survey results: {survey}" + (f" in {campaign}" if campaign else ""),
            "opts": Survey._meta,
            "survey": survey,
            "campaign": campaign,
            "campaigns": scoped(Campaign.objects, tenant).filter(survey=survey).order_by("-pk"),
            "results": [(result, _chart(result)) for result in results],
            "header": survey_answer_header(survey),
            "rows": [row.cells() for row in rows],
            "call_count": survey_answer_call_count(survey=survey, campaign_id=campaign_id),
            "page_rows": PAGE_ROWS,
            "chart_options": CHART_OPTIONS,
            "can_open_survey": request.user.has_perm("campaigns.view_survey"),
            "header_parts": _header_parts(request, survey, campaign),
            "csv_query": f"?campaign={campaign.pk}" if campaign else "",
        },
    )


def survey_results_csv_view(request, survey_id: int):
    survey, campaign = _survey_and_campaign(request, survey_id)
    rows = survey_answer_rows(survey=survey, campaign_id=campaign.pk if campaign else None)
    name = slugify(f"{survey.name} {campaign.name if campaign else ''}") or "survey"
    return csv_response(
        f"{name}-answers.csv", survey_answer_header(survey), (row.cells() for row in rows)
    )
