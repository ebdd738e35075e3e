"""What people type, read as they meant it. Pure.

A Chinese input method in full-width mode types ``Ａ００１`` for A001 and ``　`` for a space;
a booking page shows a code in two groups (``HD4 3UX``) and people copy it so, or with a dash.
Ticket numbers and booking codes are read through :func:`plain` (NFKC: full-width forms
made plain) and, where no space or dash belongs, :func:`compact`. The SMS parser
(queueing/sms.py) reads a text through the same :func:`plain`.
"""

from __future__ import annotations

import re
import unicodedata

# Spaces (any: NFKC leaves a no-break space a space) and the dashes people put between
# groups: hyphen-minus, the Unicode hyphens and dashes, minus, and the underscore a phone
# keyboard offers beside them. Full-width forms (－, ＿) are plain by then.
_SEPARATORS = re.compile(r"[\s\-_\u2010-\u2015\u2212]+")


def plain(text: str) -> str:
    """``text`` with full-width and other compatibility forms made plain (``Ａ００１`` →
    ``A001``, ``？`` → ``?``, an ideographic space → a space)."""
    return unicodedata.normalize("NFKC", text)


def compact(text: str) -> str:
    """:func:`plain`, without spaces or dashes: ``"hd4 3ux"`` → ``"hd43ux"``,
    ``"Ａ－００１"`` → ``"A001"``. Case is kept."""
    return _SEPARATORS.sub("", plain(text))
