"""Zendesk: customer support.

Follows https://developer.zendesk.com/api-reference/ticketing/introduction/ (Support API v2).
"""

from listbackup.integrations.base import Integration
from listbackup.models.platforms import AuthType, CredentialField, DataType, Frequency, Platform

INTEGRATION = Integration(
    platform=Platform(
        slug="zendesk",
        name="Zendesk",
        category="support",
        description="Tickets with their comments, users and organizations from Zendesk Support.",
        auth_type=AuthType.API_KEY,
        # API token auth: HTTP Basic with "{email}/token" as user name and the token as password.
        credential_fields=(
            CredentialField("subdomain", "Zendesk subdomain", secret=False),
            CredentialField("email", "Agent email", secret=False),
            CredentialField("apiToken", "API token"),
        ),
        data_types=(
            DataType("organizations", "Organizations", "Customer organizations.", Frequency.DAILY),
            DataType(
                "users",
                "Users",
                "End users, agents and admins.",
                Frequency.DAILY,
                depends_on=("organizations",),
            ),
            DataType("groups", "Groups", "Agent groups.", Frequency.WEEKLY),
            DataType(
                "ticket_fields",
                "Ticket fields",
                "System and custom ticket fields.",
                Frequency.WEEKLY,
            ),
            DataType(
                "tickets",
                "Tickets",
                "Tickets with their field values.",
                Frequency.DAILY,
                depends_on=("users", "organizations", "groups", "ticket_fields"),
            ),
            DataType(
                "ticket_comments",
                "Ticket comments",
                "Public replies and internal notes.",
                Frequency.DAILY,
                depends_on=("tickets",),
            ),
            DataType(
                "satisfaction_ratings",
                "Satisfaction ratings",
                "CSAT ratings on tickets.",
                Frequency.DAILY,
                depends_on=("tickets",),
            ),
            DataType("macros", "Macros", "Saved agent responses and actions.", Frequency.WEEKLY),
            DataType("views", "Views", "Saved ticket views.", Frequency.WEEKLY),
        ),
    ),
    api_base_url="https://{subdomain}.zendesk.com/api/v2",
    docs_url="https://developer.zendesk.com/api-reference/ticketing/introduction/",
)
