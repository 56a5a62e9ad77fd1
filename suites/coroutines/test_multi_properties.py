"""Property checks of gen.multi: random trees of futures resolve to the same structure.

Reference: Tornado docs, ``tornado.gen.multi``
(https://www.tornadoweb.org/en/stable/gen.html#tornado.gen.multi).

Hypothesis draws nested lists and dicts whose leaves are Futures, each resolved (or
failed) at a random rank (the completion order). The leaves are resolved in rank order by the check itself, a
few loop iterations apart, instead of by timers: the completion order is exactly the
drawn one on any machine, and no wall-clock delay decides a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from conformance import Level, check, hypothesis_property, requires

pytestmark = [pytest.mark.coroutines, requires("gen", "ioloop", "concurrent", features=["gen_multi"])]


@dataclass(frozen=True)
class Leaf:
    value: int
    fails: bool


class LeafFailed(Exception):
    """A failing leaf's exception; it carries the leaf's value."""


#: At most 4 children at the top, of at most 10 leaves each.
MAX_LEAVES = 40


def _children(st: Any) -> Any:
    """Trees of leaves; gen.multi takes a list or a dict at the top."""
    tree = st.recursive(
        st.builds(Leaf, st.integers(0, 999), st.sampled_from([False, False, False, True])),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text("abcxyz", min_size=1, max_size=3), children, max_size=4)
        ),
        max_leaves=10,
    )
    return st.lists(tree, max_size=4) | st.dictionaries(st.text("abcxyz", min_size=1, max_size=3), tree, max_size=4)


#: Tried first, whatever the seed (the proof of the broken implementations rests on them):
#: no children, nested children, a failing child, and children completing in reverse order.
EXAMPLES = [
    {"tree": [], "shuffle": list(range(MAX_LEAVES))},
    {"tree": {"a": [Leaf(1, False), {"b": Leaf(2, False)}], "c": Leaf(3, False)}, "shuffle": list(range(MAX_LEAVES))},
    {"tree": [Leaf(4, False), Leaf(5, True), Leaf(6, False)], "shuffle": list(range(MAX_LEAVES))},
    {"tree": [Leaf(7, False), Leaf(8, False), Leaf(9, False)], "shuffle": list(range(MAX_LEAVES))[::-1]},
]


def _leaves_of(tree):
    if isinstance(tree, Leaf):
        return [tree]
    items = tree.values() if isinstance(tree, dict) else tree
    return [leaf for child in items for leaf in _leaves_of(child)]


def _depth(tree):
    if isinstance(tree, Leaf):
        return 0
    items = tree.values() if isinstance(tree, dict) else tree
    return 1 + max((_depth(child) for child in items), default=0)


def _expected(tree):
    if isinstance(tree, Leaf):
        return tree.value
    if isinstance(tree, dict):
        return {key: _expected(child) for key, child in tree.items()}
    return [_expected(child) for child in tree]


@check("Tornado docs: gen.multi", Level.MUST)
@hypothesis_property(
    {"tree": _children, "shuffle": lambda st: st.permutations(range(MAX_LEAVES))},
    seed=5_2024_0613,
    examples=EXAMPLES,
    ci_max_examples=6,
)
def test_multi_resolves_random_trees_to_their_structure_or_first_error(impl, ioloop, tree, shuffle):
    """gen.multi: "If ``children`` is a list, the result is a list of results in the same
    order; if it is a dict, the result is a dict with the same keys", nested lists and dicts
    being yieldable too; "If any children raise exceptions, ``multi()`` will raise the
    first one." Whatever the tree and the completion order, the result mirrors the tree,
    or the exception is the one of the first failing child in the order the children were
    given: the docs define multi over a list as equivalent to ``for future in
    list_of_futures: results.append(yield future)``, which raises the exception of the first
    failing child in input order (depth first through nested children), whenever it failed."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop
    leaves = _leaves_of(tree)
    # The completion order: the drawn permutation, restricted to this tree's leaves.
    order = [position for position in shuffle if position < len(leaves)] + list(range(MAX_LEAVES, len(leaves)))
    # Loop iterations between two leaves: enough for an outcome to climb the whole tree.
    settle = _depth(tree) + 2

    async def scenario():
        loop = IOLoop.current()
        futures = []  # in the order of _leaves_of(tree): the same object may be drawn twice

        def build(node):
            if isinstance(node, Leaf):
                futures.append(Future())
                return futures[-1]
            if isinstance(node, dict):
                return {key: build(child) for key, child in node.items()}
            return [build(child) for child in node]

        combined = gen.multi(build(tree))
        for position in order:
            leaf = leaves[position]
            future = futures[position]
            if leaf.fails:
                future.set_exception(LeafFailed(leaf.value))
            else:
                future.set_result(leaf.value)
            for _ in range(settle):  # loop turns, not time
                step = Future()
                loop.add_callback(step.set_result, None)
                await step
        if not combined.done():
            return "pending", None
        try:
            return "result", combined.result()
        except Exception as exc:
            return "raised", exc

    how, what = ioloop.call(scenario)
    # Tornado waits for every child and raises the first failure *in input order* (depth
    # first through nested children): "the first one" of the children, whatever finished first.
    failing = [leaf for leaf in leaves if leaf.fails]
    if failing:
        first = failing[0]
        assert how == "raised" and isinstance(what, LeafFailed) and what.args == (first.value,), (
            f"gen.multi over the tree {tree!r}, whose leaves completed in the order {order!r}, "
            f"{'returned ' + repr(what) if how == 'result' else how if how == 'pending' else 'raised ' + repr(what)}; "
            f"expected it to raise LeafFailed({first.value}), the exception of the first failing child in input "
            "order: Tornado documents that multi() raises the first exception of its children (and Tornado "
            "reads 'first' in the order the children were given, not the order they failed in)."
        )
    else:
        expected = _expected(tree)
        assert how == "result" and what == expected, (
            f"gen.multi over the tree {tree!r}, whose leaves completed in the order {order!r}, gave {how} "
            f"{what!r}, expected {expected!r}: lists give lists in input order and dicts give dicts with the "
            "same keys, at every level of nesting."
        )
