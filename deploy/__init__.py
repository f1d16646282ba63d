"""The CDK app that deploys ListBackup to AWS; it reads ``listbackup.resources`` and nothing
else of the application (a test and an import-linter contract hold this)."""
