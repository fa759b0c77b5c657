"""Every core: one recognizer per worker process, shared by the CLI, the window and the local API.

LiteRT releases the GIL while the network runs, but preprocessing and the CTC decoder hold it, so
threads scale poorly (measured 0.9x on 2 cores); processes scale (1.95x). With one core (or
``workers=1``) everything runs in the calling process and no process is started.

Workers are started fresh ("spawn": each imports everything and loads its model, ~0.25 s CPU), or, with
``fork=True`` on Linux in a process without other Python threads (the CLI), this process loads the model once,
forks ``workers - 1`` workers that start at once with it (sharing its memory), and works as the last worker:
while it waits for the next result in order, it takes the last items no worker has been given.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from importlib.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from model.bundle import ModelError, ModelInfo, model_folder, read_info
from model.lexicon import Lexicon, alternatives

if TYPE_CHECKING:  # imported when worker processes are started: one process needs none of it (start-up time)
    from concurrent.futures import Future, ProcessPoolExecutor

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
WORKERS_ENV = "HTR_DESKTOP_WORKERS"  # overrides the number of worker processes (1 = in-process)
SHORT_ITEM_S = 0.05  # forked workers: items this short (a line's ~11 ms) get a second one waiting in each worker

# In a worker process: its recognizer, or the message why it could not be loaded.
_recognizer: Any = None
_load_error = ""
STOP_SIGNAL = getattr(signal, "SIGUSR1", None)  # stop_now(): a worker's item stops where ``unstoppable()`` allows
STOP_GRACE_S = 10.0  # stop_now(): workers still running after this are killed
WAIT_POLL_S = 0.05  # rest(until=...): how often the wait for the running items asks whether to stop waiting
_stop = {"running": False, "held": 0, "pending": False, "stopping": False}  # a worker's stop_now() state
_keeper: list[Callable[[Any], None]] = []  # in this process: where keep() puts the result of the item running here


def available_cores() -> int:
    """The CPU cores this process may run on (``taskset``/cgroup affinity honoured)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """Worker processes to use: ``HTR_DESKTOP_WORKERS`` if set, else one per available core."""
    value = os.environ.get(WORKERS_ENV, "")
    if value.strip().isdigit() and int(value) > 0:
        return int(value)
    return available_cores()


def _init_worker(path: str | None, decoder: str | None, threads: int | None) -> None:
    """Load the recognizer once per worker process; Ctrl+C is the parent's business."""
    global _recognizer, _load_error
    _ignore_sigint()
    import cv2

    cv2.setNumThreads(1)  # one core per worker: OpenCV's own threads would only compete
    from model.recognizer import Recognizer

    try:
        _recognizer = Recognizer.load(path, decoder=decoder, threads=threads)
    except (ModelError, ValueError, OSError) as exc:
        _load_error = str(exc)


def _init_forked(recognizer: Any) -> None:
    """A forked worker uses the recognizer its parent loaded (inherited, not copied); Ctrl+C is the parent's."""
    global _recognizer
    _ignore_sigint()
    _recognizer = recognizer


def _ignore_sigint() -> None:
    """In a worker: Ctrl+C (sent to the whole process group) is ignored, then let through (see ``_submit``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also drops a Ctrl+C that came while it was blocked
    _stop.update(running=False, held=0, pending=False, stopping=False)  # (a forked worker inherits its parent's)
    if STOP_SIGNAL is not None:
        signal.signal(STOP_SIGNAL, _on_stop)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _submit(executor: ProcessPoolExecutor, fn: Callable[..., R], *args: Any) -> Future[R]:
    """``executor.submit`` with Ctrl+C blocked meanwhile, so that a worker it starts never dies of one."""
    # A worker process started here inherits the block until its initializer ignores Ctrl+C: no traceback from a
    # Ctrl+C that reaches it while it starts or imports.
    if not hasattr(signal, "pthread_sigmask"):
        return executor.submit(fn, *args)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return executor.submit(fn, *args)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextlib.contextmanager
def _ctrl_c_after() -> Iterator[None]:
    """In the main thread: a Ctrl+C that comes within is raised once the block ended (an item submitted there is
    also kept, for ``Results.rest()``). Blocking SIGINT is not enough: one already caught runs at the next line."""
    before = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or before is None:
        yield  # (other threads get no KeyboardInterrupt; None: a handler Python cannot put back)
        return
    came: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: came.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
    if came:
        signal.raise_signal(signal.SIGINT)  # to the handler it came for


def can_fork() -> bool:
    """Whether workers may be forked from this process: Linux, and no other Python thread running."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _on_stop(signum: int, frame: object) -> None:
    """In a worker: stop_now() stops the item running (KeyboardInterrupt), after any ``unstoppable()`` block."""
    _stop["stopping"] = True  # and no item starts any more
    if not _stop["running"]:
        return  # between items, or an item past its unstoppable block: nothing to stop
    if _stop["held"]:
        _stop["pending"] = True
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def unstoppable() -> Iterator[None]:
    """In a worker: a block (writing an item's files) that stop_now() does not cut. A stop that came meanwhile comes
    when it ends; once it ended well, the item is done and finishes (its files are written: it must be told)."""
    _stop["held"] += 1
    try:
        yield
    finally:
        _stop["held"] -= 1
    if not _stop["held"]:
        _stop["running"] = False
        if _stop["pending"]:
            _stop["pending"] = False
            raise KeyboardInterrupt


def _call(fn: Callable[[Any, T], R], item: T) -> R:
    if _recognizer is None:
        raise ModelError(_load_error or "the model is not loaded")
    if _stop["stopping"]:
        raise KeyboardInterrupt  # stop_now() came before this item started
    _stop["running"], _stop["pending"] = True, False
    try:
        return fn(_recognizer, item)
    finally:
        _stop["running"] = False


def keep(result: Any) -> None:
    """Called by an item's function once the item is done beyond undoing (its files written): if Ctrl+C comes before
    the function returns, ``Results.rest()`` still gives ``result``. Only for items read in this process (a worker
    process's item is kept by ``InterruptedAfter`` and its future)."""
    if _keeper:
        _keeper[-1](result)


@contextlib.contextmanager
def _keeping(store: Callable[[Any], None]) -> Iterator[None]:
    """Within: ``keep(result)`` calls ``store(result)``."""
    _keeper.append(store)
    try:
        yield
    finally:
        _keeper.pop()


def _ready(_: int) -> str:
    return _load_error


def _recognize(recognizer: Any, images: Sequence[np.ndarray]) -> list[Any]:
    return recognizer.recognize(images)


class RecognizerPool:
    """A Recognizer-like object that spreads work over worker processes, one model per process.

    ``recognize(images)`` splits a call's images over the workers; ``map(fn, items)`` runs
    ``fn(recognizer, item)`` in the workers (``fn`` must be a module-level function), results in order.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, decoder: str | None = None,
                 threads: int | None = None, workers: int | None = None, fork: bool = False) -> None:
        """``fork``: load the model here and fork the workers from this process when ``can_fork()``."""
        from model.recognizer import Recognizer

        self.workers = max(1, workers or default_workers())
        self._executor: ProcessPoolExecutor | None = None
        self.local: Recognizer | None = None
        self._own: Recognizer | None = None  # fork: this process's recognizer, also the forked workers'
        self._lexicon: Lexicon | None = None
        if self.workers == 1:
            self.local = Recognizer.load(path, decoder=decoder, threads=threads)
            self.info: ModelInfo = self.local.info
            self.decoder = self.local.decoder
            self.threads = self.local.threads
            return
        folder = model_folder(path)
        self.info = read_info(folder)
        self._folder: Traversable | Path = folder
        self.decoder = self.info.decoder.with_name(decoder).name  # ValueError for an unknown name
        self.threads = threads or 1
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        if fork and can_fork():  # the workers are forked at the first submitted work (start()), before any thread
            import cv2

            cv2.setNumThreads(1)  # one core per worker: OpenCV's own threads would only compete
            self._own = Recognizer.load(path, decoder=decoder, threads=threads)
            self._executor = ProcessPoolExecutor(self.workers - 1, mp_context=get_context("fork"),
                                                 initializer=_init_forked, initargs=(self._own,))
            return
        # "spawn": fresh interpreters, safe with the GUI's threads and in a PyInstaller bundle (freeze_support).
        self._executor = ProcessPoolExecutor(
            self.workers, mp_context=get_context("spawn"), initializer=_init_worker,
            initargs=(None if path is None else str(path), decoder, threads))

    @property
    def version(self) -> str:
        """The model's version string."""
        return self.info.version

    def start(self) -> None:
        """Start every worker and load its model now; raises ModelError if a worker cannot load it."""
        if self._executor is None or self._own is not None:  # forked workers start with the first work, loaded
            return
        futures = [_submit(self._executor, _ready, n) for n in range(self.workers)]
        errors = [_result(future) for future in futures]
        if any(errors):
            raise ModelError(next(e for e in errors if e))

    def map(self, fn: Callable[[Any, T], R], items: Iterable[T]) -> Results[R]:
        """``fn(recognizer, item)`` for every item, in the workers, yielded in order (``Results``). None is given to a
        worker before the first result is read: a Ctrl+C until then leaves nothing running that ``rest()`` cannot tell.

        Raises ModelError if the model could not be loaded, RuntimeError if a worker process died.
        """
        if self._executor is None:
            return _Local(fn, self.local, list(items))
        if self._own is not None:
            return _Shared(fn, self._own, list(items), self._executor, self.workers)
        return _Queued(partial(_submit, self._executor, _call, fn), list(items))

    def recognize(self, images: Sequence[np.ndarray]) -> list[Any]:
        """Recognize word/line crops, spread over the workers; same results as ``Recognizer.recognize``."""
        if self.local is not None:
            return self.local.recognize(images)
        n = min(self.workers, len(images))
        if n == 0:
            return []
        # Interleave by width so every worker gets a similar amount of work.
        order = sorted(range(len(images)), key=lambda i: images[i].shape[1] * 32 / max(1, images[i].shape[0]))
        parts = [order[k::n] for k in range(n)]
        chunks = self.map(_recognize, [[images[i] for i in part] for part in parts])
        results: list[Any] = [None] * len(images)
        for part, preds in zip(parts, chunks):
            for i, pred in zip(part, preds):
                results[i] = pred
        return results

    def alternatives(self, word: Any, limit: int = 8) -> list[str]:
        """Other readings for a recognized Word: its n-best alternatives, then close words from the word list."""
        if self.local is not None:
            return self.local.alternatives(word, limit)
        config = self.info.decoder
        if self._lexicon is None and config.words and (self._folder / config.words).is_file():
            self._lexicon = Lexicon.load(self._folder / config.words)
        return alternatives(word.text, word.alternatives, self._lexicon, limit)

    def close(self) -> None:
        """Stop the worker processes: queued work is dropped, started items finish; safe to call twice."""
        if self._executor is None:
            return
        if self._own is not None:  # forked workers: what map() froze may be collected again
            gc.unfreeze()
        executor, self._executor, self._own = self._executor, None, None
        try:
            executor.shutdown(wait=True, cancel_futures=True)
        except KeyboardInterrupt:  # Ctrl+C again while the workers finish their items: stop them now
            _kill(list((getattr(executor, "_processes", None) or {}).values()))
            raise

    def stop_now(self) -> None:
        """Stop the items running in the workers (each where ``unstoppable()`` allows; killed after STOP_GRACE_S)
        and the workers: those stopped fail with KeyboardInterrupt, those finished keep their results."""
        if self._executor is None:
            return
        if self._own is not None:
            gc.unfreeze()
        executor, self._executor, self._own = self._executor, None, None
        processes = list((getattr(executor, "_processes", None) or {}).values())
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                if STOP_SIGNAL is None:  # (Windows) no graceful stop
                    process.kill()
                else:
                    os.kill(process.pid, STOP_SIGNAL)
        timer = threading.Timer(STOP_GRACE_S, _kill, (processes,))  # those that do not stop in time
        timer.daemon = True
        timer.start()
        try:
            executor.shutdown(wait=True, cancel_futures=True)  # results already sent back are read first
        finally:
            timer.cancel()

    def __enter__(self) -> RecognizerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InterruptedAfter(KeyboardInterrupt):
    """Ctrl+C that came once an item was finished (its files written): ``result`` is kept, not lost."""

    def __init__(self, result: Any) -> None:
        super().__init__(result)  # (in args: a worker's one is pickled back to the caller)
        self.result = result


class Results(Iterator[R]):
    """``map``'s results in order. After Ctrl+C (while reading them or in the caller's loop), ``rest()`` gives those
    finished but not yet told; a KeyboardInterrupt while one is read or handed over loses nothing that was finished.

    The caller calls ``told()`` once it has dealt with the result it read (printed it), in a block Ctrl+C does not
    cut: until then that result also counts as not told, as Ctrl+C may come just after ``next()`` returned it.
    """

    def __init__(self, count: int) -> None:
        self._next = 0  # the index of the next result to read
        self._count = count
        self._handed: tuple[int, R] | None = None  # the last result read, until told()
        self.unfinished = 0  # after rest(): items given to a worker that did not finish (stopped, or failed)
        self._ended = False  # rest() was asked: no more results are read

    def __iter__(self) -> Results[R]:
        return self

    def __next__(self) -> R:
        i = self._next
        if i >= self._count or self._ended:
            self.close()
            raise StopIteration
        self._handed = None  # (the caller reads on: it told the last one)
        try:
            value = self._take(i)
        except KeyboardInterrupt:
            raise  # item i is still there for rest() if it finishes
        except BaseException:
            self._next = self._count  # an item's error ends the results, as a generator's would
            self.close()
            raise
        self._handed = (i, value)  # (in this order: at every point item i is in _handed or at _next for rest())
        self._next = i + 1
        self._forget(i)
        return value

    def told(self) -> None:
        """The caller has dealt with the last result it read: ``rest()`` leaves it out."""
        self._handed = None

    def rest(self, wait: bool = True, until: Callable[[], bool] | None = None) -> list[R]:
        """After Ctrl+C: no item starts; those started finish (``wait``, unless ``until()`` turns true first, e.g. a
        second Ctrl+C held back); the finished ones not read yet, in order.

        Items that failed or never ran are left out (their inputs name which were done). A KeyboardInterrupt in it
        loses nothing: ``rest(wait=False)`` (after ``RecognizerPool.stop_now()``) still gives them (it gives the same
        each time: nothing is dropped before it returns).
        """
        self._ended = True
        self.close()
        if wait:
            self._wait(until or (lambda: False))
        start, handed = self._next, self._handed
        found = [self._finished(i) for i in range(start, self._count)]
        self.unfinished = sum(not ok and self._started(i) for i, (ok, _) in enumerate(found, start))
        if handed is not None and handed[0] < start:  # read but not told (at start: it is among those found)
            found.insert(0, (True, handed[1]))
        return [value for ok, value in found if ok]

    def _forget(self, i: int) -> None:
        """Item i was read: drop what was kept of it."""

    def _started(self, i: int) -> bool:
        """Whether item i was given to a worker (not dropped before it began)."""
        return False

    def close(self) -> None:
        """No more items start (those started finish); safe to call twice."""

    def _take(self, i: int) -> R:
        raise NotImplementedError

    def _wait(self, until: Callable[[], bool]) -> None:
        """Wait for the items started (after ``close``), or until ``until()`` is true."""

    def _finished(self, i: int) -> tuple[bool, Any]:
        """(True, item i's result) if it finished well, else (False, None); it is kept (rest() may be asked again)."""
        raise NotImplementedError

    def __del__(self) -> None:
        try:
            self.close()
        except AttributeError:  # its __init__ did not finish
            pass


class _Local(Results[R]):
    """Every item read in this process, when its result is asked for."""

    def __init__(self, fn: Callable[[Any, T], R], recognizer: Any, items: list[T]) -> None:
        super().__init__(len(items))
        self._call = lambda i: fn(recognizer, items[i])
        self._kept: dict[int, Any] = {}

    def _take(self, i: int) -> R:
        try:
            with _keeping(partial(self._kept.__setitem__, i)):
                return self._call(i)
        except InterruptedAfter as stop:
            self._kept[i] = stop.result
            raise

    def _forget(self, i: int) -> None:
        self._kept.pop(i, None)

    def _finished(self, i: int) -> tuple[bool, Any]:
        return (i in self._kept, self._kept.get(i))


def _done(future: Future[Any] | None) -> tuple[bool, Any]:
    """(True, its result) for a future that finished well (or was stopped once finished), else (False, None)."""
    if future is None or future.cancelled() or not future.done():
        return False, None
    if isinstance(stopped := future.exception(), InterruptedAfter):
        return True, stopped.result
    return (False, None) if stopped is not None else (True, future.result())


class _Queued(Results[R]):
    """Every item queued to the workers at once (spawned workers), as the first result is read."""

    def __init__(self, queue: Callable[[T], Future[R]], items: list[T]) -> None:
        super().__init__(len(items))
        self._queue = queue
        self._items: list[T] | None = items  # until queued
        self._futures: list[Future[R] | None] = [None] * len(items)

    def _take(self, i: int) -> R:
        if self._items is not None:
            items, self._items = self._items, None  # (once: a Ctrl+C that cuts it short queues no more)
            for n, item in enumerate(items):
                with _ctrl_c_after():  # an item queued is always in futures, for rest()
                    self._futures[n] = self._queue(item)
        future = self._futures[i]
        if future is None:  # closed before it was queued
            from concurrent.futures import CancelledError

            raise CancelledError
        return _result(future)

    def close(self) -> None:
        self._items = None
        for future in self._futures:
            if future is not None:
                future.cancel()

    def _wait(self, until: Callable[[], bool]) -> None:
        _wait_for([f for f in self._futures[self._next:] if f is not None], until)

    def _finished(self, i: int) -> tuple[bool, Any]:
        return _done(self._futures[i])

    def _started(self, i: int) -> bool:
        future = self._futures[i]
        return future is not None and not future.cancelled()


class _Shared(Results[R]):
    """Forked workers take items from the front (the next one each time one finishes), this process takes the last
    ones while it waits for the next result. Nothing is cancelled or run twice."""

    def __init__(self, fn: Callable[[Any, T], R], recognizer: Any, items: list[T], executor: ProcessPoolExecutor,
                 workers: int) -> None:
        super().__init__(len(items))
        self._run = lambda j: fn(recognizer, items[j])
        self._lock = lock = threading.Lock()
        self._futures: list[Future[R] | None] = [None] * len(items)
        self._ends = ends = [0, len(items)]  # the workers' next item; the first item this process took
        self._own: dict[int, tuple[bool, Any]] = {}  # items this process read: (ok, result or exception)
        futures = self._futures

        def feed(_: object = None) -> None:  # also run in the pool's thread when a worker's item is done
            from concurrent.futures import Future

            while True:  # (a closure, not a method: the futures' callbacks must not keep these results alive)
                with _ctrl_c_after(), lock:  # (in this process's thread) an item given out is always in futures
                    if ends[0] >= ends[1]:
                        return
                    i = ends[0]
                    ends[0] += 1
                    try:
                        future: Future[R] = _submit(executor, _call, fn, items[i])
                    except Exception as exc:  # noqa: BLE001 - a broken pool: the item reports it when its turn comes
                        future = Future()
                        future.set_exception(exc)
                    futures[i] = future
                if not future.done():
                    future.add_done_callback(feed)
                    return

        self._feed = feed
        self._executor = executor
        self._workers = workers
        self._begun = False  # the workers' first items are given as the first result is read
        # A second item waiting in each worker hides the hand-over between short items (lines), but one waiting
        # there is that worker's even if this process is free first: for long items (pages) it would leave this
        # process idle at the end, and the first of few items to a worker while this process reads nothing.
        self._deepen = workers - 1

    def _begin(self) -> None:
        self._begun = True
        if not getattr(self._executor, "_processes", None):  # the first work forks the workers: from a frozen heap
            gc.freeze()  # collections skip everything loaded so far (until close()): its pages stay shared
        for _ in range(self._workers - 1):  # one item running in each worker, the next fed as one finishes
            self._feed()

    def _take(self, i: int) -> R:
        if not self._begun:
            self._begin()
        while i not in self._own:
            with self._lock:
                future = self._futures[i]
                if (future is not None and future.done()) or self._ends[1] <= self._ends[0]:
                    break
                self._ends[1] -= 1
                j = self._ends[1]
            began = time.perf_counter()
            try:
                with _keeping(partial(self._own_result, j)):
                    result = self._run(j)
                self._own_result(j, result)
            except InterruptedAfter as stop:  # finished (its files written) as Ctrl+C came
                self._own[j] = (True, stop.result)
                raise
            except Exception as exc:  # noqa: BLE001 - raised in order, as a worker's would be
                self._own[j] = (False, exc)
            if self._deepen and time.perf_counter() - began < SHORT_ITEM_S:
                for _ in range(self._deepen):
                    self._feed()
                self._deepen = 0
        if i in self._own:
            ok, value = self._own[i]  # (dropped once handed over: _forget)
            if not ok:
                del self._own[i]
                raise value
            return value  # type: ignore[no-any-return]
        return _result(self._futures[i])  # type: ignore[arg-type]

    def _own_result(self, j: int, result: Any) -> None:
        self._own[j] = (True, result)

    def _forget(self, i: int) -> None:
        self._own.pop(i, None)

    def close(self) -> None:
        with self._lock:
            self._ends[1] = self._ends[0]  # nothing more for the workers
        for future in self._futures:
            if future is not None:
                future.cancel()

    def _wait(self, until: Callable[[], bool]) -> None:
        _wait_for([f for f in self._futures[self._next:] if f is not None], until)

    def _finished(self, i: int) -> tuple[bool, Any]:
        if i in self._own:
            return self._own[i]
        return _done(self._futures[i])

    def _started(self, i: int) -> bool:
        future = self._futures[i]
        return future is not None and not future.cancelled()


def _wait_for(futures: list[Future[Any]], until: Callable[[], bool]) -> None:
    """Wait until every future is done or ``until()`` is true (asked every WAIT_POLL_S)."""
    from concurrent.futures import wait

    while futures and not until():
        futures = list(wait(futures, timeout=WAIT_POLL_S).not_done)


def _kill(processes: list[Any]) -> None:
    """Kill these worker processes (those still alive)."""
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.kill()


def _result(future: Future[R]) -> R:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        raise RuntimeError("a recognition worker process stopped unexpectedly (out of memory?)") from None


__all__ = ["InterruptedAfter", "RecognizerPool", "Results", "available_cores", "can_fork", "default_workers", "keep"]
