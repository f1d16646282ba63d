"""Dropbox: file storage.

Follows https://www.dropbox.com/developers/documentation/http/documentation (API v2).
"""

from listbackup.integrations.base import Integration, OAuthSpec
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

INTEGRATION = Integration(
    platform=Platform(
        slug="dropbox",
        name="Dropbox",
        category="file-storage",
        description="Files, folders and sharing settings from your Dropbox.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType("folders", "Folders", "The folder tree.", Frequency.DAILY),
            DataType(
                "files",
                "Files",
                "File metadata plus content.",
                Frequency.DAILY,
                depends_on=("folders",),
            ),
            DataType(
                "shared_folders",
                "Shared folders",
                "Shared folders and their members.",
                Frequency.DAILY,
                depends_on=("folders",),
            ),
            DataType(
                "shared_links",
                "Shared links",
                "Links shared to files and folders.",
                Frequency.DAILY,
                depends_on=("files", "folders"),
            ),
            DataType(
                "file_requests",
                "File requests",
                "Requests for others to upload files.",
                Frequency.WEEKLY,
                depends_on=("folders",),
            ),
        ),
    ),
    # RPC endpoints; file downloads go to https://content.dropboxapi.com/2.
    api_base_url="https://api.dropboxapi.com/2",
    docs_url="https://www.dropbox.com/developers/documentation/http/documentation",
    oauth=OAuthSpec(
        authorize_url="https://www.dropbox.com/oauth2/authorize",
        token_url="https://api.dropboxapi.com/oauth2/token",
        # Must match the scopes enabled on the app's Permissions tab.
        scopes=(
            "account_info.read",
            "files.metadata.read",
            "files.content.read",
            "sharing.read",
            "file_requests.read",
        ),
        pkce=True,
        # offline: issue a refresh token alongside the short-lived access token.
        authorize_params={"token_access_type": "offline"},
    ),
)
