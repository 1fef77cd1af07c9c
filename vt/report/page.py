"""A browsable copy of every executed notebook, for readers who run nothing: ``python -m vt.report --html DIR``.
It builds on ``vt.report`` (the claims table, the profiles in order), which never imports it.

``DIR/index.html`` shows the one-figure summary (``vt.report.overview``) and the claims table first (the same text as README's, from ``vt.report.markdown``), then one
section per profile: a link to each executed notebook, rendered by nbconvert, and that notebook's figures inline.
The pages need no network: nbconvert's JupyterLab template without its script tags (require.js, MathJax and
mermaid come from a CDN; the notebooks draw no widgets and carry almost no TeX), and the figures are files beside
the pages.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import jinja2

from vt.findings import NOT_REPRODUCED, REPRODUCED, VERDICT_COLOURS
from vt.notebooks import results_root
from vt.report import REAL_DATA, markdown, profiles
from vt.report.overview import OVERVIEW
from vt.stats import MIN_SEEDS

# nbconvert's JupyterLab page without the scripts it loads from the network, and a way back to the index.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block body_header -%}
{{ super() }}
<p class="vt-back"><a href="../index.html">&larr; all results</a></p>
{%- endblock body_header -%}
"""

_STYLE = """body { font-family: system-ui, sans-serif; max-width: 80rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
figure { display: inline-block; margin: 0.5rem; }
figure img { max-width: 36rem; border: 1px solid #ddd; }
figcaption { font-size: 0.8rem; color: #555; }"""


_VERDICT_CELL = re.compile(r"<td>(" + "|".join(re.escape(v) for v in sorted(VERDICT_COLOURS, key=len, reverse=True))
                           + r")(?=[ <])")


def coloured_verdicts(page: str) -> str:
    """The claims table's verdict cells coloured by what they mean (``vt.findings.VERDICT_COLOURS``: held green,
    failed red, undecided amber, nothing tested grey)."""
    def cell(match: re.Match) -> str:
        colour = VERDICT_COLOURS[match.group(1)]
        text = "#fff" if colour in (VERDICT_COLOURS[REPRODUCED], VERDICT_COLOURS[NOT_REPRODUCED]) else "#000"
        return f'<td class="verdict" style="background: {colour}; color: {text}">{match.group(1)}'

    return _VERDICT_CELL.sub(cell, page)


def notebooks(profile_dir: Path) -> list[Path]:
    """The executed notebooks of one profile (``results/<profile>/NN_name.ipynb``), without unfinished runs."""
    return sorted(p for p in profile_dir.glob("*.ipynb") if not p.name.startswith("."))


def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file="vt_report.html.j2",
                        extra_loaders=[jinja2.DictLoader({"vt_report.html.j2": _TEMPLATE})])


def _profile_section(profile: str, profile_dir: Path, out: Path, exporter) -> list[str]:
    """Render one profile's notebooks into ``out/<profile>/`` and return its index section's HTML lines."""
    lines = [f'<section id="{html.escape(profile)}"><h2>{html.escape(REAL_DATA.get(profile, profile))} '
             f"<small>(profile <code>{html.escape(profile)}</code>)</small></h2>"]
    for notebook in notebooks(profile_dir):
        page = out / profile / f"{notebook.stem}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        body, _ = exporter.from_filename(str(notebook))
        page.write_text(body, encoding="utf-8")
        lines.append(f'<h3><a href="{profile}/{page.name}">{html.escape(notebook.stem)}</a></h3>')
        for figure in sorted((profile_dir / notebook.stem).glob("*.png")):
            target = out / profile / notebook.stem / figure.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(figure, target)
            source = f"{profile}/{notebook.stem}/{figure.name}"
            lines.append(f'<figure><img src="{html.escape(source)}" alt="{html.escape(figure.stem)}">'
                         f"<figcaption>{html.escape(figure.name)}</figcaption></figure>")
    lines.append("</section>")
    return lines


def write(out_dir: str | Path, results_dir: str | Path = "results") -> Path:
    """Render every profile's executed notebooks under ``out_dir`` and write ``out_dir/index.html``: the claims
    table (verdicts of the paper's Tables 2-10 and the earlier report's experiments), then per profile, in the
    order of ``vt.report.PREFERENCE``, one link per notebook and its figures. Returns the index's path."""
    from nbconvert.filters.markdown import markdown2html

    root = results_root(results_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    exporter = _exporter()
    found = [p for p in profiles(results_dir) if notebooks(root / p)]
    lines = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>Visual Transformers reproduction: results</title>", f"<style>{_STYLE}</style></head><body>",
             "<h1>Visual Transformers (Wu et al., 2020): results</h1>",
             "<p>Every number below is read from the result files of the run beside it. Profiles: "
             + ", ".join(f'<a href="#{html.escape(p)}">{html.escape(p)}</a>' for p in found) + ".</p>",
             ]
    summary = root / OVERVIEW
    if summary.exists():
        shutil.copyfile(summary, out / OVERVIEW)
        lines += ['<h2>Every study at a glance</h2>',
                  f'<figure><img src="{OVERVIEW}" alt="test accuracy against MFLOPs, every study" '
                  'style="max-width: 100%"><figcaption>Test accuracy against cost for every study on real data, '
                  f"with a 95% interval over seeds (hollow: fewer than {MIN_SEEDS} seeds, no interval)."
                  "</figcaption></figure>"]
    lines += ["<h2>Claims</h2>", coloured_verdicts(markdown2html(markdown(results_dir)))]
    for profile in found:
        lines += _profile_section(profile, root / profile, out, exporter)
    lines.append("</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(lines), encoding="utf-8")
    return index
