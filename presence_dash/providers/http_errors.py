"""Turning HTTP failures into the short, secret-free messages shown in the health strip."""

from __future__ import annotations

import requests

from presence_dash.providers.base import UpdateFailed


def request_failed(exc: requests.RequestException, timeout: float) -> UpdateFailed:
    if isinstance(exc, requests.Timeout):
        return UpdateFailed(f"no answer within {timeout:g} s")
    if isinstance(exc, requests.ConnectionError):
        return UpdateFailed("cannot connect to the server")
    return UpdateFailed(f"request failed ({type(exc).__name__})")


def describe_http_error(response: requests.Response, prefix: str = "") -> str:
    """`HTTP 503: <vendor message>`; the vendor's own message when its body carries one."""
    message = _vendor_message(response)
    head = f"HTTP {response.status_code}" + (f" {prefix}" if prefix else "")
    return f"{head}: {message}" if message else head


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _vendor_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        return str(message)[:200] if message else ""
    if isinstance(error, str):
        return error[:200]
    return ""
