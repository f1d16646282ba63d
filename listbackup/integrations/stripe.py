"""Stripe: payments. Follows https://docs.stripe.com/api."""

from listbackup.integrations.base import Integration, OAuthSpec
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

_FINANCIAL_RETENTION = 365

INTEGRATION = Integration(
    platform=Platform(
        slug="stripe",
        name="Stripe",
        category="payments",
        description="Customers, payments, invoices and subscriptions from your Stripe account.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "customers", "Customers", "Customer records.", Frequency.DAILY, _FINANCIAL_RETENTION
            ),
            DataType(
                "products",
                "Products",
                "The product catalogue.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
            ),
            DataType(
                "prices",
                "Prices",
                "Prices attached to products.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("products",),
            ),
            DataType(
                "charges",
                "Charges",
                "Card and bank charges.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers",),
            ),
            DataType(
                "invoices",
                "Invoices",
                "Invoices and their line items.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers",),
            ),
            DataType(
                "subscriptions",
                "Subscriptions",
                "Recurring subscriptions.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers", "prices"),
            ),
            DataType(
                "refunds",
                "Refunds",
                "Refunds of charges.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("charges",),
            ),
            DataType(
                "payouts",
                "Payouts",
                "Transfers to your bank account.",
                Frequency.WEEKLY,
                _FINANCIAL_RETENTION,
            ),
        ),
    ),
    api_base_url="https://api.stripe.com/v1",
    docs_url="https://docs.stripe.com/api",
    oauth=OAuthSpec(
        authorize_url="https://connect.stripe.com/oauth/authorize",
        token_url="https://connect.stripe.com/oauth/token",
        scopes=("read_only",),
    ),
)
