"""What notifications say, per language (zh, en; others fall back to en). Pure."""

from __future__ import annotations

from queueing.model import Name, display_name

TEXTS: dict[str, dict[str, str]] = {
    "reminder": {
        "en": "Reminder: {service}{with_resource}{at_site}, {time}. Code {code}."
              "{booking_replies}",
        "zh": "提醒：您预约的{at_site}{service}{with_resource}在 {time}，预约码 {code}。"
              "{booking_replies}",
    },
    "verify": {
        "en": "{code} is your code to book at {site}. It is valid for 10 minutes. If you did "
              "not ask for it, ignore this text.",
        "zh": "{code} 是您在{site}预约的验证码，10 分钟内有效。如非本人操作，请忽略。",
    },
    "booked": {
        "en": "Booked{at_site}: {service}{with_resource}, {time}. Code {code}."
              "{booking_replies}",
        "zh": "预约成功：{at_site}{service}{with_resource}，{time}。预约码 {code}。"
              "{booking_replies}",
    },
    "rebooked": {
        "en": "Your appointment ({service}) has moved to {time} (it was {was}). Booking code "
              "{code}.",
        "zh": "您的预约（{service}）已改到 {time}（原为 {was}）。预约码 {code}。",
    },
    "rebooked_to": {
        "en": "Your appointment ({service}) has moved to {time} with {resource} (it was {was} "
              "with {was_resource}). Booking code {code}.",
        "zh": "您的预约（{service}）已改到 {time}，{resource}（原为 {was}，{was_resource}）。"
              "预约码 {code}。",
    },
    "booking_cancelled": {
        "en": "Your appointment ({service}) at {time} was cancelled by {site}. If this is a "
              "mistake, please call or ask at reception.",
        "zh": "您 {time} 的预约（{service}）已被{site}取消。如有疑问，请来电或到服务台咨询。",
    },
    "offer": {
        "en": "A place at {time} ({service}) is free for you. Confirm before {until}.",
        "zh": "{time}（{service}）有空位留给您，请在 {until} 前确认。",
    },
    "suspended": {
        "en": "Your appointment at {time} cannot take place (\"{reason}\"). Choose another "
              "time.{alts}",
        "zh": "您 {time} 的预约无法进行（原因：“{reason}”）。请选择其他时间。{alts}",
    },
    # The number can answer by text (the SMS desk, realtime/sms_bookings.py): "1" takes the
    # first alternative listed.
    "suspended_reply": {
        "en": "Your appointment at {time} cannot take place (\"{reason}\").{alts} Reply "
              "{numbers} to take a time, or CANCEL.",
        "zh": "您 {time} 的预约无法进行（原因：“{reason}”）。{alts}回复 {numbers} 选择该时间，"
              "或回复“取消”。",
    },
    "waitlisted": {
        "en": "You are on the waiting list for {service} at {time}: not booked yet. We will "
              "text you if a place frees up.",
        "zh": "您已登记{service} {time}的候补，尚未预约成功。如有空位，我们会短信通知您。",
    },
    "unsuspended": {
        "en": "Good news: your appointment ({service}) at {time} stands after all. Booking "
              "code {code}.",
        "zh": "好消息：您 {time} 的预约（{service}）照常进行。预约码 {code}。",
    },
    "moved": {
        "en": "Ticket {number} now waits for {service}, in order of your original arrival.",
        "zh": "{number} 号已转到{service}排队，按您原来的取号时间排序。",
    },
    "no_show": {
        "en": "Ticket {number} was called and nobody came, so it has closed. Please take a new "
              "ticket if you still need one.",
        "zh": "{number} 号叫号未到，已过号。如仍需办理，请重新取号。",
    },
    "no_show_back": {
        "en": "Ticket {number} was called and nobody came. It is back in the queue: please "
              "stay close and watch for your number.",
        "zh": "{number} 号叫号未到，已重新排队，请在附近留意叫号。",
    },
    "cancelled_by_staff": {
        "en": "Ticket {number} was cancelled by staff. If this is a mistake, please ask at "
              "reception.",
        "zh": "{number} 号已被工作人员取消。如有疑问，请到服务台咨询。",
    },
    "cancelled_day_closed": {
        "en": "{site} has closed for today; ticket {number} is no longer valid. Please take a "
              "new ticket next time.",
        "zh": "{site}今日服务已结束，{number} 号已失效。请下次重新取号。",
    },
    "no_counter": {
        "en": "All counters for {service} have closed for now. Ticket {number} stays in the "
              "queue: if a counter opens, we will text you when you are called. If none "
              "opens today, the ticket ends when the day is closed; please take a new ticket "
              "next time or ask at reception.",
        "zh": "{service}的窗口现已全部关闭。{number} 号仍在排队：如有窗口开放，叫到您时我们会"
              "短信通知您；如今天不再开放，该号将在今日结束时失效，请下次重新取号或到服务台咨询。",
    },
    "issued": {
        "en": "Your ticket{at_site}: {number} ({service}), {ahead} ahead{about}. We'll text "
              "you when you are called.{ticket_replies}",
        "zh": "{site_tag}您的号码是 {number}（{service}），目前前面有 {ahead} 人{about}。"
              "叫到您时我们会再发短信。{ticket_replies}",
    },
    "almost": {
        "en": "Almost your turn: {ahead} ahead of ticket {number}.",
        "zh": "快到您了：{number} 号前面还有 {ahead} 人。",
    },
}


# Appended to a booking's texts when the server has a public address: the short link to the
# person's own page (see, confirm, move, cancel; realtime/links.py).
LINK: dict[str, str] = {"en": "Your appointment: {url}", "zh": "查看或改约：{url}"}


def with_link(text: dict[str, str], url: str) -> dict[str, str]:
    """Each language's text with the link sentence after it."""
    def line(lang: str) -> str:
        return (LINK.get(lang) or LINK.get(lang.split("-")[0]) or LINK["en"]).replace(
            "{url}", url)
    # No space after a Chinese full stop.
    return {lang: f"{body}{'' if lang.startswith('zh') else ' '}{line(lang)}"
            for lang, body in text.items()}


class PerLanguage(dict[str, str]):
    """A value that reads differently per language (a service's name): ``render`` puts
    each language's own into that language's text."""

    def pick(self, lang: str) -> str:
        return self.get(lang) or self.get(lang.split("-")[0]) or next(iter(self.values()), "")


def names(name: Name | None, languages: list[str], fallback: str) -> PerLanguage:
    """A configured name (one string, or per language) for each of ``languages``."""
    return PerLanguage({lang: display_name(name, lang, fallback) for lang in languages or ["en"]})


# Parts of a text said only when their values are given (else ''): where (the site's name),
# with whom (the booking's doctor or room), how long (minutes, an estimate), and the words to
# reply with, where the number can answer by text (``replies``: queueing/sms_desk.py).
PARTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "at_site": (("site",), {"en": " at {site}", "zh": "{site}"}),
    "site_tag": (("site",), {"en": "{site}: ", "zh": "【{site}】"}),
    "with_resource": (("resource",), {"en": " with {resource}", "zh": "（{resource}）"}),
    "about": (("minutes",), {"en": ", about {minutes} min", "zh": "，预计约 {minutes} 分钟"}),
    "booking_replies": (("replies",), {
        "en": " Reply CANCEL to cancel; on the day, text ARRIVED when you are here.",
        "zh": "回复“取消”可取消；到达后回复“签到”。"}),
    "ticket_replies": (("replies",), {
        "en": " Reply STATUS to check, CANCEL to leave.",
        "zh": "回复“查询”看进度，“取消”退号。"}),
}


def render(kind: str, languages: list[str], **values: object) -> dict[str, str]:
    templates = TEXTS[kind]
    out = {}
    for lang in languages or ["en"]:
        template = templates.get(lang) or templates.get(lang.split("-")[0]) or templates["en"]
        own = {k: v.pick(lang) if isinstance(v, PerLanguage) else v for k, v in values.items()}
        for part, (needs, words) in PARTS.items():
            said = words.get(lang) or words.get(lang.split("-")[0]) or words["en"]
            own[part] = said.format(**own) if all(own.get(n) for n in needs) else ""
        out[lang] = template.format(**own)
    return out
