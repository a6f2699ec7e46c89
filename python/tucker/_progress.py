"""Progress of long work (from_torch of a large layer, ranks, compress) on stderr.

`Progress(enabled)` reports steps: `with progress.step("writing MLIR", total=nbytes) as
advance: ... advance(n)`. Without a total a step is one line, `what ... done in 1.2 s` (on a
terminal the elapsed time ticks while it runs); with a total it is a tqdm bar where tqdm is
importable, else the same line with the percentage ticking. Disabled, it prints nothing.

`progress=None` in the Python API means: report where stderr is a terminal and the work is
large (`LARGE` weight parameters or more); True always; False never.
"""

import contextlib
import sys
import threading
import time

# Weight parameters from which progress=None reports on a terminal (a layer of width 2048 has
# about 16.8M).
LARGE = 8 * 1024 * 1024


def _tqdm():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def enabled(progress, size=None, stream=None):
    """Whether to report: `progress` True / False, or None: stderr is a terminal and `size`
    (weight parameters; None: unknown, taken as large) is at least LARGE."""
    if progress is None:
        stream = stream or sys.stderr
        return bool(getattr(stream, "isatty", lambda: False)()) and (size is None or size >= LARGE)
    return bool(progress)


class Progress:
    """Steps of long work on `stream` (stderr): see the module docstring."""

    def __init__(self, enabled=True, stream=None):
        self.enabled = bool(enabled)
        self.stream = stream or sys.stderr
        self.live = self.enabled and bool(getattr(self.stream, "isatty", lambda: False)())

    @contextlib.contextmanager
    def step(self, what, total=None, unit="B"):
        """Context of one step; yields advance(n), which counts n units of `total` done."""
        if not self.enabled:
            yield lambda n=1: None
            return
        tqdm = _tqdm() if total else None
        if tqdm is not None:
            bar = tqdm(total=total, desc=what, unit=unit, unit_scale=True, unit_divisor=1024,
                       file=self.stream, leave=True, dynamic_ncols=True)
            try:
                yield bar.update
            finally:
                bar.close()
            return
        done = [0]

        def advance(n=1):
            done[0] += n

        def state():
            elapsed = time.monotonic() - start
            pct = f" {100.0 * min(done[0], total) / total:.0f}%" if total else ""
            return f"\r{what} ...{pct} {elapsed:.1f} s"

        start = time.monotonic()
        stop = threading.Event()
        ticker = None
        if self.live:
            def tick():
                while not stop.wait(0.2):
                    self.stream.write(state())
                    self.stream.flush()
            ticker = threading.Thread(target=tick, daemon=True)
            ticker.start()
        self.stream.write(f"{what} ...")
        self.stream.flush()
        outcome = "failed after"
        try:
            yield advance
            outcome = "done in"
        finally:
            stop.set()
            if ticker:
                ticker.join()
            elapsed = time.monotonic() - start
            if self.live:  # rewrite the ticking line, clearing what is left of it
                self.stream.write(f"\r{what} ... {outcome} {elapsed:.1f} s\x1b[K\n")
            else:
                self.stream.write(f" {outcome} {elapsed:.1f} s\n")
            self.stream.flush()
