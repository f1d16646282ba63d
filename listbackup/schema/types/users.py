"""Users, sign-up and sign-in (the identity part of the schema)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.models import users as models
from listbackup.models.pages import DEFAULT_PAGE_SIZE
from listbackup.models.users import ProfileChanges, Session, SignUpData
from listbackup.resolvers import identity as resolvers
from listbackup.resolvers import users as user_resolvers
from listbackup.schema import node
from listbackup.schema.types.accounts import Account
from listbackup.schema.types.invitations import Invitation
from listbackup.schema.types.members import Membership
from listbackup.schema.types.pages import Page, page_of, page_size


@strawberry.type
class User(node.Node):
    id: strawberry.ID
    email: str
    name: str
    phone: str | None
    timezone: str | None
    created_at: datetime
    last_login_at: datetime | None
    model: strawberry.Private[models.User]

    @classmethod
    def from_model(cls, user: models.User) -> User:
        return cls(
            id=strawberry.ID(ids.encode(ids.USER, user.id)),
            email=user.email,
            name=user.name,
            phone=user.phone,
            timezone=user.timezone,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
            model=user,
        )

    @strawberry.field(description="The account the user is working in.")
    async def current_account(self, info: Info[Context, None]) -> Account | None:
        found = await user_resolvers.current_account(info.context, user=self.model)
        return Account.from_model(found) if found else None

    @strawberry.field(description="The accounts the user belongs to, with role and permissions.")
    async def memberships(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Page[Membership]:
        page = await user_resolvers.memberships(
            info.context, user=self.model, first=page_size(first), after=after
        )
        return page_of(page, Membership.from_model)

    @strawberry.field(description="Invitations to the user's email that can still be accepted.")
    async def pending_invitations(self, info: Info[Context, None]) -> list[Invitation]:
        found = await user_resolvers.pending_invitations(info.context, user=self.model)
        return [Invitation.from_model(i) for i in found]


node.register(models.User, User.from_model)


@strawberry.type
class AuthPayload:
    access_token: str
    id_token: str
    refresh_token: str | None = strawberry.field(
        description="Only on sign-in; refreshing keeps the refresh token you have."
    )
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User

    @classmethod
    def from_session(cls, session: Session) -> AuthPayload:
        tokens = session.tokens
        return cls(
            access_token=tokens.access_token,
            id_token=tokens.id_token,
            refresh_token=tokens.refresh_token,
            expires_in=tokens.expires_in,
            user=User.from_model(session.user),
        )


@strawberry.type
class SignUpPayload:
    user_confirmed: bool
    user_id: strawberry.ID


@strawberry.input
class SignUpInput:
    email: str
    password: str
    name: str
    phone: str | None = None
    company: str | None = None


@strawberry.input(description="Only the fields given change; null clears phone or timezone.")
class UpdateProfileInput:
    name: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="The signed-in user.")
    async def viewer(self, info: Info[Context, None]) -> User:
        return User.from_model(await user_resolvers.viewer(info.context))


@strawberry.type
class IdentityMutation:
    @strawberry.mutation
    async def sign_up(self, info: Info[Context, None], input: SignUpInput) -> SignUpPayload:
        data = SignUpData(
            email=input.email,
            password=input.password,
            name=input.name,
            phone=input.phone,
            company=input.company,
        )
        result = await resolvers.sign_up(info.context, data=data)
        return SignUpPayload(
            user_confirmed=result.confirmed,
            user_id=strawberry.ID(ids.encode(ids.USER, result.user_id)),
        )

    @strawberry.mutation
    async def confirm_sign_up(self, info: Info[Context, None], email: str, code: str) -> bool:
        await resolvers.confirm_sign_up(info.context, email=email, code=code)
        return True

    @strawberry.mutation
    async def sign_in(self, info: Info[Context, None], email: str, password: str) -> AuthPayload:
        session = await resolvers.sign_in(info.context, email=email, password=password)
        return AuthPayload.from_session(session)

    @strawberry.mutation
    async def refresh_session(self, info: Info[Context, None], refresh_token: str) -> AuthPayload:
        session = await resolvers.refresh_session(info.context, refresh_token=refresh_token)
        return AuthPayload.from_session(session)

    @strawberry.mutation(
        description="Signs the user out everywhere: every refresh token stops working."
    )
    async def sign_out(self, info: Info[Context, None]) -> bool:
        await resolvers.sign_out(info.context)
        return True

    @strawberry.mutation(
        description="Emails a reset code; answers true whether or not the email is known."
    )
    async def forgot_password(self, info: Info[Context, None], email: str) -> bool:
        await resolvers.forgot_password(info.context, email=email)
        return True

    @strawberry.mutation
    async def confirm_forgot_password(
        self, info: Info[Context, None], email: str, code: str, new_password: str
    ) -> bool:
        await resolvers.confirm_forgot_password(
            info.context, email=email, code=code, new_password=new_password
        )
        return True

    @strawberry.mutation
    async def change_password(
        self, info: Info[Context, None], current_password: str, new_password: str
    ) -> bool:
        await resolvers.change_password(info.context, current=current_password, new=new_password)
        return True

    @strawberry.mutation
    async def update_profile(self, info: Info[Context, None], input: UpdateProfileInput) -> User:
        fields = {
            name: getattr(input, name)
            for name in ("name", "phone", "timezone")
            if getattr(input, name) is not strawberry.UNSET
        }
        user = await user_resolvers.update_profile(info.context, changes=ProfileChanges(fields))
        return User.from_model(user)
