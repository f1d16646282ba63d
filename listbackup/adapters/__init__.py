"""AWS services that are not tables: Cognito (identity), EventBridge (events), SES (mail)
and Secrets Manager. Like the stores, each adapter is built once per process from the
AWS clients and translates ClientError into domain errors."""
