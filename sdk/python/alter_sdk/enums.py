"""Enumerations of the public interface."""

from __future__ import annotations

from enum import Enum

__all__ = ["ActorType", "HttpMethod"]


class ActorType(str, Enum):
    """Who the caller declares itself to be in app-key mode (`Alter-Actor-Type`)."""

    AI_AGENT = "ai_agent"
    BACKEND_SERVICE = "backend_service"

    def __str__(self) -> str:
        return self.value


class HttpMethod(str, Enum):
    """HTTP methods the proxy forwards."""

    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"

    def __str__(self) -> str:
        return self.value
