"""Messages that come from libraries (marshmallow, webargs), marked here so they enter the catalogue.

The error handler translates every message by looking it up in the catalogue; these are the ones
no Xintu module writes itself.
"""


def N_(message: str) -> str:  # noqa: N802 - the conventional name for "mark, don't translate"
    return message


LIBRARY_MESSAGES = [
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Invalid type."),
    N_("Invalid input type."),
    N_("Invalid value."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid string."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Not a valid email address."),
    N_("Number too large."),
    N_("String does not match expected pattern."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Invalid JSON body."),
]
