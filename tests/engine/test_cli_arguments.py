"""Numbers given to the headless commands are checked by argparse: a clear one-line error, never a traceback."""

from __future__ import annotations

import pytest

from htr_desktop import adapt_cli, cli, serve

BAD = [
    (cli._parser, ["--pdf-dpi", "-5", "x.pdf"], "--pdf-dpi: -5 is out of range: it must be from 72 to 600"),
    (cli._parser, ["--pdf-dpi", "99999", "x.pdf"], "--pdf-dpi: 99999 is out of range"),
    (cli._parser, ["--threads", "-2", "x.png"], "--threads: -2 is out of range: it must be 1 or more"),
    (cli._parser, ["--workers", "0", "x.png"], "--workers: 0 is out of range: it must be 1 or more"),
    (cli._parser, ["--workers", "two", "x.png"], "--workers: 'two' is not a whole number"),
    (serve._parser, ["--port", "-1"], "--port: -1 is out of range: it must be from 0 to 65535"),
    (serve._parser, ["--port", "99999"], "--port: 99999 is out of range"),
    (serve._parser, ["--workers", "-3"], "--workers: -3 is out of range"),
    (adapt_cli._parser, ["--lines", "a", "--out", "b", "--minutes", "-1"], "--minutes: -1 is out of range"),
    (adapt_cli._parser, ["--lines", "a", "--out", "b", "--minutes", "nan"], "--minutes: nan is out of range"),
]


@pytest.mark.parametrize(("parser", "argv", "message"), BAD, ids=[" ".join(argv) for _, argv, _ in BAD])
def test_a_bad_number_is_refused_with_a_clear_message(capsys, parser, argv, message):
    with pytest.raises(SystemExit) as stop:
        parser().parse_args(argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_good_numbers_pass():
    args = cli._parser().parse_args(["--pdf-dpi", "300", "--threads", "2", "--workers", "1", "x.png"])
    assert (args.pdf_dpi, args.threads, args.workers) == (300, 2, 1)
    assert serve._parser().parse_args(["--port", "0"]).port == 0
    assert adapt_cli._parser().parse_args(["--lines", "a", "--out", "b", "--minutes", "0.5"]).minutes == 0.5


@pytest.mark.parametrize(("typed", "meant"), [("recognise", "recognize"), ("serv", "serve"), ("adpat", "adapt")])
def test_a_mistyped_command_is_named_not_opened_as_a_file(capsys, tmp_path, monkeypatch, typed, meant):
    from htr_desktop.__main__ import main

    monkeypatch.chdir(tmp_path)
    assert main([typed, "x.png"]) == 2
    assert capsys.readouterr().err.strip() == (f"htr-desktop: unknown command {typed!r} (did you mean {meant!r}?); "
                                               "see htr-desktop --help")


def test_no_display_is_one_clear_line_not_a_qt_abort(capsys, monkeypatch):
    from htr_desktop import __main__

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(__main__.sys, "platform", "linux")
    assert __main__.main(["letter.png"]) == 2
    assert "no display to open the window on" in capsys.readouterr().err
