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


def test_update_readme_fills_empty_blocks_and_keeps_the_rest(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- results-table:start -->\n<!-- results-table:end -->\nmiddle\n"
                      "<!-- flops-table:start -->\nold\n<!-- flops-table:end -->\nend\n")
    report.update_readme(readme, ROOT / "results")
    text = readme.read_text()
    assert text.startswith("intro\n<!-- results-table:start -->\n| claim |") and text.endswith("<!-- flops-table:end -->\nend\n")
    assert "\nold\n" not in text and "\nmiddle\n" in text
    report.update_readme(readme, ROOT / "results")
    assert readme.read_text() == text  # a second run changes nothing
