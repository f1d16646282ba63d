"""Who the users are: the Cognito user pool and app client, and the SES sender."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct

from deploy.config import DeployConfig
from listbackup.resources import ResourceSpec

_MFA = {"OFF": cognito.Mfa.OFF, "OPTIONAL": cognito.Mfa.OPTIONAL, "ON": cognito.Mfa.REQUIRED}
# Cognito always allows refresh-token auth for a client with any flow; the L2 adds it.
_AUTH_FLOWS = {
    "ALLOW_USER_PASSWORD_AUTH": "user_password",
    "ALLOW_USER_SRP_AUTH": "user_srp",
    "ALLOW_CUSTOM_AUTH": "custom",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH": "admin_user_password",
}


class IdentityStack(Stack):
    def __init__(
        self, scope: Construct, id: str, *, config: DeployConfig, spec: ResourceSpec, **kw: Any
    ) -> None:
        super().__init__(scope, id, **kw)
        names = config.names
        pool = spec.user_pool
        # SES emails a verification link to this address on creation; until it is clicked
        # SES refuses to send from it (docs/deploy.md, first deploy).
        self.email_identity = ses.EmailIdentity(
            self, "Sender", identity=ses.Identity.email(config.email_from)
        )
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=names.user_pool(),
            # The API signs users up itself (signUp mutation).
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=pool.password_min_length,
                require_uppercase=True,
                require_lowercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            mfa=_MFA[pool.mfa],
            mfa_second_factor=(
                cognito.MfaSecondFactor(otp=True, sms=False) if pool.mfa != "OFF" else None
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            email=(
                cognito.UserPoolEmail.with_ses(from_email=config.email_from)
                if config.cognito_email_via_ses
                else None
            ),
            deletion_protection=config.production,
            removal_policy=RemovalPolicy.RETAIN if config.production else RemovalPolicy.DESTROY,
        )
        unknown = set(pool.auth_flows) - set(_AUTH_FLOWS) - {"ALLOW_REFRESH_TOKEN_AUTH"}
        if unknown:
            raise ValueError(f"user pool client: unsupported auth flows {sorted(unknown)}")
        self.client = self.user_pool.add_client(
            "WebClient",
            user_pool_client_name=names.user_pool_client(),
            generate_secret=False,
            auth_flows=cognito.AuthFlow(
                **{_AUTH_FLOWS[flow]: True for flow in pool.auth_flows if flow in _AUTH_FLOWS}
            ),
            # No hosted UI: the API drives sign-in, so no OAuth flows or callback URLs.
            disable_o_auth=True,
            access_token_validity=Duration.minutes(pool.access_token_minutes),
            id_token_validity=Duration.minutes(pool.id_token_minutes),
            refresh_token_validity=Duration.days(pool.refresh_token_days),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
        )
        # Our OAuth apps' client ids and secrets at the platforms, as the API and worker read
        # them (LISTBACKUP_PLATFORM_SECRETS). It starts as an empty JSON object, which is
        # no secret; the operator puts the real value (docs/deploy.md) and CloudFormation
        # leaves it alone while this template's value is unchanged.
        self.platform_secret = secretsmanager.Secret(
            self,
            "PlatformSecret",
            secret_name=f"{names.prefix}/platform-oauth-clients",
            description="ListBackup's OAuth client credentials: {slug: {client_id, client_secret}}",
            secret_string_value=SecretValue.unsafe_plain_text("{}"),
            removal_policy=RemovalPolicy.RETAIN if config.production else RemovalPolicy.DESTROY,
        )
        CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.client.user_pool_client_id)
        CfnOutput(self, "PlatformSecretArn", value=self.platform_secret.secret_arn)
