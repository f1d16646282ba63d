"""ActiveCampaign: email marketing and CRM.

Follows https://developers.activecampaign.com/reference/overview (API v3).
"""

from listbackup.integrations.base import Integration
from listbackup.models.platforms import AuthType, CredentialField, DataType, Frequency, Platform

INTEGRATION = Integration(
    platform=Platform(
        slug="activecampaign",
        name="ActiveCampaign",
        category="email-marketing",
        description="Contacts, lists, campaigns, automations and deals from ActiveCampaign.",
        auth_type=AuthType.API_KEY,
        # Both are under Settings > Developer; the key is sent in the `Api-Token` header.
        credential_fields=(
            CredentialField("apiUrl", "API URL", secret=False),
            CredentialField("apiKey", "API key"),
        ),
        data_types=(
            DataType(
                "fields", "Custom fields", "Custom contact field definitions.", Frequency.WEEKLY
            ),
            DataType("lists", "Lists", "Mailing lists.", Frequency.WEEKLY),
            DataType("tags", "Tags", "Contact and deal tags.", Frequency.WEEKLY),
            DataType(
                "contacts",
                "Contacts",
                "Contacts with field values, lists and tags.",
                Frequency.DAILY,
                depends_on=("fields", "lists", "tags"),
            ),
            DataType("accounts", "Accounts", "Companies that contacts belong to.", Frequency.DAILY),
            DataType("deal_groups", "Pipelines", "Deal pipelines.", Frequency.WEEKLY),
            DataType(
                "deal_stages",
                "Deal stages",
                "Stages of each pipeline.",
                Frequency.WEEKLY,
                depends_on=("deal_groups",),
            ),
            DataType(
                "deals",
                "Deals",
                "Deals with their contacts, accounts and stages.",
                Frequency.DAILY,
                depends_on=("contacts", "accounts", "deal_stages"),
            ),
            DataType(
                "campaigns",
                "Campaigns",
                "Email campaigns and their statistics.",
                Frequency.DAILY,
                depends_on=("lists",),
            ),
            DataType("automations", "Automations", "Automation workflows.", Frequency.WEEKLY),
        ),
    ),
    # `{api_url}` is the account's API URL, e.g. "https://example.api-us1.com".
    api_base_url="{api_url}/api/3",
    docs_url="https://developers.activecampaign.com/reference/overview",
)
