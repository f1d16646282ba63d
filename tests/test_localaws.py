"""The local AWS: DynamoDB requests are atomic as in DynamoDB, a reset keeps resources, and
the warm-up prepares every service the application uses."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from botocore.exceptions import ClientError

from listbackup.aws import AwsClients, error_code
from listbackup.config import Settings
from listbackup.store.dynamo import to_item
from tests.aws_state import wipe


async def test_racing_conditional_writes_have_exactly_one_winner(
    aws: AwsClients, settings: Settings
) -> None:
    table = settings.names.table("rate-limits")

    async def claim(trial: int, worker: int) -> bool:
        try:
            await aws.dynamodb.update_item(
                TableName=table,
                Key=to_item({"key": f"lock-{trial}"}),
                UpdateExpression="SET lockUntil = :until, holder = :me",
                ConditionExpression="attribute_not_exists(lockUntil) OR lockUntil < :now",
                ExpressionAttributeValues=to_item({":until": 2000, ":now": 1000, ":me": worker}),
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    winners = [
        sum(await asyncio.gather(*(claim(trial, worker) for worker in range(16))))
        for trial in range(20)
    ]

    assert winners == [1] * 20


async def test_reset_empties_tables_but_keeps_them_and_the_catalogue(
    aws: AwsClients, settings: Settings, moto_endpoint: str
) -> None:
    table = settings.names.table("rate-limits")
    await aws.dynamodb.put_item(TableName=table, Item=to_item({"key": "k", "hits": 1}))
    await aws.s3.put_object(Bucket=settings.bucket, Key="accounts/a/x", Body=b"x")

    await wipe(moto_endpoint, settings)

    assert (await aws.dynamodb.scan(TableName=table))["Items"] == []
    assert (await aws.s3.list_objects_v2(Bucket=settings.bucket)).get("KeyCount") == 0
    catalogue = await aws.dynamodb.scan(TableName=settings.names.table("platforms"))
    assert catalogue["Items"]


# Run in a process of its own, as the local AWS is: only that process imports moto, and
# the warm-up changes how moto makes RSA keys for the whole process.
_WARM_UP_CHECK = """
import json
from moto.cognitoidp.models import CognitoIdpUserPool
from moto.kms.models import Key
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from listbackup.localaws import warmup
from listbackup.localaws.app import LocalAws

warmup.install()
statuses = warmup.warm_up(LocalAws(DomainDispatcherApplication(create_backend_app)))
pools = [CognitoIdpUserPool("123456789012", "us-east-1", name, {}) for name in "ab"]
jwks = [pool.json_web_key for pool in pools]
def pair(spec, usage="ENCRYPT_DECRYPT"):
    return Key(None, usage, spec, "", "123456789012", "us-east-1").private_key
symmetric, signing = pair("SYMMETRIC_DEFAULT"), pair("RSA_2048", "SIGN_VERIFY")
untouched = symmetric._pair is None
print(json.dumps({
    "statuses": statuses,
    "pools share the parsed key": jwks[0].raw_value is jwks[1].raw_value,
    "pools have JWKs of their own": jwks[0] is not jwks[1],
    "a symmetric key makes no pair unless asked": untouched,
    "then it makes one": bool(symmetric.public_key()) and symmetric._pair is not None,
    "RSA keys have their own at once": signing.private_key.key_size == 2048,
}))
"""


def test_warm_up_answers_every_service_and_spares_moto_its_rsa_work() -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", _WARM_UP_CHECK],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    checks = json.loads(result.stdout)
    statuses = checks.pop("statuses")
    assert statuses == dict.fromkeys(
        ["dynamodb", "cognito-idp", "sqs", "events", "kms", "ses", "s3", "secretsmanager"], 200
    )
    assert checks == dict.fromkeys(checks, True)
    assert len(checks) == 5
