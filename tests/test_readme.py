"""README's results tables are generated from results/, never typed: each block must equal its generator's output."""

import re

from vt import report
from vt.flops import summary_markdown
from vt.paths import ROOT

README = (ROOT / "README.md").read_text()


def _block(name: str) -> str:
    block = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", README, re.S)
    assert block, f"README lacks the {name} markers"
    return block.group(1)


def test_readme_flops_table_matches_results_csv():
    assert _block("flops-table") == summary_markdown(str(ROOT / "results" / "smoke" / "04_flops" / "flops.csv"))


def test_readme_results_table_matches_the_report():
    assert _block("results-table") == report.markdown(ROOT / "results")
