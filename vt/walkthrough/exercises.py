"""The walkthrough's exercises: the student writes ``answer = ...`` and ``check(n, answer)`` says right or not yet,
with a hint, never the answer. Expected values come from the traced model and the FLOPs counter (``vt.flops``),
not from a table typed here, so they follow the code; the worked solutions are in
``notebooks/solutions/06_walkthrough_solutions.ipynb``, which the test suite runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from vt.flops import count
from vt.models import create
from vt.walkthrough import WALK_MODEL, Trace


@dataclass(frozen=True)
class Question:
    """One exercise: the equation it is about, how an answer is compared, the hint for a wrong answer and what a
    right answer shows."""

    equation: str
    kind: str  # "exact": equal after turning lists into tuples; "number": a count exactly, else within 0.1%;
    # "choice": one letter
    hint: str
    why: str


QUESTIONS: dict[int, Question] = {
    1: Question("eq. 1", "exact",
                "A has a row per pixel and a column per token; T has a row per token, as wide as the tokens "
                "after W_V.",
                "A is (HW, L) and T = A^T X, widened by W_V, is (L, D): the tokens no longer know where pixels are."),
    2: Question("eq. 1", "number",
                "The softmax of eq. 1 runs over HW: what does a softmax's output sum to over its axis?",
                "each token is a weighted average of pixels, its weights a distribution over the image."),
    3: Question("eqs. 1-2", "number",
                "Only pixels with a weight count (0 log 0 = 0). What is the weight of each of the 4?",
                "log k nats: the fewer pixels a token looks at, the lower its entropy; log HW means it looks "
                "everywhere."),
    4: Question("eq. 2", "choice",
                "Which factor of W_R = T_in W_{T->R} is learned, and what does the other one depend on?",
                "W_R is computed from the previous module's tokens, so each image gets its own filters; "
                "W_{T->R} is what is learned."),
    5: Question("eqs. 3-4", "number",
                "The term most often got wrong is the logits: (T K)(T Q)^T multiplies an L x D/2 matrix by a D/2 x L "
                "one. Then check the weighted sum: which width do the values T have?",
                "the transformer's cost does not depend on the image size, only on L and D."),
    6: Question("eq. 3", "choice",
                "Write row i of softmax(...) T with every weight equal to 1/L: does i still appear in it?",
                "uniform weights add the mean token to every token alike: relations between tokens then carry "
                "nothing."),
    7: Question("eq. 5", "choice",
                "Count the products of each order for one image: which one multiplies something HW rows tall by "
                "a D/2-wide matrix?",
                "X (T W_K W_Q^T)^T takes the product with W_Q once per token instead of once per pixel; the result "
                "is the same function (vt.models.projector)."),
    8: Question("eqs. 3-4", "number",
                "Keep the terms linear in L (projections, feed-forward) and those in L^2 (logits, softmax, weighted "
                "sum) apart: doubling L doubles the first and quadruples the second.",
                "a little over twice as much: at L = 16 the terms in L^2 are a small part of the cost."),
}

NOT_ANSWERED = "no answer yet: replace the ... after 'answer =' with yours, then run the cell again"


def _transformer_flops(tokens: int) -> int:
    counted = count(create(WALK_MODEL, tokens=tokens), (3, 32, 32)).by_module.set_index("module")
    return int(counted.flops["vt.0.transformer"])


def expected_answers(first: Trace) -> dict[int, Callable[[], object]]:
    """The right answer to each question, from the first module's trace ``first`` (eq. 1) and the FLOPs counter;
    each computed when asked, so that checking one answer costs only what it needs."""
    return {
        1: lambda: (tuple(first.attention.shape[1:]), tuple(first.tokens.shape[1:])),
        2: lambda: float(first.attention.sum(dim=1).mean()),
        3: lambda: math.log(4),
        4: lambda: "b",
        5: lambda: _transformer_flops(first.tokens.shape[1]),
        6: lambda: "c",
        7: lambda: "b",
        8: lambda: _transformer_flops(2 * first.tokens.shape[1]),
    }


def _tuples(value: object) -> object:
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def is_right(question: Question, answer: object, expected: object) -> bool:
    """Whether ``answer`` matches ``expected`` the way ``question`` compares them."""
    if question.kind == "exact":
        return _tuples(answer) == _tuples(expected)
    if question.kind == "number":
        if isinstance(answer, (str, bool)):
            return False
        try:
            answer = float(answer)  # a Python, numpy or one-element torch number
        except (TypeError, ValueError, RuntimeError):
            return False
        if isinstance(expected, int):  # a count: exactly
            return float(answer) == expected
        return math.isclose(float(answer), float(expected), rel_tol=1e-3)
    return isinstance(answer, str) and answer.strip().lower().strip("()") == expected


class Exercises:
    """``check = Exercises(trace(model, images)); check(1, answer)`` prints whether the answer is right and keeps it
    in ``check.right[1]``; ``...`` (the placeholder) is read as not answered yet."""

    def __init__(self, first: Trace) -> None:
        self.expected = expected_answers(first)
        self.right: dict[int, bool] = {}

    def __call__(self, number: int, answer: object) -> None:
        if number not in QUESTIONS:
            raise ValueError(f"no exercise {number}; the exercises are {', '.join(map(str, QUESTIONS))}")
        question = QUESTIONS[number]
        if answer is ...:
            print(f"Exercise {number}: {NOT_ANSWERED}")
            self.right[number] = False
            return
        self.right[number] = is_right(question, answer, self.expected[number]())
        print(f"Exercise {number} ({question.equation}): right: {question.why}" if self.right[number]
              else f"Exercise {number} ({question.equation}): not yet. Hint: {question.hint}")
