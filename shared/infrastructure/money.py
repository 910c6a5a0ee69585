"""Amounts are integer minor units with an ISO 4217 currency code."""

from __future__ import annotations

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
# Currencies whose minor unit is not a hundredth.
EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3}


def format_money(amount_minor: int, currency: str) -> str:
    """``format_money(350, "GBP")`` is ``"£3.50"``; unknown symbols fall back to the code."""
    exponent = EXPONENTS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**exponent)
    number = f"{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "")
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
