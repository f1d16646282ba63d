"""Shopify: e-commerce. Follows https://shopify.dev/docs/api/admin-rest."""

from listbackup.integrations.base import Integration, OAuthSpec
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

_FINANCIAL_RETENTION = 365

INTEGRATION = Integration(
    platform=Platform(
        slug="shopify",
        name="Shopify",
        category="ecommerce",
        description="Orders, customers, products and inventory from your Shopify store.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "products", "Products", "Products with their variants and images.", Frequency.DAILY
            ),
            DataType(
                "custom_collections",
                "Custom collections",
                "Hand-picked collections.",
                Frequency.WEEKLY,
                depends_on=("products",),
            ),
            DataType(
                "smart_collections",
                "Smart collections",
                "Rule-based collections.",
                Frequency.WEEKLY,
                depends_on=("products",),
            ),
            DataType("customers", "Customers", "Customer records and addresses.", Frequency.DAILY),
            DataType(
                "orders",
                "Orders",
                "Orders with line items, fulfillments and refunds.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers", "products"),
            ),
            DataType(
                "transactions",
                "Transactions",
                "Payment transactions on each order.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("orders",),
            ),
            DataType(
                "draft_orders",
                "Draft orders",
                "Orders created by staff, not yet paid.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers", "products"),
            ),
            DataType(
                "locations", "Locations", "Stores and warehouses that hold stock.", Frequency.WEEKLY
            ),
            DataType(
                "inventory_levels",
                "Inventory levels",
                "Stock of each item per location.",
                Frequency.DAILY,
                depends_on=("products", "locations"),
            ),
            DataType(
                "price_rules",
                "Price rules",
                "Discounts and their discount codes.",
                Frequency.WEEKLY,
            ),
        ),
    ),
    # `{shop}` (here and in the OAuth URLs) is the shop's full myshopify domain, e.g.
    # "example.myshopify.com", as Shopify sends it in the `shop` parameter; never a custom domain.
    # The REST Admin API is legacy since 2024-10 (new public apps must use GraphQL since
    # 2025-04); 2026-10 is the newest stable version. Each version is supported for 12 months.
    api_base_url="https://{shop}/admin/api/2026-10",
    docs_url="https://shopify.dev/docs/api/admin-rest",
    oauth=OAuthSpec(
        authorize_url="https://{shop}/admin/oauth/authorize",
        # From 2027-01-01 public apps must use expiring offline tokens: send `expiring=1` with
        # the code exchange; the token then lasts an hour and comes with a refresh token.
        token_url="https://{shop}/admin/oauth/access_token",
        # read_orders covers orders, transactions and fulfillments, but only the last 60 days;
        # older orders need read_all_orders, which Shopify must approve for the app first.
        scopes=(
            "read_products",
            "read_customers",
            "read_orders",
            "read_draft_orders",
            "read_inventory",
            "read_locations",
            "read_price_rules",
        ),
        scope_separator=",",
    ),
)
