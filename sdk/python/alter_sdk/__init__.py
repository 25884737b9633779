"""Alter SDK for Python: call any provider's API through Alter without holding the credential.

    import asyncio, os
    from alter_sdk import AlterVault, ActorType, HttpMethod

    async def main():
        async with AlterVault(api_key=os.environ["ALTER_API_KEY"], actor_type=ActorType.AI_AGENT,
                              actor_identifier="calendar-agent", base_url="http://localhost:8080") as vault:
            response = await vault.request("con_…", HttpMethod.GET,
                "https://www.googleapis.com/calendar/v3/calendars/{calendar_id}/events",
                path_params={"calendar_id": "primary"}, query_params={"maxResults": 10})
            print(response.json())

    asyncio.run(main())
"""

from .enums import ActorType, HttpMethod
from .errors import (
    AlterConfigurationError,
    AlterConnectionError,
    AlterError,
    AlterSdkError,
    AlterTimeoutError,
    AuthenticationError,
    ConnectError,
    InvalidTargetError,
    NeedsReauthError,
    NotFoundError,
    PolicyDeniedError,
    ScopeInsufficientError,
    TokenExchangeError,
    UpstreamError,
    UpstreamUnavailableError,
)
from .response import Headers, Response
from .vault import AlterVault, ConnectResult

__version__ = "0.1.0"

__all__ = [
    "AlterVault",
    "ConnectResult",
    "ActorType",
    "HttpMethod",
    "Response",
    "Headers",
    "AlterSdkError",
    "AlterError",
    "AuthenticationError",
    "PolicyDeniedError",
    "ScopeInsufficientError",
    "NeedsReauthError",
    "InvalidTargetError",
    "NotFoundError",
    "UpstreamUnavailableError",
    "UpstreamError",
    "TokenExchangeError",
    "ConnectError",
    "AlterConnectionError",
    "AlterTimeoutError",
    "AlterConfigurationError",
    "__version__",
]
