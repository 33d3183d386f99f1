"""How long a client command takes end to end, with hyperfine (bench/RESULTS.md, "Command line").

Starts ``pixtag serve`` on a fresh data directory (or uses ``--url``), stores
306 small images, then times with hyperfine: ``python -c pass`` (the floor),
curl, ``pixtag show``, ``pixtag ls`` (306 rows), ``pixtag --version``; with
``--against DIR`` the same commands with the code of another checkout (its
``api`` first on PYTHONPATH). Prints the load average before and after, as
the machine is shared.

    .venv/bin/python bench/cli_start.py [--runs 30] [--against /path/to/checkout]
"""

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PIXTAG = str(Path(sys.executable).with_name("pixtag"))
ROWS = 306


def store_images(url: str) -> None:
    for i in range(ROWS):
        image = Image.new("RGB", (8, 6), (i % 256, (i * 7) % 256, 3))
        image.putpixel((0, 0), (i // 256, i % 256, 9))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        meta = json.dumps({"filename": f"p{i}.png", "tags": ["bench", f"t{i % 5}"]}).encode()
        body = (
            b'--b\r\nContent-Disposition: form-data; name="meta"\r\n'
            b"Content-Type: application/json\r\n\r\n" + meta + b"\r\n--b\r\n"
            b'Content-Disposition: form-data; name="image"; filename="x"\r\n\r\n'
            + buffer.getvalue()
            + b"\r\n--b--\r\n"
        )
        request = urllib.request.Request(
            f"{url}/images", data=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            resp.read()


def wait_for(url: str, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(f"{url}/images?limit=1", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", help="a running server holding the images (else one is started)")
    parser.add_argument("--port", type=int, default=18471)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    if shutil.which("hyperfine") is None:
        sys.exit("error: hyperfine is not installed (apt-get install -y hyperfine)")
    server = None
    data = Path(tempfile.mkdtemp(prefix="pixtag-cli-bench-"))
    url = args.url
    if url is None:
        url = f"http://127.0.0.1:{args.port}"
        server = subprocess.Popen(
            [PIXTAG, "serve", "--port", str(args.port), "--data-dir", str(data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        wait_for(url)
        if server is not None:
            store_images(url)
        image = f"{url}/images/7"
        checkouts = {"this tree": ROOT / "api"}
        if args.against:
            checkouts["against"] = args.against.resolve() / "api"
        commands = [("python -c pass", f"{sys.executable} -c pass"), ("curl", f"curl -s {image}")]
        for name, api in checkouts.items():
            env = f"env PYTHONPATH={api}"
            commands += [
                (f"{name}: pixtag show 7", f"{env} {PIXTAG} --url {url} show 7"),
                (f"{name}: pixtag ls ({ROWS} rows)", f"{env} {PIXTAG} --url {url} ls"),
                (f"{name}: pixtag --version", f"{env} {PIXTAG} --version"),
            ]
        hyperfine = ["hyperfine", "-N", "-w", "3", "-r", str(args.runs), "--style", "basic"]
        hyperfine += ["--export-json", str(data / "hyperfine.json")]
        for name, command in commands:
            hyperfine += ["-n", name, command]
        print("load average before:", os.getloadavg())
        subprocess.run(hyperfine, check=True, stdout=subprocess.DEVNULL)
        print("load average after: ", os.getloadavg())
        results = json.loads((data / "hyperfine.json").read_text())["results"]
        print("| command | median | min | mean | user+sys CPU |\n|---|---|---|---|---|")
        for r in results:
            cpu = (r["user"] + r["system"]) * 1000
            print(f"| {r['command']} | {r['median'] * 1000:.0f} ms | {r['min'] * 1000:.0f} ms"
                  f" | {r['mean'] * 1000:.0f} ms | {cpu:.0f} ms |")  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(60)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
