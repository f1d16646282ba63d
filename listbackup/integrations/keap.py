"""Keap (formerly Infusionsoft): CRM. Follows https://developer.infusionsoft.com/docs/rest/."""

from listbackup.integrations.base import Integration, OAuthSpec
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

_FINANCIAL_RETENTION = 365

INTEGRATION = Integration(
    platform=Platform(
        slug="keap",
        name="Keap",
        category="crm",
        description="Contacts, companies, opportunities, orders and campaigns from your Keap app.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType("tags", "Tags", "Tags and their categories.", Frequency.WEEKLY),
            DataType("companies", "Companies", "Company records.", Frequency.DAILY),
            DataType(
                "contacts",
                "Contacts",
                "Contacts with custom fields, lead source and tags.",
                Frequency.DAILY,
                depends_on=("companies", "tags"),
            ),
            DataType(
                "opportunities",
                "Opportunities",
                "Sales opportunities and their stages.",
                Frequency.DAILY,
                depends_on=("contacts",),
            ),
            DataType(
                "notes",
                "Notes",
                "Notes recorded on contacts.",
                Frequency.DAILY,
                depends_on=("contacts",),
            ),
            DataType(
                "products",
                "Products",
                "The product catalogue.",
                Frequency.WEEKLY,
                _FINANCIAL_RETENTION,
            ),
            DataType(
                "orders",
                "Orders",
                "Orders and their items.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("contacts", "products"),
            ),
            DataType(
                "transactions",
                "Transactions",
                "Payments recorded against orders.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("contacts", "orders"),
            ),
            DataType(
                "subscriptions",
                "Subscriptions",
                "Recurring product subscriptions.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("contacts", "products"),
            ),
            DataType(
                "campaigns",
                "Campaigns",
                "Campaign Builder campaigns and their sequences.",
                Frequency.WEEKLY,
            ),
        ),
    ),
    # REST v1; Keap is moving new endpoints to /crm/rest/v2.
    api_base_url="https://api.infusionsoft.com/crm/rest/v1",
    docs_url="https://developer.infusionsoft.com/docs/rest/",
    oauth=OAuthSpec(
        authorize_url="https://accounts.infusionsoft.com/app/oauth/authorize",
        token_url="https://api.infusionsoft.com/token",
        # Keap has a single scope, `full` (read and write); there is no read-only scope.
        scopes=("full",),
    ),
)
