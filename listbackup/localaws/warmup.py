"""The local AWS's start: answer quickly from the first request on.

``listbackup dev`` waits for the local AWS twice: for its ready line, and for every call
of its bootstrap. moto builds each service (backend, routes, the botocore model it answers
from) on the service's first request, under one lock for all services: 30 to 300 ms each.
And two calls of the bootstrap spend most of their time on RSA keys: CreateUserPool
parses the same key for every pool (0.2 to 0.3 s), CreateKey makes a key pair even for a
symmetric key, which never uses it (0.1 to 0.3 s). Here the services and the pools' key
are made once, as the process starts, while the parent is still importing its own
modules; a symmetric key's pair is made only if something uses it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from joserfc import jwk
from moto.cognitoidp.models import CognitoIdpUserPool
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.kms import models as kms
from werkzeug.test import Client

if TYPE_CHECKING:
    from listbackup.localaws.app import WSGIApp

_JSON_1_0 = "application/x-amz-json-1.0"
_JSON_1_1 = "application/x-amz-json-1.1"
_FORM = "application/x-www-form-urlencoded; charset=utf-8"

#: One read-only call to each service the application uses, shaped as botocore sends it
#: (the protocol of each service model): service, method, headers, body.
WARM_UP_CALLS: tuple[tuple[str, str, dict[str, str], bytes], ...] = (
    ("dynamodb", "POST", {"X-Amz-Target": "DynamoDB_20120810.ListTables"}, b"{}"),
    (
        "cognito-idp",
        "POST",
        {"X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"},
        b'{"MaxResults": 1}',
    ),
    ("sqs", "POST", {"X-Amz-Target": "AmazonSQS.ListQueues"}, b"{}"),
    ("events", "POST", {"X-Amz-Target": "AWSEvents.ListEventBuses"}, b"{}"),
    ("kms", "POST", {"X-Amz-Target": "TrentService.ListKeys"}, b"{}"),
    ("ses", "POST", {"Content-Type": _FORM}, b"Action=ListIdentities&Version=2010-12-01"),
    ("s3", "GET", {}, b""),
    ("secretsmanager", "POST", {"X-Amz-Target": "secretsmanager.ListSecrets"}, b"{}"),
)
_CONTENT_TYPES = {"dynamodb": _JSON_1_0, "sqs": _JSON_1_0}


def install() -> None:
    """Make moto's RSA keys once per process, or when used, not for every new resource
    (before serving)."""
    _parse_each_rsa_key_once()
    _key_pairs_on_demand()


def _parse_each_rsa_key_once() -> None:
    """Keep the RSA keys joserfc has parsed, by their JWK, for the rest of the process.

    moto gives every user pool the same key, from a file it ships without the key's
    primes, and recovering them takes 0.2 to 0.3 s of CPU on every CreateUserPool. The
    parsed key (a cryptography object) is immutable, so sharing it changes nothing else;
    each pool still gets a JWK object of its own."""
    binding = jwk.RSAKey.binding
    parse = binding.import_private_key
    parsed: dict[str, Any] = {}
    lock = threading.Lock()

    def import_private_key(obj: Any) -> Any:
        text = json.dumps(obj, sort_keys=True)
        with lock:
            if text not in parsed:
                parsed[text] = parse(obj)
            return parsed[text]

    binding.import_private_key = import_private_key  # type: ignore[method-assign]


_MAKING_PAIRS = threading.Lock()


class _KeyPairOnDemand:
    """A symmetric KMS key's RSA key pair, made the first time something uses it.

    moto makes a 2048-bit pair for every key, symmetric ones included, where nothing
    uses it (Sign and Verify refuse a key whose usage is not SIGN_VERIFY; GetPublicKey,
    which KMS refuses for symmetric keys, is moto's only use): 0.1 to 0.3 s of CPU in
    every CreateKey. Made on demand, it is the same pair moto would have made."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._pair: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy() looks for hooks before __init__ has run
            raise AttributeError(name)
        with _MAKING_PAIRS:
            if self._pair is None:
                self._pair = self._make()
        return getattr(self._pair, name)


def _key_pairs_on_demand() -> None:
    # Replaced where moto's Key looks it up (it is imported there from moto.kms.utils).
    generate = kms.generate_private_key  # type: ignore[attr-defined]

    def generate_private_key(key_spec: str) -> Any:
        if key_spec != "SYMMETRIC_DEFAULT":
            return generate(key_spec)
        return _KeyPairOnDemand(lambda: generate(key_spec))

    kms.generate_private_key = generate_private_key  # type: ignore[attr-defined]


def warm_up(app: WSGIApp, region: str = "us-east-1") -> dict[str, int]:
    """Call every service the application uses once, in process, and parse the user
    pools' key (after :func:`install`); return each call's status. The region hardly
    matters: what takes time is done once per service."""
    client = Client(app)
    statuses: dict[str, int] = {}
    for service, method, headers, body in WARM_UP_CALLS:
        sent = {"Content-Type": _CONTENT_TYPES.get(service, _JSON_1_1), **headers}
        # moto routes by the signature's credential scope; it verifies no signature.
        sent["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=local/20260101/{region}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
        response = client.open("/", method=method, headers=sent, data=body)
        statuses[service] = response.status_code
        response.close()
    # A pool that no backend holds (nobody sees it): its key is parsed from now on.
    CognitoIdpUserPool(DEFAULT_ACCOUNT_ID, region, "localaws-warm-up", {})
    return statuses
