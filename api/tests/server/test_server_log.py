"""What a running `pixtag serve` logs about requests: the access log and parser refusals."""

import json
import re
import socket
import urllib.request

import pytest

from pixtag.logs import redacted
from tests.support.processes import ServeProcess, pixtag_env, sql, wait_until

ACCESS = re.compile(
    r'^\S+ \S+ INFO pixtag\.access: 127\.0\.0\.1 "(\S+) (\S+)" (\d{3}) (\d+) (\d+\.\d)ms$',
    re.MULTILINE,
)


def serve(tmp_path, database_url, **settings: str) -> ServeProcess:
    return ServeProcess(
        *("--data-dir", str(tmp_path / "data"), "--database-url", database_url),
        log=tmp_path / "serve.log",
        env=pixtag_env(**settings),
    )


def fetch(url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def raw_exchange(port: int, *requests: bytes) -> bytes:
    """Send each request on one connection, one after the other; everything it got back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        received = b""
        for request in requests:
            sock.sendall(request)
            received += _read_response(sock)
        return received


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head, re.IGNORECASE).group(1))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return data


def test_access_log_has_one_line_per_request_with_status_bytes_and_latency(tmp_path, database_url):
    with serve(tmp_path, database_url) as server:
        server.start()
        status, created = fetch(f"{server.url}/images", {"filename": "a.jpg", "tags": ["x"]})
        assert status == 201
        image_id = json.loads(created)["image_id"]
        # Raw, to know every byte the server sent, headers included.
        found = raw_exchange(
            server.port, f"GET /images/{image_id} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        refused = raw_exchange(
            server.port, f"GET /images/{image_id}?x=1 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        missing = raw_exchange(server.port, b"GET /images/999 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert found.startswith(b"HTTP/1.1 200 ")
        assert refused.startswith(b"HTTP/1.1 400 ")
        assert missing.startswith(b"HTTP/1.1 404 ")
        assert fetch(f"{server.url}/health/live")[0] == 200
        assert fetch(f"{server.url}/health/ready")[0] == 200
        assert server.stop() == 0
    logged = [
        (method, path, int(status), int(size))
        for method, path, status, size, _ in ACCESS.findall(server.output())
    ]
    assert ("GET", f"/images/{image_id}", 200, len(found)) in logged
    # The path as sent, query included.
    assert ("GET", f"/images/{image_id}?x=1", 400, len(refused)) in logged
    assert ("GET", "/images/999", 404, len(missing)) in logged
    [(_, _, _, sent)] = [entry for entry in logged if entry[:3] == ("POST", "/images", 201)]
    assert sent > len(created)
    # Health probes that succeed come every few seconds and say nothing: not at INFO.
    assert not [entry for entry in logged if entry[1].startswith("/health/")]
    assert len([entry for entry in logged if entry[1] == "/images/999"]) == 1


def test_access_log_can_be_turned_off(tmp_path, database_url):
    with serve(tmp_path, database_url, PIXTAG_ACCESS_LOG="false") as server:
        server.start()
        assert fetch(f"{server.url}/images/999")[0] == 404
        assert server.stop() == 0
    assert "listening on" in server.output()
    assert "pixtag.access" not in server.output()


def test_requests_the_parser_refuses_are_one_warning_line_each_without_traceback(
    tmp_path, database_url
):
    refused = {
        # An unknown method on a kept-alive connection (the first request of a
        # connection that is not HTTP at all is aiohttp's DEBUG noise).
        "unknown method": [
            b"GET /images/999 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"FOO /images HTTP/1.1\r\nHost: x\r\n\r\n",
        ],
        "content-encoding": [
            b"POST /images HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        ],
        "smuggling": [
            b"POST /images HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Length: 5\r\n\r\n0\r\n\r\n"
        ],
    }
    with serve(tmp_path, database_url) as server:
        server.start()
        for requests in refused.values():
            answer = raw_exchange(server.port, *requests)
            assert len(re.findall(rb"HTTP/1\.[01] \d{3} ", answer)) == len(requests)
            assert b" 400 Bad Request\r\n" in answer
        wait_until(
            lambda: len(re.findall(r" WARNING aiohttp\.server: ", server.output())) == 3,
            within=10,
            what="three warnings",
        )
        assert server.stop() == 0
    output = server.output()
    assert "Traceback" not in output
    assert " ERROR " not in output
    warnings = re.findall(r"^.* WARNING aiohttp\.server: (.*)$", output, re.MULTILINE)
    assert warnings == [
        "Error handling request from 127.0.0.1: 400 Invalid method encountered",
        "Error handling request from 127.0.0.1: 400 Can not decode content-encoding:"
        " brotli (br). Please install `Brotli`",
        "Error handling request from 127.0.0.1: 400 Content-Length can't be present with"
        " Transfer-Encoding",
    ]


def split_response(answer: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """The status line, the headers (lower-cased names) and the body of one response."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *fields = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (f.partition(": ") for f in fields)}
    return status.encode(), headers, body


def exchange_until_closed(port: int, *requests: bytes) -> bytes:
    """Send the requests on one connection, one after the other; all it got until the server
    closed it (a socket timeout if the server never does)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        received = b""
        for request in requests:
            sock.sendall(request)
            received += _read_response(sock)
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_requests_the_parser_refuses_are_answered_as_problems_quoting_nothing_sent(
    tmp_path, database_url
):
    marker = "PROBE7f3a"
    refused = {
        "unknown method": (
            [b"GET /images/999 HTTP/1.1\r\nHost: x\r\n\r\n"],
            f"{marker} /images HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
            "the request's method is not a valid HTTP method",
        ),
        "malformed request line": (
            [],
            f"GET /images/{marker} HTTP/9.{marker}\r\nHost: x\r\n\r\n".encode(),
            "the request line is not valid HTTP/1.1",
        ),
        "bad header": (
            [],
            f"GET /images HTTP/1.1\r\nHost: x\r\nX-{marker} {marker}\r\n\r\n".encode(),
            "it is not valid HTTP/1.1",
        ),
        "header too long": (
            [],
            f"GET /images HTTP/1.1\r\nHost: x\r\nX-A: {marker * 1000}\r\n\r\n".encode(),
            "the request line or a header is too long",
        ),
        "content-encoding": (
            [],
            b"POST /images HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            "the body's Content-Encoding is not supported",
        ),
        "smuggling": (
            [],
            f"POST /images?{marker} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            "Content-Length: 5\r\n\r\n0\r\n\r\n".encode(),
            "it is not valid HTTP/1.1",
        ),
    }
    with serve(tmp_path, database_url) as server:
        server.start()
        for before, request, fault in refused.values():
            answer = exchange_until_closed(server.port, *before, request)
            # The refusal is the last response on the connection, which the server closed.
            *_, last = re.finditer(rb"HTTP/1\.[01] \d{3} ", answer)
            status, headers, body = split_response(answer[last.start() :])
            assert re.fullmatch(rb"HTTP/1\.[01] 400 Bad Request", status), answer
            assert headers["content-type"] == "application/problem+json; charset=utf-8"
            assert headers.get("connection", "close") == "close"
            assert int(headers["content-length"]) == len(body)
            problem = json.loads(body)
            assert problem == {
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": f"The request was refused before it was read: {fault}.",
                "error": f"The request was refused before it was read: {fault}.",
            }
            assert marker.encode() not in answer
            assert b"br" not in body
        assert server.stop() == 0
    assert "Traceback" not in server.output()


def test_a_server_error_before_the_application_names_nothing_of_it():
    from pixtag.protocol import detail

    assert detail(500, RuntimeError("secret internals")) == "The server met an unexpected error."
    assert detail(504, None) == "The server met an unexpected error."


def test_a_client_that_leaves_mid_upload_is_one_info_line_and_leaves_nothing(
    tmp_path, database_url
):
    boundary = "pixtagboundary"
    head = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="meta"\r\n'
            "Content-Type: application/json\r\n\r\n"
            '{"filename": "gone.png", "tags": []}\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="image"; filename="gone.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\x89PNG"
        + b"x" * 200_000
    )
    request = (
        "POST /images HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + 1_000_000}\r\n\r\n"
    ).encode() + head
    with serve(tmp_path, database_url) as server:
        server.start()
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(request)  # then leaves, 1 MB short of what it announced
        wait_until(
            lambda: server.log.read_text().count("client left") == 3,
            within=10,
            what="three lines for the clients that left",
        )
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log
    assert " 500 " not in log
    assert "ERROR" not in log
    lines = [line for line in log.splitlines() if "client left" in line]
    assert all(" INFO pixtag" in line and "POST /images" in line for line in lines), lines
    assert sql(database_url, "SELECT count(*) FROM images") == [(0,)]
    incoming = tmp_path / "data" / "media" / ".incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/images/1?tag=a%20b", "/images/1?tag=a%20b"),
        ("/s/T0K3N?password=pw", "/s/***?password=***"),
        ("/%73/T0K3N?pass%77ord=pw", "/s/***?pass%77ord=***"),
        ("/%2573/T0K3N", "/s/***"),
        ("/shares/T0K3N", "/shares/***"),
        ("/media/1/k.png?md5=sig&expires=9", "/media/1/k.png?md5=***&expires=9"),
        ("/images?ACCESS_TOKEN=pxt_abc&tag=x", "/images?ACCESS_TOKEN=***&tag=x"),
        ("/images?x=%70xt_abc", "/images?x=pxt_***"),
        ("/images/pxt_abc", "/images/pxt_***"),
        ("/s/T0K3N/%0aforged", "/s/***/\\nforged"),  # a decoded line break stays escaped
    ],
)
def test_the_access_log_redacts_secrets_on_the_decoded_target(target: str, logged: str):
    assert redacted(target) == logged
