"""Where to go after signing in: `next` is followed only when it is a path on this site
(an open redirect would let a phishing link borrow our sign-in page)."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(raw: str | None) -> str:
    """`raw` if it is a path on this site, else "/": the only `next` we redirect to.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so a
    slash, a tab and `/evil.example` is `//evil.example`, another site. Hence any control
    character, any backslash, a leading `//` and anything with a scheme or host are
    refused (a newline would also break the Location header)."""
    path = (raw or "/").strip(" ").rstrip("?") or "/"
    if any(_is_control(c) for c in path) or "\\" in path:
        return "/"
    if not path.startswith("/") or path.startswith("//"):
        return "/"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return "/"
    return path


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F
