"""The demo's look at its own dashboard, as a browser would: log in, keep
the session cookie, read the overview (plain HTTP, no JavaScript)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

_SESSION = "nidaa_session"
_LOGIN = "nidaa_login"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object) -> None:
        return None


def _open(url: str, cookies: dict[str, str], form: dict[str, str] | None = None
          ) -> tuple[int, dict[str, str], str]:  # fmt: skip
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
    req = urllib.request.Request(url, data=data, headers={"Cookie": jar} if jar else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read(2_000_000).decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read(200_000).decode(errors="replace")


def _cookie(headers: dict[str, str], name: str) -> str:
    found = re.search(rf"{name}=([^;]+)", headers.get("Set-Cookie", ""))
    return found[1] if found else ""


def login(base: str, user: str, password: str) -> str:
    """A session cookie for ``user`` (empty when the login is refused)."""
    status, headers, page = _open(base + "/login", {})
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    if status != 200 or token is None:
        return ""
    form = {"user": user, "password": password, "csrf": token[1]}
    status, headers, _ = _open(base + "/login", {_LOGIN: _cookie(headers, _LOGIN)}, form)
    return _cookie(headers, _SESSION) if status == 303 else ""


def branches_shown(base: str, session: str) -> list[str] | None:
    """The branches the overview shows to ``session``; None: sent to the login."""
    status, _, page = _open(base + "/", {_SESSION: session})
    if status != 200:
        return None
    return re.findall(r'<article class="branch [^"]*" id="b-[^"]*" data-branch="([^"]+)"', page)
