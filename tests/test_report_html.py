"""The browsable report (``python -m vt.report --html DIR``): pages from the committed smoke results, and a real
headless browser that opens the index and finds its figures."""

import os
import re
import shutil
import subprocess

import pytest

from vt.paths import ROOT
from vt.report.__main__ import main
from vt.report.page import notebooks, write

SMOKE = ROOT / "results" / "smoke"
BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report of a results folder holding two of the committed smoke notebooks with their figures."""
    results = tmp_path_factory.mktemp("results")
    smoke = results / "smoke"
    smoke.mkdir()
    for name in ("01_baseline", "02_tokenizers"):
        shutil.copy(SMOKE / f"{name}.ipynb", smoke)
        shutil.copytree(SMOKE / name, smoke / name)
    (smoke / ".partial-01_baseline.ipynb").write_text("{}")  # an unfinished run: not a page
    shutil.copy(ROOT / "results" / "overview.png", results)
    return write(tmp_path_factory.mktemp("html"), results), results


def _figures(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page)


def test_the_index_starts_with_the_overview_and_the_claims_then_links_every_notebook_and_shows_its_figures(report):
    index, results = report
    page = index.read_text()
    assert page.index('<img src="overview.png"') < page.index("<h2>Claims</h2>") < page.index('id="smoke"')
    assert "ViTResNet is more accurate on test than every ResNet trained beside it" in page
    for notebook in notebooks(results / "smoke"):
        assert f'href="smoke/{notebook.stem}.html"' in page
        assert (index.parent / "smoke" / f"{notebook.stem}.html").exists()
    assert [n.stem for n in notebooks(results / "smoke")] == ["01_baseline", "02_tokenizers"]
    figures = _figures(page)
    assert figures[0] == "overview.png"
    assert sorted(figures[1:]) == sorted(f"smoke/{p.parent.name}/{p.name}" for p in (results / "smoke").glob("*/*.png"))
    assert all((index.parent / f).stat().st_size > 0 for f in figures)


def test_notebook_pages_load_nothing_from_the_network_and_lead_back_to_the_index(report):
    index, _ = report
    page = (index.parent / "smoke" / "02_tokenizers.html").read_text()
    assert not re.search(r"<script[^>]+src=", page)
    assert 'href="../index.html"' in page
    assert "data:image/png;base64," in page  # the training curves, inline
    assert "filter" in page and "pooling" in page


def test_the_command_line_writes_the_index(tmp_path, capsys, report):
    _, results = report
    main(["--html", str(tmp_path / "out"), str(results)])
    assert capsys.readouterr().out.strip() == str(tmp_path / "out" / "index.html")
    with pytest.raises(SystemExit):
        main(["--html", str(tmp_path), "--update-docs"])


# CI installs Chromium and sets VT_REQUIRE_BROWSER, so that there this test runs or fails, never skips.
@pytest.mark.skipif(BROWSER is None and not os.environ.get("VT_REQUIRE_BROWSER"),
                    reason="no Chromium installed (Debian: apt-get install chromium)")
def test_a_headless_browser_opens_the_index_and_every_figure_decodes(report):
    assert BROWSER, "no Chromium installed (Debian: apt-get install chromium)"
    index, _ = report
    # A copy of the index that counts, once loaded, the images the browser decoded.
    probe = index.with_name("probe.html")
    probe.write_text(index.read_text().replace("</body>", "<script>window.addEventListener('load', () => "
                     "document.body.setAttribute('data-decoded', [...document.images].filter(i => i.complete && "
                     "i.naturalWidth > 0).length));</script></body>"))
    dom = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                          "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    decoded = re.search(r'data-decoded="(\d+)"', dom)
    assert decoded, dom[-500:]
    assert int(decoded.group(1)) == len(_figures(index.read_text())) > 0


def test_every_verdict_of_the_claims_table_is_coloured_by_what_it_means(report):
    from vt.findings import NOT_REPRODUCED, REPRODUCED, VERDICT_COLOURS
    from vt.report.page import coloured_verdicts

    index, _ = report
    page = index.read_text()
    claims = page[page.index("<h2>Claims</h2>"):]
    rows = claims[:claims.index("</table>")].count("<tr>") - 1  # less the header
    assert claims.count('<td class="verdict"') == rows > 0
    cells = coloured_verdicts("<td>reproduced</td><td>not reproduced (differs on CIFAR-10)</td><td>reproducedly</td>")
    assert cells == (f'<td class="verdict" style="background: {VERDICT_COLOURS[REPRODUCED]}; color: #fff">reproduced'
                     f'</td><td class="verdict" style="background: {VERDICT_COLOURS[NOT_REPRODUCED]}; color: #fff">'
                     "not reproduced (differs on CIFAR-10)</td><td>reproducedly</td>")
