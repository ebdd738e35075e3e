"""The site's ``vocabulary``: which words its pages use ("doctor" at a clinic, "clerk" and
"window" at a government centre). Default neutral; an unknown one is refused with the choices
named, and the site document is left as it was."""

from __future__ import annotations

import copy

import msgspec
import pytest

from queueing.demo import demo_site
from queueing.errors import BadRequest
from queueing.model import SiteConfig, Vocabulary, validate_site

MINIMAL = {"name": "Centre", "timezone": "Asia/Shanghai", "languages": ["zh"],
           "services": [{"id": "permits", "name": "Permits", "prefix": "A"}]}


def test_default_is_general_and_left_out_of_the_document() -> None:
    cfg = msgspec.convert(MINIMAL, SiteConfig)
    validate_site(cfg)
    assert cfg.vocabulary == Vocabulary.GENERAL == "general"
    # Omitted when default, as every other default: a stored site without it reads the same.
    assert "vocabulary" not in msgspec.to_builtins(cfg)


@pytest.mark.parametrize("kind", ["general", "clinic", "government", "branch"])
def test_each_vocabulary_is_accepted_and_kept(kind: str) -> None:
    cfg = msgspec.json.decode(msgspec.json.encode({**MINIMAL, "vocabulary": kind}),
                              type=SiteConfig)
    validate_site(cfg)
    assert msgspec.json.decode(msgspec.json.encode(cfg), type=SiteConfig).vocabulary == kind


def test_the_demo_clinic_speaks_a_clinics_words() -> None:
    assert demo_site().vocabulary == Vocabulary.CLINIC


@pytest.mark.parametrize("bad", ["hospital", "Clinic", "", "government "])
def test_an_unknown_vocabulary_is_refused_with_the_choices(bad: str) -> None:
    cfg = msgspec.convert({**MINIMAL, "vocabulary": bad}, SiteConfig)
    before = copy.deepcopy(msgspec.to_builtins(cfg))
    with pytest.raises(BadRequest) as err:
        validate_site(cfg)
    body = err.value.to_dict()
    assert body["code"] == "bad_request"  # a code clients already know, not a new one
    assert body["details"] == {"field": "vocabulary",
                               "allowed": ["general", "clinic", "government", "branch"]}
    assert "general, clinic, government, branch" in body["message"]
    assert msgspec.to_builtins(cfg) == before  # nothing in the document was changed


def test_a_wrongly_typed_vocabulary_is_refused_when_decoded() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.vocabulary"):
        msgspec.json.decode(msgspec.json.encode({**MINIMAL, "vocabulary": 3}), type=SiteConfig)
