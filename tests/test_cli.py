"""Every command line turns bad input into one line on stderr and exit status 2, before anything trains."""

import importlib
import subprocess
import sys

import pytest

from vt.errors import ConfigError, DataError
from vt.execute import USER_ERRORS
from vt.paths import ROOT


def _run(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def a_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "a-file"
    path.write_text("not a folder")
    return path


SMALL = ["--epochs", "1", "--train-size", "64", "--eval-size", "32", "--batch-size", "32", "--no-progress"]


CASES = [
    (["vt.train", "--model", "vt_resnet20", "--resolution", "4", *SMALL], "resolution must be at least 16, got 4"),
    (["vt.train", "--model-kwargs", '{"tokenizer": "bogus"}', *SMALL], "unknown tokenizer 'bogus'"),
    (["vt.train", "--checkpoint-dir", "{a_file}", *SMALL], "is a file, not a folder"),
    (["vt.train", "--dataset", "cifar10", "--data-dir", "/nonexistent/x", *SMALL], "data_dir /nonexistent/x does not exist"),
    (["vt.report", "/nonexistent"], "no results folder /nonexistent"),
    (["vt.bench", "--models", "resnet20", "--resolution", "4", "--steps", "1", "--rounds", "1"], "resolution"),
    (["vt.bench", "--models", "resnet20", "--device", "gpu", "--steps", "1", "--rounds", "1"], "device must be"),
    (["vt.profile", "--models", "nope"], "unknown model 'nope'"),
    (["vt.weights", "publish", "{a_file}", "--tag", "x"], "no checkpoint.pt"),
]


def _one_line_and_status_2(returncode: int, stderr: str, stdout: str, message: str) -> None:
    assert returncode == 2, stderr[-2000:]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], stderr
    assert "epoch" not in stdout  # nothing trained


@pytest.mark.parametrize("args, message", CASES)
def test_bad_input_ends_in_one_line_and_exit_status_2_before_any_training(args, message, a_file, capsys):
    """Each tool's ``main``, as ``python -m`` calls it (the process boundary: the test below)."""
    tool, *argv = [a.replace("{a_file}", str(a_file)) for a in args]
    try:
        module = importlib.import_module(tool)
        main = getattr(module, "main", None) or importlib.import_module(f"{tool}.__main__").main  # a package's
        returncode = main(argv)
    except SystemExit as stop:  # argparse's own errors
        returncode = stop.code
    out = capsys.readouterr()
    _one_line_and_status_2(returncode, out.err, out.out, message)


@pytest.mark.parametrize("args, message", CASES[:1])
def test_python_dash_m_exits_with_the_status_main_returns(args, message):
    result = _run(*args)
    _one_line_and_status_2(result.returncode, result.stderr, result.stdout, message)


def test_every_tool_exits_with_the_status_its_main_returns():
    for tool in sorted({args[0] for args, _ in CASES} | {"vt.execute", "vt.side_by_side", "vt.notebooks"}):
        path = ROOT / (tool.replace(".", "/") + ".py")
        path = path if path.exists() else ROOT / tool.replace(".", "/") / "__main__.py"
        assert "sys.exit(main())" in path.read_text(), path


def test_the_user_errors_vt_execute_knows_are_every_kind_of_config_and_data_error():
    importlib.import_module("vt.weights")  # defines WeightsError

    def kinds(cls: type) -> set[str]:
        return {cls.__name__} | {name for sub in cls.__subclasses__() for name in kinds(sub)}

    assert USER_ERRORS == kinds(ConfigError) | kinds(DataError)
