"""Every reason a job can be unassignable has words on the customer's page and on the
dispatcher console, in both languages (a new reason, service_level, had none: the pages
showed no reason, or the key)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch.model import Unassignable

WEB = Path(__file__).resolve().parents[3] / "clients" / "web" / "js"


@pytest.mark.parametrize(("file", "prefix"), [("i18n.js", "d_r_"),
                                              ("dispatch-console-strings.js", "dc_r_")])
def test_every_unassignable_reason_is_said_in_both_languages(file: str, prefix: str) -> None:
    text = (WEB / file).read_text(encoding="utf-8")
    for reason in Unassignable:
        said = re.findall(rf"^\s*{prefix}{reason.value}: '([^']+)',$", text, re.M)
        assert len(said) == 2, (file, reason.value, said)  # English, then Chinese
        cjk = [bool(re.search(r"[\u4e00-\u9fff]", x)) for x in said]
        assert cjk == [False, True], (file, reason.value, said)
