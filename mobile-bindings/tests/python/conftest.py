"""A real lapak-server (the debug binary cargo built) on a free port, with a small demo
business, for the tests of the generated Python bindings."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
PASSWORD = "demo-pass-1"
ADMIN_PASSWORD = "admin-pass-1"


class Server:
    """The running server: its URL and its data directory (the SQLite file is read to check
    what reached the server)."""

    def __init__(self, url, data):
        self.url = url
        self.data = data
        self.database = os.path.join(data, "lapak.sqlite3")

    def login(self, username, password=PASSWORD):
        """An access token for `username` (as a separate device)."""
        body = {"username": username, "password": password,
                "device_id": str(uuid.uuid4()), "device_name": "pytest"}
        return call(self.url + "/v1/auth/login", body)["access_token"]

    def admin(self):
        return self.login("admin", ADMIN_PASSWORD)


def call(url, body=None, token=None, raw=False):
    """A request to the server: JSON in and out, or the raw bytes with `raw`."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET")
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as resp:
        content = resp.read()
    return content if raw else json.loads(content)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Starts `lapak-server serve --demo` (two branches, four salespeople) and yields it."""
    data = tmp_path_factory.mktemp("server")
    binary = os.path.join(TARGET, "debug", "lapak-server")
    if not os.path.exists(binary):
        pytest.fail(f"{binary} is missing: run `cargo build -p lapak-server` (scripts/test.sh does)")
    env = dict(os.environ, LAPAK_DEMO_PASSWORD=PASSWORD, LAPAK_ADMIN_PASSWORD=ADMIN_PASSWORD,
               RUST_LOG="warn")
    proc = subprocess.Popen(
        [binary, "serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir", str(data),
         "--branches", "2", "--terminals", "2", "--salespeople", "4", "--outlets", "200",
         "--items", "50", "--vouchers", "10", "--stocked-items", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url = None
    deadline = time.time() + 120
    seen = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"Health: (http://[^/\s]+)/healthz", line)
        if found:
            url = found.group(1)
            break
    if url is None:
        proc.kill()
        pytest.fail("lapak-server did not start:\n" + "".join(seen))
    yield Server(url, str(data))
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def lapak():
    """The generated module (scripts/bindings.sh puts it on PYTHONPATH)."""
    import lapak_mobile
    return lapak_mobile
