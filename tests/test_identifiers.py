"""Check characters of citizen ID numbers (GB 11643) and unified social credit codes (GB 32100), and
the only forms in which an ID number is kept: masked and hashed."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import re

import pytest

from matcher.identifiers import (
    CREDIT_CODE_CHARSET,
    PUBLIC_ID_ALPHABET,
    IdNumberProblem,
    credit_code_check_char,
    hash_id_number,
    id_number_birth_date,
    id_number_check_char,
    id_number_problem,
    id_number_sex,
    is_valid_credit_code,
    is_valid_id_number,
    mask_id_number,
    new_public_id,
    normalise_id_number,
)

# ---- GB 11643 citizen ID numbers -------------------------------------------------------------------------

@pytest.mark.parametrize("number", ["11010519491231002X", "440524198001010013", "11010519491231002x",
                                    " 11010519491231002X "])
def test_known_valid_id_numbers(number):
    assert is_valid_id_number(number)


def test_the_check_character_of_the_standards_example_is_x():
    assert id_number_check_char("11010519491231002") == "X"
    assert id_number_check_char("44052418800101001") == "4"


@pytest.mark.parametrize("number", [
    "110105194912310021",  # wrong check character
    "11010519491231002Y",  # not a check character at all
    "11010519491231002",  # 17 characters
    "11010519491231002X0",  # 19 characters
    "1101051949123100AX",  # letters in the body
    "110105194902300025",  # 30 February
    "110105194913010027",  # month 13
    "",
])
def test_invalid_id_numbers(number):
    assert not is_valid_id_number(number)


def test_invalid_dates_are_refused_even_with_a_correct_check_character():
    first17 = "11010519490230002"
    assert not is_valid_id_number(first17 + id_number_check_char(first17))


# Region codes from several provinces, the demo city's among them (Yiwu, Jinhua's districts, Chongqing).
KNOWN_REGIONS = ("110105", "310115", "440305", "330782", "330702", "330784", "500151", "650102", "540102")


def test_every_single_digit_error_and_adjacent_swap_is_caught():
    rng = random.Random(11643)
    for _ in range(200):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))
        first17 = f"{rng.choice(KNOWN_REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = first17 + id_number_check_char(first17)
        assert is_valid_id_number(number)
        for position in range(17):
            for digit in "0123456789":
                if digit != number[position]:
                    changed = number[:position] + digit + number[position + 1:]
                    assert not is_valid_id_number(changed), (number, changed)
        for position in range(16):
            a, b = number[position], number[position + 1]
            if a != b:
                swapped = number[:position] + b + a + number[position + 2:]
                assert not is_valid_id_number(swapped), (number, swapped)


def _with_check(first17: str) -> str:
    return first17 + id_number_check_char(first17)


@pytest.mark.parametrize(("number", "problem"), [
    ("11010519491231002", IdNumberProblem.LENGTH),
    ("11010519491231002X0", IdNumberProblem.LENGTH),
    ("110105-19491231002X", IdNumberProblem.LENGTH),  # a dash is no separator: it would hash as another person
    ("1101051949123100AX", IdNumberProblem.FORMAT),
    ("11010-19491231002X", IdNumberProblem.FORMAT),
    ("11010519491231002Y", IdNumberProblem.FORMAT),
    ("110105194912310021", IdNumberProblem.CHECK_CHARACTER),
    (_with_check("11010519490230002"), IdNumberProblem.BIRTH_DATE),
    (_with_check("99010519491231002"), IdNumberProblem.REGION),  # no province 99
    (_with_check("33079919900101123"), IdNumberProblem.REGION),  # Zhejiang, but no county 0799 in Jinhua
    (_with_check("00000019900101123"), IdNumberProblem.REGION),
    ("11010519491231002X", None),
])
def test_the_problem_with_a_number_is_named(number, problem):
    assert id_number_problem(number) == problem
    assert is_valid_id_number(number) == (problem is None)


@pytest.mark.parametrize("first17", [
    "33078219700101123",  # Yiwu has been a city (330782) only since 1988; someone born in 1970 may carry its code
    "50015119800101123",  # Tongliang district (500151) since 2014: a number issued after a move there
    "44052419800101001",  # Chaoyang county (440524, 1983-1993): a number keeps the code it was issued with
    "33072519700101123",  # Yiwu county's code before 1988
])
def test_a_region_code_is_known_whenever_it_was_in_use(first17):
    # python-stdnum's own ric.is_valid wants the region to exist in the birth year and refuses these real numbers.
    assert is_valid_id_number(_with_check(first17))


def test_the_check_character_is_the_standards_mod_11():
    rng = random.Random(7064)
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    for _ in range(500):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        assert id_number_check_char(first17) == "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights,
                                                                                                 strict=True)) % 11]


@pytest.mark.parametrize("first17", ["1101051949123100", "110105194912310021", "1101051949123100A",
                                     "１１０１０５１９４９１２３１００２"])
def test_a_check_character_needs_exactly_17_ascii_digits(first17):
    with pytest.raises(ValueError, match="17 digits"):
        id_number_check_char(first17)


def test_every_problem_has_a_message_in_chinese_and_english(app):
    from flask_babel import force_locale

    from matcher.candidates.schemas import ID_NUMBER_PROBLEMS

    assert set(ID_NUMBER_PROBLEMS) == set(IdNumberProblem)
    with app.test_request_context():
        for message in ID_NUMBER_PROBLEMS.values():
            with force_locale("en"):
                assert str(message).startswith("Not a valid ID number: ")
            with force_locale("zh_CN"):
                assert str(message).startswith("身份证号无效：")


def test_birth_date_and_sex_are_read_from_the_number():
    assert id_number_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert id_number_birth_date("110105194902300025") is None
    assert id_number_sex("11010519491231002X") == "female"  # the 17th digit, 2, is even
    assert id_number_sex("440524188001010014") == "male"  # 1 is odd


# ---- GB 32100 unified social credit codes ----------------------------------------------------------------

@pytest.mark.parametrize("code", ["91350100M000100Y43", "91440300708461136T", "91350100m000100y43"])
def test_known_valid_credit_codes(code):
    assert is_valid_credit_code(code)


def test_the_check_character_of_the_standards_example():
    assert credit_code_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize("code", [
    "91350100M000100Y44",  # wrong check character
    "91350100M000100Y4",  # 17 characters
    "91350100M000100Y430",  # 19 characters
    "91350100M000I00Y43",  # I is not in the character set (nor O, S, V, Z)
    "91350100M000O00Y43",
    "91350100M000S00Y43",
    "91350100M000100Y4Z",
    "",
])
def test_invalid_credit_codes(code):
    assert not is_valid_credit_code(code)


def test_the_character_set_leaves_out_look_alike_letters():
    assert len(CREDIT_CODE_CHARSET) == 31
    assert not set("IOSVZ") & set(CREDIT_CODE_CHARSET)


def test_every_single_character_error_is_caught():
    rng = random.Random(32100)
    for _ in range(100):
        first17 = "".join(rng.choice(CREDIT_CODE_CHARSET) for _ in range(17))
        code = first17 + credit_code_check_char(first17)
        assert is_valid_credit_code(code)
        for position in range(17):
            for char in CREDIT_CODE_CHARSET:
                if char != code[position]:
                    assert not is_valid_credit_code(code[:position] + char + code[position + 1:])


def test_a_check_value_of_zero_is_the_character_0():
    # Find a body whose weighted sum is a multiple of 31: its check character must be "0", not "31".
    rng = random.Random(0)
    while True:
        first17 = "".join(rng.choice(CREDIT_CODE_CHARSET) for _ in range(17))
        if credit_code_check_char(first17) == "0":
            break
    assert is_valid_credit_code(first17 + "0")


# ---- masking and hashing ---------------------------------------------------------------------------------

def test_masking_keeps_the_region_and_last_two_characters():
    assert mask_id_number("11010519491231002X") == "1101************2X"
    assert mask_id_number(" 11010519491231002x ") == "1101************2X"
    masked = mask_id_number("440524188001010014")
    assert len(masked) == 18 and re.fullmatch(r"4405\*{12}14", masked)
    assert "18800101" not in masked


def test_hashing_is_keyed_stable_and_normalised():
    number = "11010519491231002X"
    digest = hash_id_number(number, "pepper-1")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hmac.new(b"pepper-1", number.encode(), hashlib.sha256).hexdigest()
    assert hash_id_number(" 11010519491231002x ", "pepper-1") == digest  # the same person, however typed
    assert hash_id_number(number, "pepper-2") != digest  # keyed: useless without the pepper
    assert digest != hashlib.sha256(number.encode()).hexdigest()  # not a plain (guessable) hash
    assert hash_id_number("440524188001010014", "pepper-1") != digest


# ---- one number, however it is written ------------------------------------------------------------------

NUMBER = "11010519491231002X"
FULL_WIDTH = "１１０１０５１９４９１２３１００２ｘ"
ARABIC_INDIC = "".join(chr(0x0660 + int(c)) for c in NUMBER[:17]) + "x"
EXTENDED_ARABIC_INDIC = "".join(chr(0x06F0 + int(c)) for c in NUMBER[:17]) + "X"
DEVANAGARI = "".join(chr(0x0966 + int(c)) for c in NUMBER[:17]) + "X"
SPREAD_OUT = "\u202a1101 0519\u200b4912\u200c3100\u200d2\u2060x\ufeff\u200e\u3000\u00a0\t\n\u202c"


@pytest.mark.parametrize("written", [
    NUMBER, NUMBER.lower(), f" {NUMBER} ", FULL_WIDTH, ARABIC_INDIC, EXTENDED_ARABIC_INDIC, DEVANAGARI, SPREAD_OUT,
    "１１０１０５ １９４９１２３１\u200b００２Ｘ"])
def test_every_way_of_writing_a_number_is_one_number(written):
    assert normalise_id_number(written) == NUMBER
    assert is_valid_id_number(written)
    assert hash_id_number(written, "pepper-1") == hash_id_number(NUMBER, "pepper-1")
    masked = mask_id_number(written)
    assert masked == "1101************2X" and masked.isascii()
    assert id_number_birth_date(written) == dt.date(1949, 12, 31) and id_number_sex(written) == "female"


def test_normalising_is_idempotent_and_keeps_what_is_wrong_wrong():
    assert normalise_id_number(normalise_id_number(SPREAD_OUT)) == NUMBER
    # Letters stay letters and a missing digit stays missing: such a number is still refused.
    assert normalise_id_number("1101O5194912310O2X") == "1101O5194912310O2X"
    assert not is_valid_id_number("1101O5194912310O2X")
    assert not is_valid_id_number(FULL_WIDTH[:-2] + "ｘ")
    # A numeral that is no decimal digit (Kharosthi one: isdigit() but not isdecimal()) is no digit here.
    assert not is_valid_id_number(NUMBER[:16] + "\U00010A40" + "X")


def test_public_ids_are_pseudonymous_and_easy_to_read_aloud():
    ids = {new_public_id() for _ in range(2000)}
    assert len(ids) == 2000
    for public_id in ids:
        assert re.fullmatch(rf"XT-[{PUBLIC_ID_ALPHABET}]{{8}}", public_id)
    assert not set("01OIL") & set(PUBLIC_ID_ALPHABET)
