"""Google Drive: file storage.

Follows https://developers.google.com/workspace/drive/api/reference/rest/v3.
"""

from listbackup.integrations.base import Integration, OAuthSpec
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

INTEGRATION = Integration(
    platform=Platform(
        slug="google-drive",
        name="Google Drive",
        category="file-storage",
        description="Files, shared drives and sharing settings from Google Drive.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "drives",
                "Shared drives",
                "Shared drives the user is a member of.",
                Frequency.WEEKLY,
            ),
            # Google Docs, Sheets and Slides have no binary content; they are exported.
            DataType(
                "files",
                "Files",
                "File and folder metadata plus content.",
                Frequency.DAILY,
                depends_on=("drives",),
            ),
            DataType(
                "permissions",
                "Permissions",
                "Who each file and shared drive is shared with.",
                Frequency.DAILY,
                depends_on=("drives", "files"),
            ),
            DataType(
                "revisions",
                "Revisions",
                "Earlier versions of each file.",
                Frequency.DAILY,
                depends_on=("files",),
            ),
            DataType(
                "comments",
                "Comments",
                "Comments and replies on files.",
                Frequency.DAILY,
                depends_on=("files",),
            ),
        ),
    ),
    api_base_url="https://www.googleapis.com/drive/v3",
    docs_url="https://developers.google.com/workspace/drive/api/reference/rest/v3",
    oauth=OAuthSpec(
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        # drive.readonly is a restricted scope: a public app needs Google's verification and
        # a security assessment. openid + email put the account's address in the ID token.
        scopes=("openid", "email", "https://www.googleapis.com/auth/drive.readonly"),
        pkce=True,
        # offline: issue a refresh token; consent: issue it again on every reconnect.
        authorize_params={"access_type": "offline", "prompt": "consent"},
    ),
)
