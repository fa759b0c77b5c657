"""``htr-desktop serve``: real HTTP requests to a server started by the test."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import cv2
import pytest

from htr_desktop.serve import MAX_BODY, is_loopback
from tests.conftest import render_text


@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen([sys.executable, "-m", "htr_desktop", "serve", "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(proc.stdout.readline())
        url = urlsplit(first["url"])
        assert url.hostname == "127.0.0.1"
        yield url.hostname, url.port, first["token"]
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
        assert "Traceback" not in proc.stderr.read()


def request(server, method, path, body=b"", headers=None, token=True):
    host, port, tok = server
    conn = http.client.HTTPConnection(host, port, timeout=120)
    hdrs = dict(headers or {})
    if token is True:
        hdrs["Authorization"] = f"Bearer {tok}"
    elif token:
        hdrs["Authorization"] = token
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data) if data else None


def multipart(field, filename, data):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture(scope="module")
def line_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "line.png"
    cv2.imwrite(str(path), render_text("hello world"))
    return path


def cli_json(path, layout="auto"):
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--json", "--layout", layout, str(path)],
                         capture_output=True, text=True, timeout=180)
    return json.loads(out.stdout)


def test_health_needs_no_token(server):
    status, body = request(server, "GET", "/health", token=False)
    assert status == 200 and body["status"] == "ok" and body["model"]


def test_recognize_needs_the_token(server, line_file):
    data = line_file.read_bytes()
    assert request(server, "POST", "/recognize", data, token=False)[0] == 401
    assert request(server, "POST", "/recognize", data, token="Bearer wrong")[0] == 401
    assert request(server, "POST", "/recognize", data, token="Basic abc")[0] == 401
    status, body = request(server, "POST", "/recognize", data, headers={"Origin": "http://example.org"})
    assert status == 403 and "web pages" in body["error"]


def test_raw_body_and_multipart_answer_the_cli_json(server, line_file):
    expected = cli_json(line_file, "line")
    status, raw = request(server, "POST", "/recognize?layout=line", line_file.read_bytes())
    assert status == 200
    assert {k: v for k, v in raw.items() if k != "path"} == {k: v for k, v in expected.items() if k != "path"}
    body, headers = multipart("image", "line.png", line_file.read_bytes())
    status, form = request(server, "POST", "/recognize?layout=line", body, headers)
    assert status == 200 and form["path"] == "line.png"
    assert {k: v for k, v in form.items() if k != "path"} == {k: v for k, v in expected.items() if k != "path"}


def test_page_xml_and_alto_like_the_cli(server, line_file, tmp_path):
    import xml.etree.ElementTree as ET

    for fmt, tag in (("page", "PcGts"), ("alto", "alto")):
        host, port, token = server
        conn = http.client.HTTPConnection(host, port, timeout=120)
        conn.request("POST", f"/recognize?layout=line&format={fmt}", body=line_file.read_bytes(),
                     headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        xml = resp.read()
        assert resp.status == 200 and resp.getheader("Content-Type").startswith("application/xml")
        root = ET.fromstring(xml)
        assert root.tag.endswith(tag)
        cmd = [sys.executable, "-m", "htr_desktop", "recognize", "--layout", "line", "--format", fmt,
               "--out", str(tmp_path / fmt), str(line_file)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr
        cli = ET.parse(tmp_path / fmt / "line.xml").getroot()
        words = [e.get("CONTENT") or (e.text or "") for e in root.iter() if e.tag.endswith(("String", "Unicode"))]
        cli_words = [e.get("CONTENT") or (e.text or "") for e in cli.iter() if e.tag.endswith(("String", "Unicode"))]
        assert words == cli_words and any(w.strip() for w in words)


def test_bad_requests_get_clear_errors(server, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    status, body = request(server, "POST", "/recognize", bad.read_bytes())
    assert status == 400
    cli_error = cli_json(bad)["error"]
    assert body["error"] == cli_error.replace("bad.png", "image")
    body_mp, headers = multipart("image", "bad.png", bad.read_bytes())
    assert request(server, "POST", "/recognize", body_mp, headers)[1]["error"] == cli_error
    assert request(server, "POST", "/recognize", b"")[0] == 400
    other, headers = multipart("file", "x.png", b"abc")
    assert request(server, "POST", "/recognize", other, headers)[0] == 400
    assert request(server, "POST", "/recognize?layout=poem", b"x")[0] == 400
    assert request(server, "POST", "/recognize?format=docx", b"x")[0] == 400
    assert request(server, "POST", "/recognize?format=alto", bad.read_bytes())[1]["error"] == body["error"]
    assert request(server, "GET", "/recognize")[0] == 405
    assert request(server, "GET", "/nothing")[0] == 404


def test_too_large_is_413_and_the_server_lives_on(server):
    host, port, token = server
    for body in (b"", b"\0" * (MAX_BODY + 1)):  # announced only, then really sent
        with socket.create_connection((host, port), timeout=60) as sock:
            sock.sendall(f"POST /recognize HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                         f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode())
            try:
                sock.sendall(body)
            except OSError:  # the server answered and closed before reading it all
                pass
            try:
                answer = sock.recv(200)
            except ConnectionResetError:  # the unread body made the kernel reset the connection after the answer
                assert body, "announcing a too large body must be answered with 413"
                continue
            assert answer.startswith(b"HTTP/1.1 413")
    assert request(server, "GET", "/health", token=False)[0] == 200


def test_load_200_requests_16_at_a_time_all_answer(server, line_file):
    data = line_file.read_bytes()
    with ThreadPoolExecutor(16) as ex:
        results = list(ex.map(lambda _: request(server, "POST", "/recognize?layout=line", data), range(200)))
    assert {status for status, _ in results} == {200}
    assert len({body["text"] for _, body in results}) == 1


def test_only_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "serve", "--host", "0.0.0.0"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "loopback" in out.stderr and "Traceback" not in out.stderr
