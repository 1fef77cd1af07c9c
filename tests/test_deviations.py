"""vt.deviations: one list of departures from the paper, costed on the models, kept equal to what 04_flops wrote."""

import re

import pandas as pd
import pytest

from vt import deviations
from vt.paths import ROOT


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return deviations.table()


def test_the_csv_04_flops_wrote_is_the_table_today(table):
    """The README's table (read from the CSV) says what the code computes now: a change to a model or a row shows."""
    written = deviations.read(ROOT / "results" / "smoke" / "04_flops" / "deviations.csv")
    pd.testing.assert_frame_equal(written, table.astype(str))


def test_every_row_says_what_why_cost_and_where(table):
    assert list(table.columns) == deviations.COLUMNS
    assert (table.map(lambda v: isinstance(v, str) and v.strip() != "")).all().all()
    sources = set(table.source)
    assert {deviations.OURS, deviations.REPORT} <= sources and len(sources) >= 5  # ours, the report's, three peers


def test_every_test_a_row_names_exists(table):
    named = [m for cell in table["shown by"] for m in re.findall(r"tests/(test_\w+\.py)::(test_\w+)", cell)]
    assert named
    for file, name in named:
        assert re.search(rf"^def {name}\(", (ROOT / "tests" / file).read_text(), re.M), f"{file}::{name} not found"


def test_costs_are_counted_on_the_models(table):
    """The projector row is the difference of the two counts of eq. 5; the head row the LayerNorm's 2 D parameters."""
    costs = deviations.Costs()
    saved = (costs.vt_r18.flops - costs.vt_r18_literal.flops) / 1e6
    assert saved < 0
    row = table.set_index("part")
    assert row.cost["projector order (eq. 5)"].startswith(f"{saved:+,.1f} MFLOPs")
    assert row.cost["classification head"].split("; ")[0].endswith(f"+{2 * 1024:,} params")


def test_small_and_large_amounts_read_naturally():
    assert deviations._cost(12.64, 0.79) == "+12.6 MFLOPs, +0.79 M params"
    assert deviations._cost(0.00512, 0.002048) == "+5,120 FLOPs, +2,048 params"
