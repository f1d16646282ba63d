"""Mailchimp: email marketing. Follows https://mailchimp.com/developer/marketing/api/."""

from listbackup.integrations.base import Integration, OAuthSpec
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

INTEGRATION = Integration(
    platform=Platform(
        slug="mailchimp",
        name="Mailchimp",
        category="email-marketing",
        description="Audiences, subscribers, campaigns and reports from your Mailchimp account.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "lists", "Audiences", "Audiences (lists) and their settings.", Frequency.DAILY
            ),
            DataType(
                "merge_fields",
                "Merge fields",
                "Custom audience fields.",
                Frequency.WEEKLY,
                depends_on=("lists",),
            ),
            DataType(
                "members",
                "Members",
                "Subscribers of each audience, with tags and status.",
                Frequency.DAILY,
                depends_on=("lists", "merge_fields"),
            ),
            DataType(
                "segments",
                "Segments",
                "Saved segments and tags of each audience.",
                Frequency.WEEKLY,
                depends_on=("lists",),
            ),
            DataType("templates", "Templates", "Email templates.", Frequency.WEEKLY),
            DataType(
                "campaigns",
                "Campaigns",
                "Campaigns with their settings and content.",
                Frequency.DAILY,
                depends_on=("lists", "segments", "templates"),
            ),
            DataType(
                "reports",
                "Reports",
                "Opens, clicks and bounces of sent campaigns.",
                Frequency.DAILY,
                depends_on=("campaigns",),
            ),
            DataType(
                "automations",
                "Automations",
                "Classic automations and their emails.",
                Frequency.WEEKLY,
                depends_on=("lists",),
            ),
        ),
    ),
    # `{dc}` is the account's server prefix (e.g. "us21"): after the code exchange, read `dc`
    # from https://login.mailchimp.com/oauth2/metadata (Authorization: OAuth <token>).
    api_base_url="https://{dc}.api.mailchimp.com/3.0",
    docs_url="https://mailchimp.com/developer/marketing/api/",
    oauth=OAuthSpec(
        authorize_url="https://login.mailchimp.com/oauth2/authorize",
        token_url="https://login.mailchimp.com/oauth2/token",
        # Mailchimp has no OAuth scopes (a token can do whatever the user can) and its tokens
        # do not expire, so there is no refresh token.
        scopes=(),
    ),
)
