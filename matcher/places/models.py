"""The place reference table (GB/T 2260 codes, approximate coordinates)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from matcher.extensions import db


def str_enum(enum_cls: type[enum.Enum], length: int = 24, name: str | None = None) -> Enum:
    """A portable enum column: a VARCHAR with a CHECK constraint holding the enum's values.

    `name` names the CHECK constraint; give one when a table has two columns of the same enum."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        name=name or enum_cls.__name__.lower(),
    )


class PlaceLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    TOWNSHIP = "township"


class Place(db.Model):
    __tablename__ = "places"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    level: Mapped[PlaceLevel] = mapped_column(str_enum(PlaceLevel))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("places.code"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    # "浙江省金华市义乌市稠城街道": what name resolution and addresses match against.
    full_name: Mapped[str] = mapped_column(String(120))


def code_prefix(code: str) -> str:
    """The prefix every place inside `code` shares: 330700 -> 3307, 330000 -> 33, 330782 -> 330782."""
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code
