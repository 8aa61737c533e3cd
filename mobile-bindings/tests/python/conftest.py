"""A real lapak-server (the debug binary cargo built) on a free port, with a small demo
business, for the tests of the generated Python bindings."""
import os
import re
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
PASSWORD = "demo-pass-1"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Starts `lapak-server serve --demo` (two branches, four salespeople) and yields its URL."""
    data = tmp_path_factory.mktemp("server")
    binary = os.path.join(TARGET, "debug", "lapak-server")
    if not os.path.exists(binary):
        pytest.fail(f"{binary} is missing: run `cargo build -p lapak-server` (scripts/test.sh does)")
    env = dict(os.environ, LAPAK_DEMO_PASSWORD=PASSWORD, RUST_LOG="warn")
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
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def lapak():
    """The generated module (scripts/bindings.sh puts it on PYTHONPATH)."""
    import lapak_mobile
    return lapak_mobile
