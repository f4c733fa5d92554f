"""The dashboard's HTML, Arabic first and right to left.

Every page and every live update is rendered here, on the server, from one
:class:`~appliance.central.views.Snapshot`; every value that came from the
store (branch and service names, ids) goes through :func:`html.escape`.  The
live updates replace the ``<main>`` of a page with the same fragment the
page was first served with, so there is one way a value reaches the screen.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from ..views import BranchNow, ServiceNow, Snapshot

#: Shown in every page's head; the CSS and the script are files of the
#: dashboard itself (the machine is offline: no CDN, fonts from the system).
_HEAD = (
    '<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<link rel="stylesheet" href="/static/dashboard.css"><title>{title}</title></head>'
)


def e(value: object) -> str:
    """Escaped for HTML text and attribute values alike."""
    return escape(str(value), quote=True)


def minutes(seconds: float | None) -> str:
    return "–" if seconds is None else str(round(seconds / 60))


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def clock(at: datetime | None, tz: tzinfo, today: datetime) -> str:
    """``14:05``, or ``2026-12-03 14:05`` on another day than ``today``."""
    if at is None:
        return "–"
    local = at.astimezone(tz)
    if local.date() == today.astimezone(tz).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def page(title: str, body: str, *, stream: str | None = None, user: str = "",
         logout_token: str = "") -> str:  # fmt: skip
    """A whole page; ``stream``: the URL of its live updates."""
    bar = ""
    if user:
        bar = (
            '<nav class="bar"><a href="/">كل الفروع</a>'
            f'<form method="post" action="/logout"><span class="user">{e(user)}</span>'
            f'<input type="hidden" name="csrf" value="{e(logout_token)}">'
            '<button type="submit">خروج</button></form></nav>'
        )
    live = f' data-stream="{e(stream)}"' if stream else ""
    script = '<script src="/static/dashboard.js" defer></script>' if stream else ""
    return (
        _HEAD.format(title=e(title))
        + f'<body>{bar}<main id="live"{live}>{body}</main>{script}</body></html>'
    )


def login_page(token: str, *, message: str = "") -> str:
    note = f'<p class="error" role="alert">{e(message)}</p>' if message else ""
    body = (
        '<form class="login" method="post" action="/login">'
        "<h1>لوحة متابعة الفروع</h1>"
        f"{note}"
        '<label>اسم المستخدم <input name="user" autocomplete="username" required '
        'dir="ltr"></label>'
        '<label>كلمة المرور <input name="password" type="password" '
        'autocomplete="current-password" required dir="ltr"></label>'
        f'<input type="hidden" name="csrf" value="{e(token)}">'
        '<button type="submit">دخول</button></form>'
    )
    return page("دخول — لوحة الفروع", body)


def _link(b: BranchNow, snap: Snapshot, tz: tzinfo) -> str:
    if b.online:
        return '<span class="link online" data-k="link">متصل</span>'
    if b.link_since is None:
        return '<span class="link offline" data-k="link">غير متصل</span>'
    since = clock(b.link_since, tz, snap.at)
    gone = minutes((snap.at - b.link_since).total_seconds())
    return (
        f'<span class="link offline" data-k="link">منقطع منذ {e(since)} ({e(gone)} دقيقة)</span>'
    )


def _figure(key: str, label: str, value: str, unit: str = "", *, alert: bool = False) -> str:
    cls = "fig alert" if alert else "fig"
    small = f"<small>{e(unit)}</small>" if unit else ""
    return f'<div class="{cls}"><span>{e(label)}</span><b data-k="{e(key)}">{e(value)}</b>{small}</div>'


def _figures(b: BranchNow, snap: Snapshot) -> str:
    avg = b.avg_wait_s
    longest = snap.longest_wait_s(b)
    targets = [s.target_wait_s for s in b.services if s.called or s.waiting]
    target = min(targets, default=None)
    return "".join(
        [
            _figure("waiting", "ينتظرون الآن", str(b.total("waiting"))),
            _figure("longest", "أطول انتظار حالي", minutes(longest), "دقيقة",
                    alert=target is not None and longest is not None and longest > target),
            _figure("served", "خدموا اليوم", str(b.total("served"))),
            _figure("avg_wait", "متوسط الانتظار", minutes(avg), "دقيقة",
                    alert=target is not None and avg is not None and avg > target),
            _figure("within_target", "ضمن الهدف", percent(b.within_target_share)),
            _figure("no_shows", "لم يحضروا", str(b.total("no_shows"))),
            _figure("satisfaction", "راضون", percent(b.satisfaction),
                    f"من {sum(s.ratings for s in b.services)} رأي"),
        ]
    )  # fmt: skip


def _waiting_list(b: BranchNow) -> str:
    items = "".join(
        f'<li data-service="{e(s.service)}"><span>{e(s.name)}</span>'
        f'<b data-k="waiting">{s.waiting}</b></li>'
        for s in b.services
    )
    return f'<ul class="per-service" aria-label="ينتظرون حسب الخدمة">{items}</ul>'


def _day_note(b: BranchNow, snap: Snapshot) -> str:
    """Which business day a branch's figures are, when not today's."""
    if b.day is None or b.day == snap.day:
        return ""
    return f'<p class="day-note" data-k="day">أرقام يوم العمل {e(b.day.isoformat())}</p>'


def _banner(snap: Snapshot, tz: tzinfo) -> str:
    stamp = snap.at.astimezone(tz).strftime("%H:%M:%S")
    head = f'<p class="stamp">اليوم {e(snap.day.isoformat())} — آخر تحديث <time>{e(stamp)}</time></p>'
    if snap.error:
        head += (
            '<p class="error" role="alert">تعذرت قراءة قاعدة البيانات المركزية؛ '
            f"الأرقام كما كانت عند آخر قراءة ناجحة ({e(snap.error)})</p>"
        )
    return head


def overview(snap: Snapshot, tz: tzinfo) -> str:
    """The ``<main>`` of the page of every branch."""
    online = sum(1 for b in snap.branches if b.online)
    waiting = sum(b.total("waiting") for b in snap.branches)
    served = sum(b.total("served") for b in snap.branches)
    cards = []
    for b in snap.branches:
        state = "online" if b.online else "offline"
        cards.append(
            f'<article class="branch {state}" id="b-{e(b.branch)}" data-branch="{e(b.branch)}">'
            f'<h2><a href="/branch/{e(b.branch)}">{e(b.name)}</a></h2>{_link(b, snap, tz)}'
            f"{_day_note(b, snap)}"
            f'<div class="figs">{_figures(b, snap)}</div>{_waiting_list(b)}</article>'
        )
    if not cards:
        cards.append('<p class="empty">لم يصل أي فرع بعد.</p>')
    summary = (
        '<section class="summary">'
        + _figure("branches_online", "فروع متصلة", f"{online} / {len(snap.branches)}")
        + _figure("waiting_all", "ينتظرون الآن في كل الفروع", str(waiting))
        + _figure("served_all", "خدموا اليوم في كل الفروع", str(served))
        + "</section>"
    )
    return (
        f"<h1>الفروع</h1>{_banner(snap, tz)}{summary}"
        f'<section class="branches">{"".join(cards)}</section>'
    )


def _service_row(s: ServiceNow, snap: Snapshot) -> str:
    longest = snap.longest_wait_s(s)
    avg = s.avg_wait_s
    late = avg is not None and avg > s.target_wait_s
    share = s.within_target / s.called if s.called else None
    rated = s.satisfied / s.ratings if s.ratings else None
    cells = [
        ("waiting", str(s.waiting)),
        ("longest", minutes(longest)),
        ("served", str(s.served)),
        ("avg_wait", minutes(avg)),
        ("target", minutes(s.target_wait_s)),
        ("within_target", percent(share)),
        ("no_shows", str(s.no_shows)),
        ("satisfaction", percent(rated)),
    ]
    tds = "".join(
        f'<td class="n{" alert" if late and k == "avg_wait" else ""}" data-k="{k}">{e(v)}</td>'
        for k, v in cells
    )
    return f'<tr data-service="{e(s.service)}"><th scope="row">{e(s.name)}</th>{tds}</tr>'


def branch(snap: Snapshot, b: BranchNow, tz: tzinfo) -> str:
    """The ``<main>`` of one branch's page."""
    seen = clock(b.last_seen, tz, snap.at)
    heads = ["الخدمة", "ينتظرون", "أطول انتظار (دقيقة)", "خدموا", "متوسط الانتظار (دقيقة)",
             "الهدف (دقيقة)", "ضمن الهدف", "لم يحضروا", "راضون"]  # fmt: skip
    th = "".join(f'<th scope="col">{h}</th>' for h in heads)
    rows = "".join(_service_row(s, snap) for s in b.services)
    return (
        f'<article class="branch one {"online" if b.online else "offline"}" id="b-{e(b.branch)}" '
        f'data-branch="{e(b.branch)}"><h1>{e(b.name)}</h1>'
        f'<p class="ids"><span dir="ltr">{e(b.branch)}</span>'
        + (f' — <span lang="en" dir="ltr">{e(b.name_en)}</span>' if b.name_en else "")
        + f" — {_link(b, snap, tz)} — آخر رسالة {e(seen)}</p>"
        f"{_banner(snap, tz)}{_day_note(b, snap)}"
        f'<div class="figs">{_figures(b, snap)}</div>'
        f'<div class="scroll"><table class="services"><thead><tr>{th}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div></article>"
    )


def missing_branch(name: str) -> str:
    return f'<p class="empty">لا يوجد فرع بهذا الاسم: <span dir="ltr">{e(name)}</span></p>'
