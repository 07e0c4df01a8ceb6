"""argparse types for the numbers of the command line.

``float`` accepts ``nan``, ``inf`` and any sign: ``record --duration nan`` ended in "cannot convert
float NaN to integer", ``--duration inf`` and ``check --seconds inf`` in an internal OverflowError,
``record --duration -5`` recorded nothing and said it had stopped at the duration. These types
refuse such a value where the option is read, in one line naming it (exit 2), as the commands'
own checks of wrong values do (:func:`is_value_error` tells the parser).
"""

from __future__ import annotations

import argparse
import math

#: How the messages of these types begin, after argparse's "argument --name: ".
_MESSAGES = ("must be a ", "not a number: ")


def is_value_error(message: str) -> bool:
    """Whether an argparse error ``message`` is one of these types refusing a value.

    Examples
    --------
    >>> is_value_error("argument --duration: must be a positive number, not 'nan'")
    True
    >>> is_value_error("the following arguments are required: --port")
    False
    """
    return message.startswith("argument ") and message.split(": ", 1)[-1].startswith(_MESSAGES)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def positive(text: str) -> float:
    """A finite number above 0.

    Examples
    --------
    >>> positive("2.5")
    2.5
    >>> positive("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a positive number, not 'nan'
    """
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def non_negative(text: str) -> float:
    """A finite number of at least 0.

    Examples
    --------
    >>> non_negative("0")
    0.0
    """
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number of at least 0, not {text!r}")
    return value


def finite(text: str) -> float:
    """Any finite number.

    Examples
    --------
    >>> finite("-512")
    -512.0
    """
    value = _number(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def channel_list(text: str) -> str:
    """A ``--channels`` list: at least one channel (numbers or names, comma-separated); an empty
    one had meant every channel, the opposite of what it says.

    Examples
    --------
    >>> channel_list("1,calf_left")
    '1,calf_left'
    >>> channel_list(" ")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a list of channels (numbers or names), not ' '
    """
    if not text.strip() or not any(part.strip() for part in text.split(",")):
        raise argparse.ArgumentTypeError(
            f"must be a list of channels (numbers or names), not {text!r}")
    return text
