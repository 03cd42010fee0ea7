"""One list per choice: the names of the tuners, proxies, datasets and objectives, and where each lives.

Everything that offers or checks one of these choices (the command line's flags and help, spec
validation, the README's lists, the tests) reads its registry here. A registry maps a name to
the object that implements it, given as ``"module:attribute"`` and imported only when used, so
that name lookups never import TensorFlow. Adding a choice is one `register` call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator

COST_WEIGHT = 0.05  # accuracy traded per decade of FLOPs by the scalarized Pareto objective
MAX_REDRAWS = 1000  # draws per trial (rejected ones redrawn) before a search gives up


class Registry:
    """Names of one kind of choice, in the order registered, each with its implementation.

    Args:
        kind: what a name names ("tuner", "proxy", ...), for error messages.
        entries: name -> "module:attribute" (imported on `load`) or the object itself.
    """

    def __init__(self, kind: str, entries: dict[str, str | object] | None = None):
        self.kind = kind
        self._entries: dict[str, str | object] = {}
        for name, target in (entries or {}).items():
            self.register(name, target)

    def register(self, name: str, target: str | object) -> None:
        """Adds the choice `name`, implemented by `target` ("module:attribute" or the object)."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a {self.kind} name must be an identifier. Received: name={name!r}")
        if name in self._entries:
            raise ValueError(f"a {self.kind} called {name!r} is registered already")
        self._entries[name] = target

    def unregister(self, name: str) -> None:
        """Removes the choice `name` (a test's dummy, say)."""
        del self._entries[name]

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._entries))

    def check(self, argument: str, value: object) -> str:
        """`value` if it is a registered name; else ValueError naming `argument` and the names allowed."""
        if value not in self._entries:
            raise ValueError(f"`{argument}` must be one of {', '.join(self._entries)}. Received: {argument}={value!r}")
        return value

    def load(self, name: str) -> object:
        """The object that implements `name` (imported now if registered by its path)."""
        target = self._entries[self.check(self.kind, name)]
        if isinstance(target, str):
            module, _, attribute = target.partition(":")
            return getattr(importlib.import_module(module), attribute)
        return target


def _proxy(name: str) -> str:
    return f"convnas.search.proxies:{name}"


TUNERS = Registry("tuner", {
    "random": "convnas.search.tuners.tuner:RandomSearch",
    "grid": "convnas.search.tuners.tuner:GridSearch",
    "bayesian": "convnas.search.tuners.tuner:BayesianOptimization",
    "hyperband": "convnas.search.tuners.tuner:Hyperband",
    "evolution": "convnas.search.tuners.tuner:Evolution",
})

PROXIES = Registry("proxy", {name: _proxy(name) for name in ("synflow", "naswot", "jacob_cov", "grad_norm", "snip")})

ProxyFunction = Callable[..., float]  # (model, x, y) -> score: higher predicts higher accuracy
