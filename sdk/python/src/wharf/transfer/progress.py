"""Progress of a transfer: tqdm bars on a terminal, silence elsewhere, or the caller's own sink."""

from __future__ import annotations

import sys
from typing import Callable, Protocol, Union


class ProgressSink(Protocol):
    """What a transfer reports its bytes to (a ``tqdm`` bar is one)."""

    def update(self, n: int) -> object: ...

    def close(self) -> object: ...


#: Makes one sink per phase (``hashing``, ``uploading``, ``verifying``, ``downloading``) with the
#: bytes it will see.
ProgressFactory = Callable[[str, int], ProgressSink]

#: ``None``: bars when standard error is a terminal or in a notebook (the default; tqdm.auto draws
#: a widget there); ``True``/``False``: always or never; or a factory of one's own (a logger, a test).
ProgressOption = Union[bool, None, ProgressFactory]


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _tqdm_factory(phase: str, total: int) -> ProgressSink:
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    bar: ProgressSink = tqdm(total=total, desc=phase, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=False)
    return bar


def progress_factory(option: ProgressOption) -> ProgressFactory:
    if callable(option):
        return option
    show = (sys.stderr.isatty() or "ipykernel" in sys.modules) if option is None else option
    return _tqdm_factory if show else (lambda phase, total: _Silent())
