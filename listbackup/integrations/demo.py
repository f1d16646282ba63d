"""Demo: a built-in offline platform. Follows docs/integrations.md#demo."""

from listbackup.integrations.base import Integration
from listbackup.models.platforms import AuthType, CredentialField, DataType, Frequency, Platform

INTEGRATION = Integration(
    platform=Platform(
        slug="demo",
        name="Demo",
        category="demo",
        description=(
            "Generates deterministic synthetic records, so the local stack can run a backup "
            "without internet access."
        ),
        auth_type=AuthType.API_KEY,
        credential_fields=(
            CredentialField("apiKey", "API key"),
            CredentialField(
                "recordsPerType", "Records per data type", secret=False, required=False
            ),
        ),
        data_types=(
            DataType("contacts", "Contacts", "Synthetic contacts.", Frequency.DAILY),
            DataType("companies", "Companies", "Synthetic companies.", Frequency.DAILY),
            DataType(
                "deals",
                "Deals",
                "Synthetic deals linking contacts and companies.",
                Frequency.DAILY,
                depends_on=("contacts", "companies"),
            ),
        ),
    ),
    api_base_url="demo://local",
    docs_url="docs/integrations.md#demo",
)
