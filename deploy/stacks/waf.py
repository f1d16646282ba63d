"""The WAFv2 web ACL in front of the API's load balancer."""

from __future__ import annotations

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

#: AWS managed rule groups, in evaluation order.
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
RATE_RULE = "RatePerClientAddress"


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _managed(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    overrides = None
    if name == "AWSManagedRulesCommonRuleSet":
        # The common set blocks bodies over 8 KB; GraphQL documents can be larger and the
        # API enforces its own limit (LISTBACKUP_MAX_BODY_BYTES), so only count those.
        overrides = [
            wafv2.CfnWebACL.RuleActionOverrideProperty(
                name="SizeRestrictions_BODY",
                action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
            )
        ]
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name, rule_action_overrides=overrides
            )
        ),
        visibility_config=_visibility(name),
    )


def web_acl(
    scope: Construct, *, name: str, load_balancer_arn: str, requests_per_5_minutes: int
) -> wafv2.CfnWebACL:
    """A regional web ACL: managed rule groups, a rate limit per client address, associated
    with the load balancer."""
    rules = [_managed(group, priority) for priority, group in enumerate(MANAGED_RULE_GROUPS)]
    rules.append(
        wafv2.CfnWebACL.RuleProperty(
            name=RATE_RULE,
            priority=len(rules),
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                # The ALB is the first hop, so the WAF sees the client's own address.
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP", limit=requests_per_5_minutes
                )
            ),
            visibility_config=_visibility(RATE_RULE),
        )
    )
    acl = wafv2.CfnWebACL(
        scope,
        "WebAcl",
        name=name,
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        rules=rules,
        visibility_config=_visibility(name),
    )
    wafv2.CfnWebACLAssociation(
        scope, "WebAclAssociation", resource_arn=load_balancer_arn, web_acl_arn=acl.attr_arn
    )
    return acl
