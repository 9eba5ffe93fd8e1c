"""What the QBO client puts in a JSON body: money as exact JSON numbers, never NaN or Infinity."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connector.qbo.client import _dumps


def test_money_goes_as_a_json_number_to_the_cent() -> None:
    body = json.loads(_dumps({"Amount": Decimal("18240.05"), "Qty": Decimal("3")}))
    assert body == {"Amount": 18240.05, "Qty": 3}


@pytest.mark.parametrize("value", ["NaN", "-NaN", "Infinity", "-Infinity", "sNaN"])
def test_a_value_that_is_not_a_number_is_refused_before_anything_is_sent(value: str) -> None:
    # json.dumps would write NaN/Infinity, which is not JSON: QuickBooks must never receive it.
    with pytest.raises(ValueError, match="is not a number QuickBooks can take"):
        _dumps({"Amount": Decimal(value)})


def test_more_digits_than_a_json_number_carries_are_refused() -> None:
    with pytest.raises(ValueError, match="more precision"):
        _dumps({"Amount": Decimal("1234567890123.456")})
