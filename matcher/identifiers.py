"""Check characters of Chinese identifiers, and the safe forms in which an ID number is kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER_CHECK = "10X98765432"
PUBLIC_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud on the phone


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
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf").upper()
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text)


def id_number_check_char(first17: str) -> str:
    return ID_NUMBER_CHECK[sum(int(c) * w for c, w in zip(first17, ID_NUMBER_WEIGHTS, strict=True)) % 11]


def id_number_birth_date(number: str) -> dt.date | None:
    number = normalise_id_number(number)
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def is_valid_id_number(number: str) -> bool:
    """GB 11643-1999 citizen ID number: 17 digits, a real birth date, and the mod-11 check character."""
    number = normalise_id_number(number)
    # ASCII digits only: str.isdigit() also passes superscripts and other scripts' digits, which int() refuses.
    if len(number) != 18 or any(c not in "0123456789" for c in number[:17]) or number[17] not in "0123456789X":
        return False
    if id_number_birth_date(number) is None:
        return False
    return id_number_check_char(number[:17]) == number[17]


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
