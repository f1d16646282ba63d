"""Email through SES. Messages are plain text and name no secret."""

from __future__ import annotations

from email.utils import formataddr
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from listbackup.aws import error_code
from listbackup.errors import InfrastructureError

if TYPE_CHECKING:
    from types_aiobotocore_ses import SESClient


#: Every email comes from the product, never from the person whose action sent it.
SENDER_NAME = "ListBackup"


class Mailer:
    def __init__(self, client: SESClient, sender: str) -> None:
        self._client = client
        self.sender = sender

    async def send(self, *, to: str, subject: str, body: str) -> None:
        try:
            await self._client.send_email(
                Source=formataddr((SENDER_NAME, self.sender)),
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise InfrastructureError(f"SES SendEmail failed: {error_code(exc)}") from None
