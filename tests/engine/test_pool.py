"""The worker pool: same results as one recognizer, in order, with clear errors."""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import pytest

from model.bundle import ModelError
from model.pool import InterruptedAfter, RecognizerPool, available_cores, default_workers, keep
from model.recognizer import Recognizer
from tests.conftest import render_text

WORDS = ["hello", "world", "a", "handwriting", "pool", "of", "workers", "reads", "lines"]


def _text(recognizer, image):
    return recognizer.recognize([image])[0].text


@pytest.fixture(scope="module")
def pool():
    with RecognizerPool(decoder="greedy", workers=2) as p:
        p.start()
        yield p


def test_two_workers_give_the_single_recognizer_results_in_order(pool):
    images = [render_text(w) for w in WORDS]
    expected = Recognizer.load(decoder="greedy").recognize(images)
    assert pool.recognize(images) == expected
    assert list(pool.map(_text, images)) == [p.text for p in expected]
    assert pool.recognize([]) == []


def test_worker_errors_reach_the_caller(pool):
    from model.imageio import ImageError

    with pytest.raises(ImageError, match="empty"):
        pool.recognize([render_text("ok"), render_text("x")[:0]])


def test_after_ctrl_c_the_items_started_still_come_in_order(pool):
    images = [render_text(w) for w in WORDS]
    texts = [p.text for p in Recognizer.load(decoder="greedy").recognize(images)]
    results = pool.map(_text, images)
    assert next(results) == texts[0]
    results.told()
    rest = results.rest()  # (as after Ctrl+C) none starts now; those already given to a worker finish
    assert rest == texts[1:1 + len(rest)] and list(results) == []


def _stop_at(recognizer, word):
    if word == "stop":  # Ctrl+C as this item's files were written: its result is kept
        raise InterruptedAfter(word.upper())
    return word


def _kept_then_stopped(recognizer, word):
    if word == "stop":  # its files written (kept), then Ctrl+C before the function returned
        keep(word.upper())
        raise KeyboardInterrupt
    return word


def _ctrl_c(*_):
    raise KeyboardInterrupt


@pytest.mark.parametrize("fn", [_stop_at, _kept_then_stopped], ids=["as-it-ended", "before-it-returned"])
@pytest.mark.parametrize("again", [False, True], ids=["rest", "rest-cut-short"])
def test_an_item_finished_as_ctrl_c_came_is_not_lost(fn, again):
    """``again``: a second Ctrl+C cuts rest() short once it found the finished items; asked again (as the CLI does
    after stop_now()), it gives them still."""
    with RecognizerPool(decoder="greedy", workers=1) as p:
        results = p.map(fn, ["a", "stop", "b"])
        assert next(results) == "a"
        results.told()
        with pytest.raises(KeyboardInterrupt):
            next(results)
        if again:
            results._started = _ctrl_c  # (asked once the finished items were found)
            with pytest.raises(KeyboardInterrupt):
                results.rest()
            del results._started
        assert results.rest(wait=not again) == ["STOP"] and list(results) == []


def _slow(recognizer, word):
    if word == "slow" and recognizer is not None:  # (in a worker; this process takes the last items itself)
        time.sleep(60)
    return word


def test_the_wait_for_the_items_started_ends_when_asked_and_keeps_the_finished_ones():
    """``rest(until=...)``: as the CLI's second Ctrl+C (held back while it waits) ends the wait at once."""
    with RecognizerPool(decoder="greedy", workers=2, fork=True) as p:
        results = p.map(_slow, ["a", "slow", "b", "c"])
        assert next(results) == "a"
        results.told()
        time.sleep(0.5)  # (the worker has begun "slow")
        began = time.monotonic()
        rest = results.rest(until=lambda: time.monotonic() - began > 1)
        assert time.monotonic() - began < 10  # not the 60 s "slow" takes
        assert "slow" not in rest and set(rest) <= {"b", "c"}
        p.stop_now()
        assert results.rest(wait=False) == rest and results.unfinished == 1


def _write(recognizer, path):
    """Write the item's file; the workers' item 0 waits until this process has read one (recognizer None)."""
    go = Path(path).parent / "go"
    if recognizer is None:
        go.touch()
    elif Path(path).name == "0":
        _appears(go)
    Path(path).write_text("written")
    return path


def _appears(path, seconds=60.0):
    for _ in range(int(seconds * 10)):
        if path.exists():
            return
        time.sleep(0.1)


@pytest.fixture
def ctrl_c_as_given(monkeypatch):
    """``ctrl_c_as_given(n)``: a Ctrl+C right after this thread gives a worker its n-th item; returns the items given
    so (one)."""
    import model.pool

    submit, count, given = model.pool._submit, [], []

    def arm(n):
        count[:] = [n]
        return given

    def submit_then_ctrl_c(executor, fn, *args):
        future = submit(executor, fn, *args)
        if count and threading.current_thread() is threading.main_thread():
            count[0] -= 1
            if not count[0]:
                count.clear()
                given.append(args[-1])
                signal.raise_signal(signal.SIGINT)  # the Ctrl+C, as the item is with a worker
        return future

    monkeypatch.setattr(model.pool, "_submit", submit_then_ctrl_c)
    return arm


def _files(folder):
    return sorted(str(p) for p in folder.iterdir() if p.name != "go")


def test_ctrl_c_just_after_this_process_gave_an_item_to_a_worker_still_tells_its_file(
        tmp_path, monkeypatch, pool, ctrl_c_as_given):
    """The CLI's forked pool: this process gives the workers their next item too. A Ctrl+C right after one went to a
    worker, before its future was kept, left its file written but untold (in003.xml of test_interrupt)."""
    import model.pool

    monkeypatch.setattr(model.pool, "SHORT_ITEM_S", float("inf"))  # this process's first item: the next one is given
    items = [str(tmp_path / str(n)) for n in range(6)]
    given = ctrl_c_as_given(2)  # 1st: item 0 to start; 2nd: the next, once this process read item 5 (as 0 runs)
    results = model.pool._Shared(_write, None, items, pool._executor, pool.workers)  # (as fork=True gives)
    told = []
    with pytest.raises(KeyboardInterrupt):
        for result in results:
            told.append(result)
            results.told()
    assert len(given) == 1
    _appears(Path(given[0]))  # the worker writes it (not cancelled: it was running)
    told += results.rest()
    assert sorted(told) == _files(tmp_path)


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "spawned"])
def test_ctrl_c_as_the_first_item_is_given_to_a_worker_still_tells_its_file(tmp_path, pool, ctrl_c_as_given, forked):
    """A Ctrl+C as ``map()`` gave the workers their first items left no ``Results`` to ask what they wrote: none is
    given before the first result is read, so the Ctrl+C comes from ``next()`` and ``rest()`` tells them."""
    import model.pool

    items = [str(tmp_path / name) for name in "abcd"]
    given = ctrl_c_as_given(1)
    try:
        results = (model.pool._Shared(_write, None, items, pool._executor, pool.workers) if forked
                   else pool.map(_write, items))
    except KeyboardInterrupt:
        pytest.fail("map() was interrupted: what it gave the workers cannot be told")
    with pytest.raises(KeyboardInterrupt):
        next(results)
    assert given == [items[0]]
    _appears(Path(given[0]))
    assert results.rest() == _files(tmp_path)


@pytest.mark.parametrize("told", [True, False])
def test_a_result_read_but_not_told_comes_again_from_rest(told):
    """Ctrl+C just after ``next()`` returned a result, before the caller printed it: rest() still gives it."""
    with RecognizerPool(decoder="greedy", workers=1) as p:
        results = p.map(_stop_at, ["a", "b", "c"])
        assert next(results) == "a"
        if told:
            results.told()
        assert results.rest() == ([] if told else ["a"])


def test_one_worker_runs_in_process():
    with RecognizerPool(decoder="greedy", workers=1) as p:
        assert p.local is not None and p._executor is None
        assert p.recognize([render_text("hi")])[0].text == Recognizer.load(decoder="greedy").recognize(
            [render_text("hi")])[0].text


def test_missing_model_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="model folder not found"):
        RecognizerPool(tmp_path / "none", workers=2)
    (tmp_path / "model.tflite").write_bytes(b"x")
    for workers in (1, 2):  # a file given for the folder: said so, not "not found"
        with pytest.raises(ModelError, match="model.tflite is a file"):
            RecognizerPool(tmp_path / "model.tflite", workers=workers)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.json").write_text((Recognizer.load().folder / "model.json").read_text())
    with RecognizerPool(broken, workers=2) as p, pytest.raises(ModelError, match="missing"):
        p.start()


def test_cli_over_pages_with_workers_matches_one_process(tmp_path):
    """3 pages on 2 processes (the forked worker and the command's own), each read whole: as in one process."""
    from training.pages import EVAL_STYLE, compose_page, text_source

    paths = []
    for seed in range(3):
        paths.append(str(tmp_path / f"page{seed}.png"))
        cv2.imwrite(paths[-1], compose_page(text_source(seed=seed), EVAL_STYLE, seed=300 + seed).image)

    def run(workers):
        out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--json", "--layout", "page",
                              "--decoder", "greedy", "--workers", workers, *paths], capture_output=True, text=True,
                             timeout=180)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
        return [json.loads(line) for line in out.stdout.splitlines()]

    one, two = run("1"), run("2")
    assert one == two and [r["path"] for r in two] == paths
    assert all(len(r["lines"]) >= 3 for r in two)


def test_worker_count_follows_affinity_and_env(monkeypatch):
    monkeypatch.delenv("HTR_DESKTOP_WORKERS", raising=False)
    assert default_workers() == available_cores() >= 1
    monkeypatch.setenv("HTR_DESKTOP_WORKERS", "3")
    assert default_workers() == 3


def test_cli_with_workers_matches_one_process(tmp_path):
    paths = []
    for i, w in enumerate(WORDS[:5]):
        paths.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(paths[-1]), render_text(w))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    args = [str(p) for p in paths[:2]] + [str(bad)] + [str(p) for p in paths[2:]]

    def run(workers):
        out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--json", "--layout", "line",
                              "--workers", workers, *args], capture_output=True, text=True, timeout=180)
        assert "Traceback" not in out.stderr
        assert out.returncode == 1  # the bad file
        return [json.loads(line) for line in out.stdout.splitlines()]

    one, two = run("1"), run("2")
    assert one == two
    assert [r["path"] for r in two] == args and "error" in two[2]


def test_batch_on_the_pool_writes_what_one_process_writes(tmp_path, pool):
    from htr_desktop.export import batch
    from htr_desktop.reading import ChunkedRecognizer

    folder = tmp_path / "in"
    folder.mkdir()
    files = []
    for i, w in enumerate(WORDS[:4]):
        files.append(folder / f"{i}.png")
        cv2.imwrite(str(files[-1]), render_text(w))
    files.insert(2, folder / "bad.png")
    files[2].write_bytes(b"broken")
    seen = []
    one = batch(files, tmp_path / "one", "csv", ChunkedRecognizer(Recognizer.load(decoder="greedy")), layout="line")
    two = batch(files, tmp_path / "two", "csv", ChunkedRecognizer(pool), layout="line",
                on_file=lambda i, n: seen.append((i, n)))
    assert one["errors"] == two["errors"] == {"bad.png": two["errors"]["bad.png"]}
    assert (tmp_path / "one" / "results.csv").read_text() == (tmp_path / "two" / "results.csv").read_text()
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)


def test_a_batch_of_pages_on_the_pool_reads_as_one_process(tmp_path, pool):
    """3 pages on 2 workers: two are read whole by the workers, the third here with its lines on both."""
    from htr_desktop.export import batch
    from htr_desktop.reading import ChunkedRecognizer
    from training.pages import EVAL_STYLE, compose_page, text_source

    files = []
    for seed in range(3):
        files.append(tmp_path / f"page{seed}.png")
        cv2.imwrite(str(files[-1]), compose_page(text_source(seed=seed), EVAL_STYLE, seed=200 + seed).image)
    one = batch(files, tmp_path / "one", "json", ChunkedRecognizer(Recognizer.load(decoder="greedy")), layout="page")
    two = batch(files, tmp_path / "two", "json", ChunkedRecognizer(pool), layout="page")
    assert not one["errors"] and not two["errors"] and len(two["written"]) == 3
    for name in ("page0.json", "page1.json", "page2.json"):
        assert (tmp_path / "one" / name).read_text() == (tmp_path / "two" / name).read_text()
        assert len(json.loads((tmp_path / "two" / name).read_text())["pages"][0]["regions"]) >= 3


def test_cancel_stops_a_batch_on_the_pool(tmp_path, pool):
    from htr_desktop.export import batch
    from htr_desktop.reading import Cancelled, ChunkedRecognizer

    files = []
    for i in range(6):
        files.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(files[-1]), render_text(WORDS[i]))
    for count in (6, 5):  # 5: the last file is read in this process, its line on the workers
        done = []
        with pytest.raises(Cancelled):
            batch(files[:count], tmp_path / f"out{count}", "txt",
                  ChunkedRecognizer(pool, should_stop=lambda done=done: len(done) >= 2),
                  layout="line", on_file=lambda i, n, done=done: done.append(i))
        assert len(list((tmp_path / f"out{count}").glob("*.txt"))) <= 2


def test_alternatives_come_from_the_n_best_then_the_word_list(pool):
    from model.recognizer import Word

    word = Word("hause", 0.4, ("horse", "hause"))
    local = Recognizer.load(decoder="greedy")
    assert local.alternatives(word) == pool.alternatives(word)
    options = pool.alternatives(word, limit=4)
    assert options[0] == "horse" and "house" in options and "hause" not in options and len(options) == 4


FORKED = """
import json, os, sys, time
from model.pool import RecognizerPool
from model.recognizer import Recognizer
from tests.conftest import render_text

def read(recognizer, word):
    time.sleep(0.05)  # long enough for the worker to take the first items
    if word == "bad":
        raise ValueError("bad item")
    return os.getpid(), recognizer.recognize([render_text(word)])[0].text

words = json.loads(sys.argv[1])
out = {"texts": [p.text for p in Recognizer.load(decoder="greedy").recognize([render_text(w) for w in words])]}
with RecognizerPool(decoder="greedy", workers=2, fork=True) as pool:
    out["own"] = pool._own is not None and pool.local is None
    pool.start()
    got = list(pool.map(read, words))
    out["pool"] = [t for _, t in got]
    out["pids"] = sorted({p for p, _ in got} - {os.getpid()}) + [os.getpid() in {p for p, _ in got}]
    out["recognize"] = [p.text for p in pool.recognize([render_text(w) for w in words])]
    out["two"] = [pid == os.getpid() for pid, _ in pool.map(read, words[:2])]  # long items: one each
    for bad in (0, len(words) - 1):  # the first item goes to the worker, the last to this process
        seen = []
        try:
            for _, text in pool.map(read, words[:bad] + ["bad"] + words[bad + 1:]):
                seen.append(text)
        except ValueError as exc:
            out.setdefault("errors", []).append([len(seen), str(exc)])
print(json.dumps(out))
"""


def test_forked_workers_and_this_process_share_the_work_in_order():
    """fork=True: the CLI's pool loads the model once, forks a worker and reads the last items itself."""
    out = subprocess.run([sys.executable, "-c", FORKED, json.dumps(WORDS)], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["own"]
    assert result["pool"] == result["recognize"] == result["texts"]
    assert len(result["pids"]) == 2 and result["pids"][-1] is True  # one worker process, and this one
    assert result["two"] == [False, True]  # the worker reads the first, this process the second
    assert result["errors"] == [[0, "bad item"], [len(WORDS) - 1, "bad item"]]


def test_no_fork_while_other_threads_run():
    import threading

    from model.pool import can_fork

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        thread.join()


def test_a_page_on_the_pool_reads_as_in_one_process(pool):
    """Its lines are read by the workers while this process maps their boxes: the same result."""
    from htr_desktop.reading import ChunkedRecognizer
    from model.page import clear_cache, read_page
    from training.pages import EVAL_STYLE, compose_page, text_source

    page = compose_page(text_source(seed=5), EVAL_STYLE, seed=101).image
    clear_cache()
    expected = read_page(page, Recognizer.load(decoder="greedy"))
    assert len(expected.lines) >= 5
    progress = []
    assert read_page(page, ChunkedRecognizer(pool, on_progress=lambda *p: progress.append(p))) == expected
    n = len(expected.lines)
    assert progress[-1] == (n, n) and len(progress) > 1 and progress == sorted(progress)


def test_cancel_stops_the_lines_of_a_page_on_the_pool(pool):
    from htr_desktop.reading import Cancelled, ChunkedRecognizer

    seen = []
    chunked = ChunkedRecognizer(pool, should_stop=lambda: bool(seen), on_progress=lambda *p: seen.append(p))
    with pytest.raises(Cancelled):
        chunked.recognize([render_text(w) for w in WORDS * 3])
    assert len(seen) == 1 and seen[0][0] < len(WORDS) * 3
