"""``python -m vt.report``: the README's results section on stdout, ``--update-docs`` or ``--html DIR``."""

from __future__ import annotations

import argparse
import sys

from vt.errors import ConfigError, entry_point
from vt.notebooks import results_root
from vt.report import markdown, update_docs
from vt.report.page import write


@entry_point
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vt.report",
                                     description="The collection's summary, built only from the files under results/.")
    parser.add_argument("results_dir", nargs="?", default="results", help="the results folder (default: results)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--update-docs", action="store_true",
                        help="write the generated blocks into README.md and the documents under docs/")
    action.add_argument("--html", metavar="DIR", help="write a browsable report: DIR/index.html and one page per "
                        "executed notebook")
    args = parser.parse_args(argv)
    if not results_root(args.results_dir).is_dir():
        raise ConfigError(f"no results folder {results_root(args.results_dir)}")
    if args.update_docs:
        update_docs(results_dir=args.results_dir)
    elif args.html:
        print(write(args.html, args.results_dir))
    else:
        print(markdown(args.results_dir))


if __name__ == "__main__":
    sys.exit(main())
