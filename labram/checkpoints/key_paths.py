"""Where a value lies in a checkpoint, as a line names it: its key path.

A checkpoint is nested dicts, lists and ``argparse.Namespace`` objects; a refusal names the
value it refuses by the keys that lead to it, as Python would index them: ``args.lr`` (an
attribute, or a key that reads as one), ``model['blocks.0.attn.qkv.weight']`` (a key with a
dot, or any other text), ``optimizer.state[0]`` (a number, a list's item),
``args.tags[1]``. A key that is neither text nor a number is shown by its ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

WHOLE = "(the whole file)"
"""What a line names when the value refused is the file's top object itself."""

_MAX_KEY = 80  # characters of a key shown before it is cut


def step(where: str, key: Any, *, attribute: bool = False) -> str:
    """The path ``where`` (``""``: the top) followed by ``key``: ``.key`` for a Namespace
    attribute (``attribute``) or a text key that is an identifier, ``[key!r]`` otherwise;
    the first step of a path has no dot."""
    if isinstance(key, str) and (attribute or key.isidentifier()) and len(key) <= _MAX_KEY:
        return f"{where}.{key}" if where else key
    shown = repr(key)
    if len(shown) > _MAX_KEY:
        shown = shown[: _MAX_KEY - 3] + "..."
    return f"{where}[{shown}]"


def path_to(obj: Any, target: Any) -> str | None:
    """The key path of ``target`` (by identity) in ``obj`` (dicts, Namespaces, lists and tuples
    walked, each container once), or None where it is not there."""
    stack: list[tuple[Any, str]] = [(obj, "")]
    seen: set[int] = set()
    while stack:
        o, where = stack.pop()
        if o is target:
            return where
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, dict):
            stack.extend((v, step(where, k)) for k, v in reversed(o.items()))
        elif isinstance(o, list | tuple):
            stack.extend((v, step(where, i)) for i, v in reversed(list(enumerate(o))))
        elif hasattr(o, "__dict__") and not isinstance(o, type):  # (argparse.Namespace)
            items = reversed(vars(o).items())
            stack.extend((v, step(where, k, attribute=True)) for k, v in items)
    return None


def first_refused(build: Callable[..., Any], values: Mapping[str, Any], where: str) -> str:
    """Why ``build(**values)`` is refused, naming the first value refused on its own by its
    key path (``where``: the path of ``values``): ``"`train_config.token_budget`: Invalid
    value ..."``; where none is refused alone (values that disagree), the error of all of them
    at ``where``."""
    for key, value in values.items():
        try:
            build(**{key: value})
        except (TypeError, ValueError) as exc:
            return f"`{step(where, key)}`: {exc}"
    try:
        build(**values)
    except (TypeError, ValueError) as exc:
        return f"`{shown(where)}`: {exc}"
    return f"`{shown(where)}`"


def shown(where: str) -> str:
    """``where`` for a line: the path, or :data:`WHOLE` for the top object."""
    return where or WHOLE


__all__ = ["WHOLE", "first_refused", "path_to", "shown", "step"]
