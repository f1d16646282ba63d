"""Domain enums, registered as GraphQL enums under their contract names."""

import strawberry

from listbackup.models import platforms

# strawberry.enum marks the model's enum class itself, so models flow into the schema as-is.
AuthType = platforms.AuthType
Frequency = platforms.Frequency
for _enum in (AuthType, Frequency):
    strawberry.enum(_enum, name=_enum.__name__)
