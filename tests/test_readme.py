"""README's results table is generated from results/, never typed."""

import re

from vt.flops import summary_markdown
from vt.paths import ROOT


def test_readme_flops_table_matches_results_csv():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- flops-table:start -->\n(.*?)\n<!-- flops-table:end -->", readme, re.S)
    assert block, "README lacks the flops-table markers"
    assert block.group(1) == summary_markdown(str(ROOT / "results" / "flops.csv"))
