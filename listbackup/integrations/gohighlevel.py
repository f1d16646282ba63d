"""GoHighLevel: CRM and marketing. Follows https://marketplace.gohighlevel.com/docs/."""

from listbackup.integrations.base import Integration, OAuthSpec
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

INTEGRATION = Integration(
    platform=Platform(
        slug="gohighlevel",
        name="GoHighLevel",
        category="crm",
        description="Contacts, opportunities, appointments and conversations from HighLevel.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "custom_fields",
                "Custom fields",
                "Custom contact and opportunity fields.",
                Frequency.WEEKLY,
            ),
            DataType("tags", "Tags", "Contact tags.", Frequency.WEEKLY),
            DataType("users", "Users", "Users with access to the location.", Frequency.WEEKLY),
            DataType(
                "contacts",
                "Contacts",
                "Contacts with custom field values and tags.",
                Frequency.DAILY,
                depends_on=("custom_fields", "tags", "users"),
            ),
            DataType(
                "pipelines",
                "Pipelines",
                "Opportunity pipelines and their stages.",
                Frequency.WEEKLY,
            ),
            DataType(
                "opportunities",
                "Opportunities",
                "Opportunities in each pipeline.",
                Frequency.DAILY,
                depends_on=("contacts", "pipelines", "users"),
            ),
            DataType(
                "calendars",
                "Calendars",
                "Booking calendars and their settings.",
                Frequency.WEEKLY,
                depends_on=("users",),
            ),
            DataType(
                "calendar_events",
                "Appointments",
                "Appointments booked on calendars.",
                Frequency.DAILY,
                depends_on=("calendars", "contacts"),
            ),
            DataType(
                "conversations",
                "Conversations",
                "SMS, email and chat threads with messages.",
                Frequency.DAILY,
                depends_on=("contacts",),
            ),
            DataType(
                "forms",
                "Form submissions",
                "Forms and what contacts submitted.",
                Frequency.DAILY,
                depends_on=("contacts",),
            ),
        ),
    ),
    # API v2. Every request needs the header `Version: 2021-07-28` (some calendar and
    # conversation endpoints document `2021-04-15`) and a location (sub-account) token.
    api_base_url="https://services.leadconnectorhq.com",
    docs_url="https://marketplace.gohighlevel.com/docs/",
    oauth=OAuthSpec(
        # The white-label LeadConnector host; https://marketplace.gohighlevel.com is the
        # branded equivalent.
        authorize_url="https://marketplace.leadconnectorhq.com/oauth/chooselocation",
        # Form-encoded; send `user_type=Location` to get a location token.
        token_url="https://services.leadconnectorhq.com/oauth/token",
        scopes=(
            "locations.readonly",
            "locations/customFields.readonly",
            "locations/tags.readonly",
            "users.readonly",
            "contacts.readonly",
            "opportunities.readonly",
            "calendars.readonly",
            "calendars/events.readonly",
            "conversations.readonly",
            "conversations/message.readonly",
            "forms.readonly",
        ),
    ),
)
