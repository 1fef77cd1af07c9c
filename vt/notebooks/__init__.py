"""What the notebooks share: parameter checking, the training recipe, runs over models and seeds, result files.

Every notebook's second cell is ``P = vt.notebooks.parameters("<name>", globals())``. It reads the names the
notebook's ``parameters`` cell declares, refuses names papermill injected that no notebook knows (papermill
itself ignores them silently), turns JSON text from ``-p`` into lists and dicts, checks the recipe through
``TrainConfig``, and gives the notebook its output folder ``results/<profile>/<notebook>/``.

Profiles (``profiles/<name>.yaml``) are flat papermill parameter files; a key that a notebook does not declare
but another one does is left unused there. ``extends: <profile>`` starts a profile from another one's values, so
that a variant (a longer budget, fewer models) keeps its parent's recipe. ``python -m vt.notebooks check
cifar10`` checks a profile before a long run; ``python -m vt.notebooks resolve cifar10`` prints it with its
parent's values filled in, the file ``run_all.sh`` hands to papermill.

The package's modules, one job each: ``declaration`` (what the notebooks declare, where results go), ``profiles``
(profiles, the rerun command, whether a study landed), ``parameters`` (checking a notebook's parameters),
``landing`` (where runs land and how they are read back), ``runs`` (arms over seeds within a budget), ``summary``
(the summary over seeds, the learning curves). The notebooks import from the package itself.
"""

from vt.notebooks.declaration import NOTEBOOKS_DIR, PROFILES_DIR, RECIPE, declared, results_root, vocabulary
from vt.notebooks.landing import EVAL_LABELS, borrow_run, land_run, landed_run
from vt.notebooks.parameters import ELEMENTS, Parameters, Run, parameters
from vt.notebooks.profiles import command, landed, load_profile
from vt.notebooks.runs import fit_seeds, run_models
from vt.notebooks.summary import SUMMARY_COLUMNS, plot_curves, readable, summarize

__all__ = ["NOTEBOOKS_DIR", "PROFILES_DIR", "RECIPE", "declared", "results_root", "vocabulary", "EVAL_LABELS",
           "borrow_run", "land_run", "landed_run", "ELEMENTS", "Parameters", "Run", "parameters", "command", "landed",
           "load_profile", "fit_seeds", "run_models", "SUMMARY_COLUMNS", "plot_curves", "readable", "summarize"]
