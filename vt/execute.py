"""Run one notebook headless through papermill, its kernel reached over local IPC sockets rather than TCP.

jupyter_client starts kernels on TCP ports by default, and ipykernel warns on every start that TCP without
CurveZMQ keys is readable by anyone on the machine. Both ends run here, so the kernel manager's own setting
``KernelManager.transport = "ipc"`` is the fix: the warning goes because its cause does, and every other message
of the kernel still reaches the terminal. The sockets are put in Jupyter's private runtime directory under a name
of this process's own; left alone, jupyter_client would make them in the kernel's working directory, where a killed
kernel leaves them behind.
The kernel is this checkout's own (``vt.kernel.bind``): its code, its interpreter, whatever other checkouts exist.
papermill's command line can do neither, so the scripts call this module instead::

    python -m vt.execute notebooks/01_baseline.ipynb results/smoke/01_baseline.ipynb -f params.yaml --cwd notebooks
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import nbformat
import papermill
import yaml
from jupyter_core.paths import jupyter_runtime_dir
from traitlets.config import Config

from vt import kernel as vt_kernel
from vt.errors import ConfigError

# The exceptions a notebook raises for bad input (vt.errors): a failed notebook that raised one was given bad input.
USER_ERRORS = {"ConfigError", "DataError", "DataNotFoundError", "CheckpointMismatchError", "CheckpointCorruptError",
               "WeightsError"}
KERNEL = vt_kernel.NAME  # bound to this checkout by ``execute`` (``vt.kernel.bind``)


def kernel_config() -> Config:
    """The kernel-manager settings every notebook run uses: local IPC transport, its sockets named
    ``<runtime dir>/vt-<pid>-kernel-ipc-<n>`` (two runs at once never pick the same name)."""
    runtime = Path(jupyter_runtime_dir())
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    return Config({"KernelManager": {"transport": "ipc", "ip": str(runtime / f"vt-{os.getpid()}-kernel-ipc")}})


# A tqdm bar's line: its bar (``45%|####  |``) or its elapsed time and rate (``[00:12<00:30, 3.1it/s]``).
PROGRESS_BAR = re.compile(r"\d+%\||\[\d+:\d\d(:\d\d)?(<|, )")


def tidy(nb: nbformat.NotebookNode, dropped: Iterable[str] = ()) -> nbformat.NotebookNode:
    """What a saved notebook keeps: each cell's consecutive outputs to one stream joined into one, of every line
    only what a terminal shows once its carriage returns have overwritten it, and no progress bar at all (they are
    live while a cell runs; saved, they are noise); and papermill's injected-parameters cell without the names in
    ``dropped``. ``nb`` is changed in place."""
    dropped = set(dropped)
    for cell in nb.cells:
        if dropped and "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = "\n".join(line for line in cell.source.split("\n")
                                    if not (m := re.match(r"(\w+) = ", line)) or m.group(1) not in dropped)
        merged: list = []
        for output in cell.get("outputs", []):
            if (output.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                    and merged[-1].name == output.name):
                merged[-1].text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.get("output_type") == "stream":
                lines = (_shown(line) for line in output.text.split("\n"))
                output.text = "\n".join(line for line in lines if not PROGRESS_BAR.search(line))
        if "outputs" in cell:
            cell.outputs = [o for o in merged if o.get("output_type") != "stream" or o.text.strip()]
    return nb


def _shown(line: str) -> str:
    """What remains of ``line`` after its carriage returns: its last non-empty segment."""
    segments = [s for s in line.split("\r") if s]
    return segments[-1] if segments else ""


def not_taken(notebook: Path) -> set[str]:
    """The parameters other notebooks of the collection take and ``notebook`` does not (a profile serves several
    notebooks); empty for a notebook without a ``parameters`` cell. A name no notebook takes is not among them: it
    stays, for the notebook to refuse."""
    from vt.notebooks.declaration import declared, vocabulary

    try:
        return vocabulary() - set(declared(Path(notebook)))
    except ConfigError:
        return set()


def execute(notebook: Path, output: Path, parameters: dict, cwd: Path | None = None,
            progress_bar: bool = True, kernel: str = KERNEL) -> None:
    """Execute ``notebook`` with the ``parameters`` it takes injected, writing the executed copy to ``output``
    tidied (``tidy``): progress bars live while it runs, none once saved. Where ``output`` exists already (the last
    finished run's), the run is written beside it (``written_to``) and moved in place only when it succeeds: a
    failed run never replaces it.

    Kernel ``vt`` is first bound to this checkout (``vt.kernel.bind``), so that the notebook runs this checkout's code.

    Raises papermill's ``PapermillExecutionError`` when a cell fails (the executed copy keeps the traceback).
    """
    if kernel == KERNEL:
        vt_kernel.bind()
    output, dropped = Path(output), not_taken(notebook)
    written = written_to(output)
    try:
        papermill.execute_notebook(
            str(notebook), str(written), parameters={k: v for k, v in parameters.items() if k not in dropped},
            kernel_name=kernel, cwd=None if cwd is None else str(cwd), progress_bar=progress_bar, log_output=False,
            config=kernel_config(),
        )
    finally:
        if written.exists():
            nbformat.write(tidy(nbformat.read(written, as_version=4), dropped), written)
    try:
        stamp_runtime(written, output.parent / output.stem)
    except (OSError, ValueError, KeyError) as error:  # a line for readers: never worth failing a finished run over
        print(f"warning: no runtime line in {output}: {error}", file=sys.stderr)
    written.replace(output)


def stamp_runtime(executed: Path, folder: Path) -> None:
    """Put the runtime line (``vt.report.readers.runtime_line``) atop the executed notebook, under its title, as a
    markdown cell tagged ``runtime``, replacing any it had."""
    import torch

    from vt.report.readers import RUNTIME_TAG, runtime_line
    from vt.train import environment

    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if RUNTIME_TAG not in c.metadata.get("tags", [])]
    cell = nbformat.v4.new_markdown_cell(runtime_line(executed, folder, environment(torch.device("cpu"))))
    cell.metadata["tags"] = [RUNTIME_TAG]
    first = nb.cells[0] if nb.cells else None
    after_title = first is not None and first.cell_type == "markdown" and first.source.startswith("#")
    nb.cells.insert(1 if after_title else 0, cell)
    nbformat.write(nb, executed)


def written_to(output: Path) -> Path:
    """Where a run for ``output`` is written while it runs, and where a failed one stays: ``output`` itself, or
    beside it (``.partial-<name>``) where ``output`` exists already."""
    return output.with_name(f".partial-{output.name}") if output.exists() else output


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: exit status 2 for bad input, the notebook's own (``ConfigError``, ``DataError`` and
    their kinds) included; 1 for a notebook that failed otherwise."""
    parser = argparse.ArgumentParser(prog="python -m vt.execute", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("-f", "--parameters-file", type=Path, help="YAML file of parameters to inject")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="one parameter, VALUE read as YAML; after -f, so it wins")
    parser.add_argument("--cwd", type=Path, help="the kernel's working directory")
    parser.add_argument("--kernel", default=KERNEL, help="kernel name (default: %(default)s)")
    parser.add_argument("--no-progress-bar", action="store_true")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        parser.error(f"no notebook {args.notebook}")
    parameters = {}
    if args.parameters_file is not None:
        parameters = yaml.safe_load(args.parameters_file.read_text()) or {}
        if not isinstance(parameters, dict):
            parser.error(f"{args.parameters_file}: expected a mapping of parameter names to values")
    parameters.update({name: yaml.safe_load(value) for name, value in args.parameter})
    failed_copy = written_to(args.output)
    try:
        execute(args.notebook, args.output, parameters, args.cwd, not args.no_progress_bar, args.kernel)
    except papermill.PapermillExecutionError as error:
        print(f"error: {args.notebook} failed in cell {error.exec_count}: {error.ename}: {error.evalue}"
              f" (the executed copy with its traceback: {failed_copy})", file=sys.stderr)
        return 2 if error.ename in USER_ERRORS else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
