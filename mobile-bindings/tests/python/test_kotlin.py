"""The salesperson's day from Kotlin: the generated Kotlin bindings are compiled with the
`kotlin-compiler` npm package's kotlinc and run on Java 17 with Debian's JNA against the real
server (mobile-bindings/tests/kotlin/Day.kt). This test owns the proxy that takes the phone
offline when the program asks, and checks what reached the server."""
import os
import sqlite3
import subprocess

import pytest

from conftest import ADMIN_PASSWORD, PASSWORD, ROOT, call
from proxy import Proxy

KOTLIN = os.path.join(ROOT, "mobile-bindings", "tests", "kotlin")


def kotlin_jar(tmp):
    """Compiles the generated bindings and the day into a jar (about a minute)."""
    kotlinc = os.path.join(KOTLIN, "node_modules", "kotlin-compiler", "bin", "kotlinc")
    if not os.path.exists(kotlinc):
        pytest.fail(f"{kotlinc} is missing: run `npm ci` in {KOTLIN} (scripts/test.sh does)")
    bindings = os.environ.get("LAPAK_BINDINGS", os.path.join(ROOT, "target", "bindings"))
    jar = os.path.join(tmp, "day.jar")
    sources = [os.path.join(bindings, "kotlin", "lapak", "mobile", "lapak_mobile.kt"),
               os.path.join(KOTLIN, "Day.kt"), os.path.join(KOTLIN, "Bench.kt")]
    subprocess.run([kotlinc, "-nowarn", "-cp", classpath(), "-d", jar] + sources,
                   check=True, capture_output=True, text=True)
    return jar


def classpath():
    lib = os.path.join(KOTLIN, "node_modules", "kotlin-compiler", "lib")
    return ":".join([os.environ.get("LAPAK_JNA_JAR", "/usr/share/java/jna.jar"),
                     os.path.join(lib, "kotlinx-coroutines-core-jvm.jar"),
                     os.path.join(lib, "kotlin-stdlib.jar")])


def test_a_salespersons_day_from_kotlin(server, tmp_path):
    try:
        jar = kotlin_jar(str(tmp_path))
    except subprocess.CalledProcessError as e:
        pytest.fail("kotlinc failed:\n" + e.stdout + e.stderr)
    proxy = Proxy(server.url)
    library = os.path.join(os.environ.get("LAPAK_BINDINGS", os.path.join(ROOT, "target", "bindings")), "python")
    proc = subprocess.Popen(
        ["java", f"-Djna.library.path={library}", "-cp", jar + ":" + classpath(), "DayKt",
         "day", proxy.url, server.url, str(tmp_path / "devices"), PASSWORD],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for line in proc.stdout:
        line = line.strip()
        if line == "OFFLINE":
            proxy.set_online(False)
            proc.stdin.write("ok\n"); proc.stdin.flush()
        elif line == "ONLINE":
            proxy.set_online(True)
            proc.stdin.write("ok\n"); proc.stdin.flush()
        elif line.startswith("RESULT "):
            key, *value = line.split()[1:]
            results[key] = value
    assert proc.wait(120) == 0, proc.stderr.read()
    order, total = results["order"]
    outlet = results["outlet"][0]
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True) as db:
        assert db.execute("SELECT total FROM order_submissions WHERE id = ?", (order,)).fetchall() == [(int(total),)]
        lines = db.execute("SELECT COUNT(*) FROM activities_lines l JOIN activities a ON a.id = l.parent_id "
                           "WHERE a.outlet = ? AND a.kind = 'sell_in'", (outlet,)).fetchall()
        assert lines == [(5,)]
    ref = results["photo"][0]
    admin = server.admin()
    photo = call(f"{server.url}/v1/admin/photos/{ref[7:]}", token=admin, raw=True)
    assert photo[:4] == b"\xff\xd8\xff\xe0" and len(photo) == 400_004
