"""Rating arithmetic, by hand: graduated tiers, half-up rounding of fractions of a cent, VAT on the subtotal."""

from __future__ import annotations

from billing.rating import Line, PeriodUsage, Prices, device_tier_lines, line_amount, rate, vat_of

TIERS = [{"from": 0, "millicents": 100_000}, {"from": 10, "millicents": 80_000}, {"from": 100, "millicents": 50_000}]


def test_graduated_tiers_split_the_devices() -> None:
    # 150 devices: 10 at 1.00, 90 at 0.80, 50 at 0.50 = 10.00 + 72.00 + 25.00
    lines = device_tier_lines(TIERS, 150)
    assert [(ln.description, ln.quantity, ln.amount_cents) for ln in lines] == [
        ("Active devices (tier 1-10)", 10, 1000), ("Active devices (tier 11-100)", 90, 7200),
        ("Active devices (tier 101+)", 50, 2500)]
    assert [ln.quantity for ln in device_tier_lines(TIERS, 7)] == [7]
    assert device_tier_lines(TIERS, 0) == []
    assert [ln.quantity for ln in device_tier_lines(list(reversed(TIERS)), 12)] == [10, 2]  # order-independent


def test_half_up_rounding_of_cents_and_vat() -> None:
    assert line_amount(3, 2500) == 8  # 7.5 cents
    assert line_amount(1, 2499) == 2  # 2.499 cents
    assert line_amount(-3, 2500) == -8  # a credit note rounds symmetrically
    assert vat_of(5208, 2000) == 1042  # 1041.6
    assert vat_of(1, 2000) == 0  # 0.2 cent
    assert vat_of(-5208, 2000) == -1042


def test_rate_lists_a_line_per_plan_and_overage_item() -> None:
    prices = Prices(monthly_fee_cents=990, device_tiers=TIERS[:1], overage_uplink_millicents=100,
                    overage_airtime_s_millicents=3000)
    usage = PeriodUsage(active_devices=2, excess_uplinks=1234, excess_airtime_us=61_000_001)
    assert rate("eco", prices, usage) == [
        Line("plan", "Plan eco: monthly fee", 1, 990_000, 990),
        Line("devices", "Active devices (tier 1+)", 2, 100_000, 200),
        Line("overage_uplinks", "Uplinks beyond the daily allowance", 1234, 100, 123),  # 123.4 cents
        Line("overage_airtime", "Airtime beyond the daily allowance (s)", 62, 3000, 186),  # 61.000001 s -> 62
    ]
    assert rate("free", Prices(), PeriodUsage(active_devices=5, excess_uplinks=9)) == []


def test_lines_are_written_in_the_invoice_language() -> None:
    prices = Prices(monthly_fee_cents=990, device_tiers=TIERS[:2])
    lines = rate("eco", prices, PeriodUsage(active_devices=12), "fr")
    assert [ln.description for ln in lines] == [
        "Forfait eco : abonnement mensuel", "Capteurs actifs (tranche 1-10)", "Capteurs actifs (tranche 11+)"]
    assert [ln.amount_cents for ln in lines] == [990, 1000, 160]


def test_graduated_overage_replaces_the_flat_price() -> None:
    # 2,500 excess uplinks: the first 1,000 at 0.01 EUR, the rest at 0.005 = 10.00 + 7.50; the flat price is ignored
    prices = Prices(overage_uplink_millicents=99_999, overage_uplink_tiers=[
        {"from": 1000, "millicents": 500}, {"from": 0, "millicents": 1000}],
        overage_airtime_tiers=[{"from": 60, "millicents": 3000}])  # the first minute of excess airtime is free
    lines = rate("x", prices, PeriodUsage(excess_uplinks=2500, excess_airtime_us=90_500_000))
    assert [(ln.description, ln.quantity, ln.amount_cents) for ln in lines] == [
        ("Uplinks beyond the daily allowance (tier 1-1000)", 1000, 1000),
        ("Uplinks beyond the daily allowance (tier 1001+)", 1500, 750),
        ("Airtime beyond the daily allowance (s)", 31, 93),  # 90.5 s -> 91 started seconds, 60 free
    ]
