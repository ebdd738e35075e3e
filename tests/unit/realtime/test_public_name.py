"""What customers and enterprises see of a technician's name (realtime.hub.dispatch_topics)."""

from __future__ import annotations

import pytest

from realtime.hub.dispatch_topics import public_name


@pytest.mark.parametrize(("name", "shown"), [
    ("Anna de Vries", "Anna"),
    ("Bram", "Bram"),
    ("  Mary   Ann Smith ", "Mary"),
    ("周敏", "周敏"),
    # Bilingual: the Chinese page shows 王伟, the English page "Wang" (clients/web personName).
    ("王伟 Wang Wei", "王伟 Wang"),
    ("欧阳·娜娜 Ouyang Nana", "欧阳·娜娜 Ouyang"),
    ("", ""),
    (None, ""),
])
def test_public_name_is_the_first_name_in_each_script(name: object, shown: str) -> None:
    assert public_name(name) == shown
