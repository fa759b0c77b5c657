"""``htr-desktop serve``: a local HTTP API for other programs, on loopback only, behind a bearer token.

Built on waitress (WSGI server) and Werkzeug (requests, multipart). ``POST /recognize`` takes the image as the
raw body or as the multipart field ``image`` and answers the CLI's JSON object; ``GET /health`` needs no token.
Recognition runs on the CLI's worker pool (one recognizer per core).
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import json
import logging
import secrets
import signal
import sys
import threading
from collections.abc import Iterable
from functools import partial
from typing import Any

from htr_desktop import __version__
from htr_desktop.arguments import int_range
from htr_desktop.cli import LAYOUTS, recognize_bytes
from model.decoder_config import CHOICES

log = logging.getLogger(__name__)

MAX_BODY = 50 * 1024 * 1024  # bytes; larger requests get 413
FORMATS = ("json", "page", "alto")  # the CLI's JSON, or the PAGE-XML / ALTO that `recognize --format` writes
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """True for a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Api:
    """The WSGI application: routing, token check, limits; recognition goes to ``pool``."""

    def __init__(self, pool: Any, token: str) -> None:
        self.pool = pool
        self.token = token
        self._local = threading.Lock()  # an in-process recognizer (one core) serves one request at a time

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Answer one WSGI request; every failure becomes a JSON error, never a crash."""
        from werkzeug.exceptions import HTTPException
        from werkzeug.wrappers import Request

        request = Request(environ)
        request.max_content_length = MAX_BODY
        request.max_form_memory_size = MAX_BODY
        try:
            response = self.dispatch(request)
        except HTTPException as exc:
            response = self.error(exc.code or 500, exc.description or exc.name)
        except Exception as exc:  # never take the server down
            log.exception("request failed")
            response = self.error(500, f"internal error: {exc}")
        return response(environ, start_response)

    @staticmethod
    def reply(body: dict[str, Any], status: int = 200) -> Any:
        """A JSON response."""
        from werkzeug.wrappers import Response

        return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    def error(self, status: int, message: str) -> Any:
        """A JSON error response ``{"error": message}``."""
        response = self.reply({"error": message}, status)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="htr-desktop"'
        return response

    def dispatch(self, request: Any) -> Any:
        """Route one request."""
        if request.path == "/health":
            if request.method not in ("GET", "HEAD"):
                return self.error(405, "use GET /health")
            return self.reply({"status": "ok", "app": __version__, "model": self.pool.version})
        if request.path != "/recognize":
            return self.error(404, "unknown path: use POST /recognize or GET /health")
        if request.headers.get("Origin"):  # a web page in a browser: never, whatever it sends
            return self.error(403, "requests from web pages are not accepted")
        given = request.headers.get("Authorization", "")
        if not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), self.token)):
            return self.error(401, "missing or wrong token: send 'Authorization: Bearer <token>'")
        if request.method != "POST":
            return self.error(405, "use POST /recognize")
        return self.recognize(request)

    def recognize(self, request: Any) -> Any:
        """``POST /recognize?layout=...&format=...`` with the image as the body or the multipart field ``image``."""
        layout = request.args.get("layout", "auto")
        fmt = request.args.get("format", "json")
        if layout not in LAYOUTS:
            return self.error(400, f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
        if fmt not in FORMATS:
            return self.error(400, f"format {fmt!r} is not available: use one of {', '.join(FORMATS)}")
        if (request.content_length or 0) > MAX_BODY:
            return self.error(413, f"the request is larger than {MAX_BODY // (1024 * 1024)} MB")
        name, data = self.image_of(request)
        if not data:
            return self.error(400, "no image: send it as the request body or as the multipart field 'image'")
        job = partial(recognize_bytes, layout=layout) if fmt == "json" else partial(recognize_xml, layout=layout,
                                                                                   fmt=fmt)
        if getattr(self.pool, "local", None) is not None:
            with self._local:
                result = next(self.pool.map(job, [(name, data)]))
        else:
            result = next(self.pool.map(job, [(name, data)]))
        if "xml" in result:
            from werkzeug.wrappers import Response

            return Response(result["xml"], mimetype="application/xml", headers={"Cache-Control": "no-store"})
        return self.reply(result, 400 if "error" in result else 200)

    @staticmethod
    def image_of(request: Any) -> tuple[str, bytes]:
        """The uploaded image: (file name, bytes)."""
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("image")
            if upload is None:
                return "image", b""
            return upload.filename or "image", upload.read()
        return "image", request.get_data(cache=False)


def recognize_xml(recognizer: Any, item: tuple[str, bytes], layout: str, fmt: str) -> dict[str, Any]:
    """PAGE-XML or ALTO of one single-page image: ``{"xml": text}``, or the CLI's error object."""
    from htr_desktop.cli import _named
    from htr_desktop.export_xml import to_alto, to_page_xml
    from htr_desktop.reading import region_from_line
    from htr_desktop.regions import Page
    from model.imageio import ImageError, decode_pages
    from model.page import read_image

    path, data = item
    try:
        grays = decode_pages(data, path)
    except ImageError as exc:
        return {"path": path, "error": _named(path, str(exc))}
    if len(grays) != 1:
        return {"path": path, "error": f"{path}: {len(grays)} pages; {fmt} answers one page: send pages one by one "
                                       "or use format=json"}
    _, result = read_image(grays[0], recognizer, layout)
    page = Page(name=path, gray=grays[0], source=path, regions=[region_from_line(ln) for ln in result.lines])
    return {"xml": (to_page_xml if fmt == "page" else to_alto)(page, recognizer.info.version)}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="htr-desktop serve", description="A local HTTP API (loopback only, token).")
    p.add_argument("--port", type=int_range(0, 65535), default=0,
                   help="TCP port (default: any free port; the URL is printed)")
    p.add_argument("--host", default="127.0.0.1", help="a loopback address (127.0.0.1 or ::1); nothing else")
    p.add_argument("--model", help="a model bundle folder (default: the bundled model)")
    p.add_argument("--decoder", choices=CHOICES,
                   help="override the model's decoder (beam+lm+words+widths: most accurate, about 1.7x the time)")
    p.add_argument("--workers", type=int_range(1), help="recognition worker processes (default: one per core)")
    return p


def run_serve(argv: list[str]) -> int:
    """Serve until interrupted; exit 2 for a non-loopback address or an unusable model."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    if not is_loopback(args.host):
        print(f"htr-desktop serve: refusing to listen on {args.host}: only loopback addresses "
              "(127.0.0.1, ::1, localhost) are allowed", file=sys.stderr)
        return 2
    from model.bundle import ModelError
    from model.pool import RecognizerPool

    try:
        pool = RecognizerPool(args.model, decoder=args.decoder, workers=args.workers)
    except (ModelError, ValueError) as exc:
        print(f"htr-desktop serve: model unavailable: {exc}", file=sys.stderr)
        return 2
    try:
        pool.start()
        return _serve(pool, args.host, args.port)
    except ModelError as exc:
        print(f"htr-desktop serve: model unavailable: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"htr-desktop serve: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})", file=sys.stderr)
        return 2
    finally:
        pool.close()


def _serve(pool: Any, host: str, port: int) -> int:
    from waitress import create_server

    token = secrets.token_urlsafe(32)
    server = create_server(Api(pool, token), host=host, port=port, threads=max(4, 2 * pool.workers),
                           max_request_body_size=MAX_BODY, ident="htr-desktop", clear_untrusted_proxy_headers=True)
    bound = server.effective_host if hasattr(server, "effective_host") else host
    url_host = f"[{bound}]" if ":" in str(bound) else bound
    signals: list[int] = []

    def stop(signum: int, _: object) -> None:
        signals.append(signum)
        raise KeyboardInterrupt  # waitress's run() ends on it

    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, stop)
    try:
        print(json.dumps({"url": f"http://{url_host}:{server.effective_port}", "token": token}), flush=True)
        server.run()
    except KeyboardInterrupt:
        signals.append(signal.SIGINT)
    finally:
        server.close()
    if signal.SIGINT in signals:  # Ctrl+C: one line and 130; SIGTERM (a service manager) is an ordinary stop
        from htr_desktop.interrupt import report

        return report("serve", "; the server stopped")
    return 0
