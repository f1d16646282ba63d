"""ListBackup: backs up a business's SaaS data into S3, served as a GraphQL API on AWS."""

__version__ = "0.1.0"
