"""What a running `pixtag serve` logs about requests: the access log and parser refusals."""

import json
import re
import socket
import urllib.request

from tests.processes import ServeProcess, pixtag_env, wait_until

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
