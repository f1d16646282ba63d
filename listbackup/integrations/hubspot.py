"""HubSpot: CRM. Follows https://developers.hubspot.com/docs/guides/crm/using-object-apis."""

from listbackup.integrations.base import Integration, OAuthSpec
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

_FINANCIAL_RETENTION = 365

INTEGRATION = Integration(
    platform=Platform(
        slug="hubspot",
        name="HubSpot",
        category="crm",
        description="Contacts, companies, deals, tickets and products from your HubSpot CRM.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType("owners", "Owners", "Users who own CRM records.", Frequency.WEEKLY),
            DataType(
                "pipelines",
                "Pipelines",
                "Deal and ticket pipelines and their stages.",
                Frequency.WEEKLY,
            ),
            DataType(
                "properties",
                "Properties",
                "Property definitions, including custom ones.",
                Frequency.WEEKLY,
            ),
            DataType(
                "contacts",
                "Contacts",
                "Contact records with all their properties.",
                Frequency.DAILY,
                depends_on=("owners", "properties"),
            ),
            DataType(
                "companies",
                "Companies",
                "Company records with all their properties.",
                Frequency.DAILY,
                depends_on=("owners", "properties"),
            ),
            DataType(
                "deals",
                "Deals",
                "Deals and their contact and company associations.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("contacts", "companies", "pipelines"),
            ),
            DataType(
                "tickets",
                "Tickets",
                "Support tickets and their associations.",
                Frequency.DAILY,
                depends_on=("contacts", "companies", "pipelines"),
            ),
            DataType(
                "products",
                "Products",
                "The product library.",
                Frequency.WEEKLY,
                _FINANCIAL_RETENTION,
            ),
            DataType(
                "line_items",
                "Line items",
                "Products as sold on deals and quotes.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("deals", "products"),
            ),
            DataType(
                "quotes",
                "Quotes",
                "Quotes sent to buyers.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("deals", "line_items"),
            ),
        ),
    ),
    # CRM v3 (/crm/v3/objects/{type}, /crm/v3/owners, /crm/v3/pipelines/{type},
    # /crm/v3/properties/{type}). HubSpot's docs now list v3 as legacy next to the
    # date-versioned paths (/crm/objects/2026-03/...).
    api_base_url="https://api.hubapi.com/crm/v3",
    docs_url="https://developers.hubspot.com/docs/guides/crm/using-object-apis",
    oauth=OAuthSpec(
        authorize_url="https://app.hubspot.com/oauth/authorize",
        # The date-versioned token endpoint; /oauth/v1/token is sunset on 2027-02-16.
        token_url="https://api.hubapi.com/oauth/2026-03/token",
        # Every scope sent must also be configured on the app. Tickets and quotes are not
        # in every account, so the connector may send those as `optional_scope` instead.
        scopes=(
            "oauth",
            "crm.objects.owners.read",
            "crm.objects.contacts.read",
            "crm.objects.companies.read",
            "crm.objects.deals.read",
            "crm.objects.tickets.read",
            "crm.objects.products.read",
            "crm.objects.line_items.read",
            "crm.objects.quotes.read",
            "crm.schemas.contacts.read",
            "crm.schemas.companies.read",
            "crm.schemas.deals.read",
        ),
    ),
)
