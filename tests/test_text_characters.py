"""Absurd values refused at the schema edge, so the API, the pages and the imports agree (issue 16): ID numbers
born in the future or before 1900, control characters and direction overrides in any text, invisible characters
and line breaks in names."""

from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError, fields

from matcher import clock
from matcher.apiutil import Schema, text_problem
from matcher.identifiers import IdNumberProblem, id_number_check_char, id_number_problem


def _number(born: dt.date, region: str = "330782", seq: str = "123") -> str:
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + id_number_check_char(first17)


@pytest.mark.parametrize("born", [dt.date(2099, 1, 1), dt.date(1899, 12, 31), dt.date(1800, 6, 1)])
def test_an_id_number_born_in_the_future_or_before_1900_is_invalid(born):
    assert id_number_problem(_number(born)) == IdNumberProblem.UNLIKELY_BIRTH_DATE


def test_an_id_number_born_from_1900_to_today_is_valid():
    for born in (dt.date(1900, 1, 1), dt.date(1990, 1, 1), clock.today() - dt.timedelta(days=400)):
        assert id_number_problem(_number(born)) is None


class Card(Schema):
    name = fields.Str()
    contact_name = fields.Str()
    address = fields.Str()
    aliases = fields.List(fields.Str())


def problems(**data) -> dict:
    with pytest.raises(ValidationError) as caught:
        Card().load(data)
    return caught.value.messages


@pytest.mark.parametrize("text", ["张\x08三", "张三\x1b[31m", "张\x7f三", "张\x85三"])
def test_control_characters_are_refused_in_every_text(text):
    for field in ("name", "address"):
        assert "control characters" in problems(**{field: text})[field][0]
    assert "control characters" in problems(aliases=["甲", text])["aliases"][1][0]


@pytest.mark.parametrize("text", ["张三\u202e", "\u2066张三\u2069", "\u202a义乌市\u202c"])
def test_direction_overrides_are_refused_in_every_text(text):
    message = problems(address=text)["address"][0]
    assert "direction-override" in message and "U+20" in message


@pytest.mark.parametrize("text", ["张\u200b三", "张三\ufeff", "\u200f张三", "张\u00ad三", "张\n三", "张\t三"])
def test_names_refuse_invisible_characters_and_line_breaks(text):
    assert problems(name=text)["name"]
    assert problems(contact_name=text)["contact_name"]


def test_free_text_keeps_line_breaks_tabs_and_joiners():
    loaded = Card().load({"address": "稠城街道\r\n工人北路\t88号 👨\u200d🍳"})
    assert loaded["address"].endswith("\u200d🍳")


def test_the_message_says_which_character_and_where():
    message = str(text_problem("张三\u200b", name=True))
    assert "U+200B ZERO WIDTH SPACE" in message and "position 3" in message
