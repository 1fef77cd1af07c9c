"""README's and docs/' tables are generated from results/, never typed: each block must equal its generator's output;
README reads findings first."""

import json
import re
import shutil

import pandas as pd
import pytest

from vt import report
from vt.paths import ROOT


def test_the_speed_table_sets_each_vt_model_against_its_resnet_from_a_bench_csv(tmp_path):
    (tmp_path / "bench").mkdir()
    rows = [{"model": m, "mode": "train", "resolution": 224, "batch_size": 64, "images_per_s": speed, "mflops": flops,
             "params_m": 1.0, "precision": "bf16", "channels_last": True, "compiled": False, "device": "cuda",
             "device_name": "GPU X"} for m, speed, flops in [("resnet18", 1000.0, 1800.0), ("vt_resnet18", 900.0, 1500.0)]]
    pd.DataFrame(rows).to_csv(tmp_path / "bench" / "x-224.csv", index=False)
    table = report.speed_markdown(tmp_path)
    assert "| GPU X | bf16, eager, batch 64 | vt_resnet18 | 224 | train | 1,000 → 900 | 0.90 | 1.20 | 0.75 |" in table


def test_update_docs_fills_empty_blocks_in_their_documents_and_keeps_the_rest(tmp_path):
    (tmp_path / "docs").mkdir()
    for document in set(report.DOCUMENTS.values()):
        names = [n for n, d in report.DOCUMENTS.items() if d == document]
        (tmp_path / document).write_text("intro\n" + "".join(f"<!-- {n}:start -->\nold\n<!-- {n}:end -->\nmiddle\n"
                                                             for n in names) + "end\n")
    report.update_docs(tmp_path, ROOT / "results")
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("intro\n<!-- summary:start -->\n**") and text.endswith("<!-- results-table:end -->\nmiddle\nend\n")
    assert "| claim |" in text and "\nold\n" not in text
    assert (tmp_path / "results" / "overview.png").stat().st_size > 0  # drawn beside the documents, not in results/
    before = {d: (tmp_path / d).read_text() for d in set(report.DOCUMENTS.values())}
    report.update_docs(tmp_path, ROOT / "results")
    assert {d: (tmp_path / d).read_text() for d in before} == before  # a second run changes nothing
    (tmp_path / "docs" / "speed.md").write_text("no markers\n")
    (tmp_path / "README.md").write_text(before["README.md"].replace("| claim |", "| stale |"))
    with pytest.raises(ValueError, match="speed.md lacks the speed-table markers"):
        report.update_docs(tmp_path, ROOT / "results")
    assert "| stale |" in (tmp_path / "README.md").read_text()  # checked before anything was written


def test_every_generated_block_is_in_its_document_and_equal_to_its_generator():
    generated = report.blocks(ROOT / "results")
    for name, document in report.DOCUMENTS.items():
        text = (ROOT / document).read_text()
        block = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
        assert block, f"{document} lacks the {name} markers"
        assert block.group(1) == generated[name], f"{document}: {name} is stale: python -m vt.report --update-docs"


def test_each_executed_notebook_prints_the_findings_the_report_gives():
    """The findings cell of every executed notebook under results/ says what the report says for its profile."""
    import nbformat

    from vt.findings import CHECKS

    compared = 0
    for profile in report.profiles(ROOT / "results"):
        for notebook, checks in CHECKS.items():
            path, table = ROOT / "results" / profile / f"{notebook}.ipynb", report._table(ROOT / "results" / profile, notebook)
            if not path.exists() or table is None:
                continue
            cell = next(c for c in nbformat.read(path, as_version=4).cells if "CHECKS[" in c.source)
            printed = [o["data"]["text/markdown"] for o in cell.get("outputs", []) if "text/markdown" in o.get("data", {})]
            assert printed == ["\n\n".join(check(table).markdown() for check in checks)], f"{profile}/{notebook}"
            compared += 1
    assert compared >= 5  # the smoke run's notebooks at least


def test_report_md_and_verdicts_csv_match_the_report():
    assert (ROOT / "results" / "report.md").read_text().strip() == report.markdown(ROOT / "results").strip()
    saved = pd.read_csv(ROOT / "results" / "verdicts.csv")
    assert {"seeds", "difference", "ci_low", "ci_high"} <= set(saved.columns)
    expected = report.verdicts(ROOT / "results")
    assert list(saved.key) == list(expected.key) and list(saved.verdict) == list(expected.verdict)


def test_each_trained_claim_says_the_epochs_its_evidence_trained():
    table = report.headline(report.verdicts(ROOT / "results"))
    lines = report.markdown(ROOT / "results").splitlines()
    trained = table[(table.profile != "") & ~table.key.isin(report.COUNTED)]
    assert len(trained)
    for row in trained.itertuples():
        recorded = pd.read_json(ROOT / "results" / row.profile / row.notebook / "parameters.json", typ="series")
        values = recorded["parameters"]
        epochs = values.get("epochs", values.get("seg_epochs"))
        dataset = report.DATASET_NAMES.get(row.dataset, row.dataset) or "—"
        line = next(line for line in lines if line.startswith(f"| {row.claim} | {row.source} | {dataset} |"))
        assert f", {epochs} epoch{'s' * (epochs != 1)} (`{row.notebook}`)" in line, line


def test_no_result_names_the_folders_of_the_machine_that_made_it():
    """Results record paths relative to the project (``vt.paths.shown``): checkpoints/..., ../shared/..."""
    machine = (str(ROOT), str(ROOT.parent) + "/")
    named = [str(p.relative_to(ROOT)) for p in (ROOT / "results").rglob("*")
             if p.is_file() and p.suffix in {".json", ".ipynb", ".csv", ".md"} and not p.name.startswith(".")
             and any(folder in p.read_text(errors="ignore") for folder in machine)]
    assert not named, named


def test_the_speed_claim_states_each_vt_models_efficiency_on_the_cpu_bench(tmp_path):
    """Real runs' speed claim carries the bench's efficiency (speed ratio over FLOPs ratio, round by round); the
    smoke run's does not."""
    runs = pd.DataFrame([{"label": m, "model": m, "eval_acc": 0.9, "seeds": 3, "eval_size": 10000, "epochs": 40,
                          "gap": 0.0, "images_per_s": 100.0, "images_per_s_seeds": "90 100 110", "mflops": f}
                         for m, f in [("resnet20", 40.0), ("vt_resnet20", 32.0)]])
    for profile, data in [("cifar10-cpu", "cifar10"), ("smoke", "synthetic")]:
        (tmp_path / profile / "01_baseline").mkdir(parents=True)
        runs.assign(dataset=data).to_csv(tmp_path / profile / "01_baseline" / "summary.csv", index=False)
    (tmp_path / "bench").mkdir()
    bench = {"mode": "train", "resolution": 32, "batch_size": 128, "device": "cpu", "compiled": True, "cpus": 2,
             "precision": "bf16"}
    # FLOPs ratio 1.25; VT's rounds run 1.0x, 1.1x and 1.2x ResNet-20's speed: efficiency 0.88 [0.80, 0.96].
    pd.DataFrame([{**bench, "model": "resnet20", "mflops": 40.0, "images_per_s": 100.0,
                   "images_per_s_rounds": "100 100 100"},
                  {**bench, "model": "vt_resnet20", "mflops": 32.0, "images_per_s": 110.0,
                   "images_per_s_rounds": "100 110 120"}]).to_csv(tmp_path / "bench" / "cpu-compiled-x.csv",
                                                                  index=False)
    table = report.verdicts(tmp_path)
    rows = table[table.key == "vt_slower"].set_index("profile")
    assert "vt_resnet20 0.88 [0.80, 0.96] at 32 px" in rows.evidence["cifar10-cpu"]
    assert "Against their FLOPs" not in rows.evidence["smoke"]


def test_readme_opens_with_the_findings_and_the_two_commands_and_stays_short():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    opening = "\n".join(lines[:40])
    assert "<!-- summary:start -->" in opening and "**Not reproduced**" in opening
    assert "./run_all.sh" in opening and "./run_tests.sh" in opening
    for link in re.findall(r"\]\((docs/[^)#]+)", "\n".join(lines)):
        assert (ROOT / link).exists(), link


def test_the_summary_lists_the_campaigns_studies_not_landed_yet_in_order(tmp_path):
    """The campaign's own tests: a study has landed when vt.notebooks.landed says so; a paired retrain when every
    landed run of its study has its per-example predictions."""
    from vt.report.readers import planned

    script = tmp_path / "campaign.sh"
    script.write_text('studies=(\n    "cifar10-cpu 01_baseline"      # landed\n'
                      '    "tiny-imagenet-cpu-r18 01_baseline"    # ResNet-18 vs VT-ResNet-18: about 8 h\n'
                      '    # a comment line\n    "cifar10-cpu 01_baseline paired"\n)\n')
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results" / "cifar10-cpu" / "01_baseline", results / "cifar10-cpu" / "01_baseline")
    runs = sorted((results / "cifar10-cpu" / "01_baseline" / "runs").iterdir())
    for run in runs:
        (run / "predictions.npy").touch()
    assert planned(results, script) == [("tiny-imagenet-cpu-r18", "01_baseline", "ResNet-18 vs VT-ResNet-18: about 8 h")]
    landed_run = results / "tiny-imagenet-cpu-r18" / "01_baseline" / "runs" / "resnet18-seed0"
    landed_run.mkdir(parents=True)
    (landed_run / "history.csv").write_text("epoch,wall_time_s\n1,10.0\n")  # one run landed, the study not yet
    assert planned(results, script)[0][2] == "ResNet-18 vs VT-ResNet-18: about 8 h (1 run landed so far)"
    shutil.rmtree(results / "tiny-imagenet-cpu-r18")
    (runs[0] / "predictions.npy").unlink()  # a run kept without its predictions: the paired retrain waits
    assert planned(results, script)[1:] == [("cifar10-cpu", "01_baseline", "")]
    shutil.rmtree(results / "cifar10-cpu" / "01_baseline" / "runs")  # no run at all: nothing paired yet
    assert planned(results, script)[1:] == [("cifar10-cpu", "01_baseline", "")]
    (results / "cifar10-cpu" / "01_baseline" / "summary.csv").unlink()  # the study itself not landed
    assert [p for p, _, _ in planned(results, script)] == ["cifar10-cpu", "tiny-imagenet-cpu-r18", "cifar10-cpu"]


def _verdict_row(key: str, dataset: str, verdict: str, seeds: int, **extra) -> dict:
    return {"key": key, "dataset": dataset, "verdict": verdict, "seeds": seeds, "profile": f"{dataset}-cpu",
            "claim": f"claim {key}", "source": "paper", "difference": -1.0, "ci_low": -2.0, "ci_high": 0.5,
            "unit": "pt", "evidence": "numbers.", "because": "because ...", "notebook": "01_baseline", **extra}


def test_in_short_counts_verdicts_and_claims_tested_on_two_data_sets_and_leaves_out_the_baseline_check():
    """Two claims, one on two data sets (3 verdicts: 1 reproduced, 2 not settled), the baseline check apart."""
    from vt.report.readers import BASELINE_CHECKS, in_short

    table = pd.DataFrame([_verdict_row("a", "cifar10", "reproduced", 3), _verdict_row("a", "tiny-imagenet",
                                                                                      "inconclusive", 3),
                          _verdict_row("b", "cifar10", "inconclusive", 3),
                          _verdict_row(BASELINE_CHECKS[0], "cifar10", "not reproduced", 3)])
    line = in_short(table)
    assert line.startswith("**In short**: of 3 verdicts on the claims, from real data or from counts (2 claims; 1 of "
                           "them tested on two data sets, with a verdict for each), 1 reproduced, 0 did not, and 2 are "
                           "not settled.")
    one = in_short(table[table.key == "b"])
    assert "(1 claim)" in one and "two data sets" not in one


def test_comparisons_with_too_few_seeds_are_listed_with_their_interval_and_the_chosen_rows_are_not(tmp_path):
    from vt.report.readers import _too_few_seeds

    every = pd.DataFrame([_verdict_row("a", "cifar10", "inconclusive", 2, ci_low=-1.11, ci_high=0.54,
                                       difference=-0.285),
                          _verdict_row("a", "cifar10", "not reproduced", 3),
                          _verdict_row("b", "cifar10", "inconclusive", 1, ci_low=float("nan"), ci_high=float("nan"))])
    lines = _too_few_seeds(every, every.iloc[[1]], tmp_path)
    assert len(lines) == 2
    assert "2 seeds an arm: -0.3 pt, 95% interval [-1.1, +0.5]. numbers." in lines[0]
    assert "1 seed an arm: -1.0 pt, no interval." in lines[1]


def test_training_time_counts_each_study_its_own_runs_and_names_the_copied_ones(tmp_path):
    """A run copied from another study (``landed_from``) is counted there, not twice."""
    from vt.report.readers import training_seconds

    for name, wall, config in [("a-seed0", 100.0, {}), ("a-seed1", 50.0, {}),
                               ("b-seed0", 1000.0, {"landed_from": "other/01_baseline/runs/b-seed0"})]:
        run = tmp_path / "runs" / name
        run.mkdir(parents=True)
        (run / "history.csv").write_text(f"epoch,wall_time_s\n1,{wall / 2}\n2,{wall}\n")
        (run / "config.json").write_text(json.dumps(config))
    assert training_seconds(tmp_path) == (3, 1, 150.0)
