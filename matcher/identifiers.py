"""Check characters of Chinese identifiers (the citizen ID number through python-stdnum), and the safe forms in which
an ID number is kept."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
import unicodedata
from enum import StrEnum

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent, ValidationError

from matcher import clock

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PUBLIC_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud on the phone
# Nobody holding a second-generation ID number (issued since 2004) was born before this: an earlier year is a
# mistyped one (1890 for 1990), as a year still to come is.
EARLIEST_BIRTH = dt.date(1900, 1, 1)


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    """GB 32100-2015 unified social credit code: 18 characters, the last a mod-31 check character."""
    code = code.strip().upper()
    if len(code) != 18 or any(c not in CREDIT_CODE_CHARSET for c in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]


def normalise_id_number(text: str) -> str:
    """The one form of an ID number, however it was typed or pasted: Unicode NFKC (full-width ３３０７ becomes
    3307), no whitespace or invisible format characters (zero-width spaces, BOM, bidi controls), an upper-case X,
    and every other script's decimal digits (Arabic-Indic ٣٣٠٧ ...) as ASCII. Validate, hash and mask only this
    form: two spellings of one number must never open two files."""
    if text.isascii() and text.isalnum():  # already in its one form but for the case: the common, fast path
        return text.upper()
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf").upper()
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text)


class IdNumberProblem(StrEnum):
    """Why an ID number is refused, so that the person typing it is told what to look at."""

    LENGTH = "length"
    FORMAT = "format"
    CHECK_CHARACTER = "check_character"
    BIRTH_DATE = "birth_date"
    UNLIKELY_BIRTH_DATE = "unlikely_birth_date"  # a real date, but in the future or before 1900
    REGION = "region"


def id_number_check_char(first17: str) -> str:
    """The GB 11643 mod-11 check character of the first 17 digits (python-stdnum's, which wants a placeholder for
    the check character it computes)."""
    if len(first17) != 17 or any(c not in "0123456789" for c in first17):
        raise ValueError(f"an ID number's check character is computed from 17 digits, not {first17!r}")
    return ric.calc_check_digit(first17 + "X")


def id_number_birth_date(number: str) -> dt.date | None:
    number = normalise_id_number(number)
    if len(number) == 18 and number[:17].isdigit() and number.isascii():
        # stdnum's reading without its clean-up, which leaves such a number as it is
        try:
            return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            return None
    try:
        return ric.get_birth_date(number)
    except (ValidationError, ValueError):
        return None


@functools.lru_cache(maxsize=4096)
def _is_known_region(code: str) -> bool:
    # A county in python-stdnum's table of administrative division codes, at any time. stdnum's own ric.validate
    # also wants the county to have existed in the birth year, but a number keeps the code of where it was first
    # issued, often years after birth (Yiwu, 330782, is a city only since 1988, and many born before then carry its
    # code), so that check would refuse real people.
    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


def id_number_problem(number: str) -> IdNumberProblem | None:
    """What is wrong with a GB 11643-1999 citizen ID number, or None if nothing is: 18 characters, 17 ASCII digits
    and the mod-11 check character, a real birth date from 1900 to today (China's) and a known region code. Read
    from its one form."""
    number = normalise_id_number(number)
    # Length and characters are checked here on the very form that is hashed: stdnum's compact() would first drop
    # dashes, so "110105-19491231002X" would pass and be kept as another person. ASCII digits only (str.isdigit()
    # also passes superscripts and other scripts' digits).
    if len(number) != 18:
        return IdNumberProblem.LENGTH
    if any(c not in "0123456789" for c in number[:17]) or number[17] not in "0123456789X":
        return IdNumberProblem.FORMAT
    # stdnum's ric.validate, step by step, with its one slow step (the region table) looked up once per region
    # and birth year: an import checks tens of thousands of numbers from a few regions.
    if number[17] != ric.calc_check_digit(number):
        return IdNumberProblem.CHECK_CHARACTER
    born = id_number_birth_date(number)
    if born is None:
        return IdNumberProblem.BIRTH_DATE
    if not _county_in_year(number[:6], born.year) and not _is_known_region(number[:6]):
        return IdNumberProblem.REGION
    if not EARLIEST_BIRTH <= born <= clock.today():
        return IdNumberProblem.UNLIKELY_BIRTH_DATE
    return None


@functools.lru_cache(maxsize=4096)
def _county_in_year(region: str, year: int) -> bool:
    """stdnum's own region check (a county that existed in the birth year), which reads only these two."""
    try:
        ric.get_birth_place(f"{region}{year:04d}0101000X")
    # stdnum 2.2 raises KeyError, not InvalidComponent, for an unknown county in a known province (330799).
    except (InvalidComponent, KeyError):
        return False
    return True


def is_valid_id_number(number: str) -> bool:
    """GB 11643-1999 citizen ID number: see id_number_problem."""
    return id_number_problem(number) is None


def id_number_sex(number: str) -> str:
    return "male" if int(normalise_id_number(number)[16]) % 2 else "female"


def mask_id_number(number: str) -> str:
    """What anyone ever sees of an ID number: the first four and last two characters, 3307************12."""
    number = normalise_id_number(number)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]


def hash_id_number(number: str, pepper: str) -> str:
    """A keyed hash, so the same person is recognised without the number being stored."""
    return hmac.new(pepper.encode(), normalise_id_number(number).encode(), hashlib.sha256).hexdigest()


def new_public_id() -> str:
    """A pseudonymous id such as XT-7K3F9Q2M (31**8 ≈ 8.5e11 values)."""
    return "XT-" + "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(8))
