"""Our OAuth apps' credentials from Secrets Manager (production's home for them)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from listbackup.aws import error_code
from listbackup.config import PlatformSettings
from listbackup.errors import InfrastructureError

if TYPE_CHECKING:
    from types_aiobotocore_secretsmanager import SecretsManagerClient

_FIELDS = ("client_id", "client_secret", "authorize_url", "token_url", "api_base_url")


async def platform_settings(
    client: SecretsManagerClient, secret_id: str
) -> dict[str, PlatformSettings]:
    """{slug: settings} from a JSON secret; a malformed secret is refused, not guessed at."""
    try:
        response = await client.get_secret_value(SecretId=secret_id)
    except (ClientError, BotoCoreError) as exc:
        raise InfrastructureError(
            f"Secrets Manager GetSecretValue failed: {error_code(exc)}"
        ) from None
    try:
        data = json.loads(response.get("SecretString") or "")
        return {
            str(slug): PlatformSettings(**{k: str(v) for k, v in values.items() if k in _FIELDS})
            for slug, values in data.items()
        }
    except (ValueError, AttributeError, TypeError):
        raise InfrastructureError(
            "the platform secret is not a JSON object of {slug: {client_id, ...}}"
        ) from None
