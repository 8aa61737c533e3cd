"""A photo upload cut off half way, by an app killed in the middle of it, resumes from the
bytes the server holds when the app starts again, and the photo is stored once."""
import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys
import textwrap

import lapak_mobile as lm

from conftest import PASSWORD, call
from proxy import Proxy

SALESPERSON = "s-bdg01001"  # its own territory: the other tests' counts stay theirs
SIZE = 2_000_000

CHILD = textwrap.dedent('''
    import asyncio, hashlib, sys, time
    import lapak_mobile as lm

    async def main(directory, url, user, password):
        phone = await lm.LapakClient.open(directory, "phone")
        await phone.login(url, user, password)
        await phone.sync_now()
        photo = b"\\xff\\xd8\\xff\\xe0" + hashlib.shake_256(b"killed").digest(%d)
        ref = await phone.add_photo(photo)
        outlet = (await phone.outlets("", None, 1))[0].code
        await phone.record_activity(lm.NewActivity(
            kind=lm.ActivityKind.BRANCH, outlet=outlet, program="", notes="", lines=[],
            position=None, photos=[lm.NewPhoto(photo=ref, caption="")]))
        print(ref, flush=True)
        await phone.sync_now()  # held half way by the proxy; the test kills us
        time.sleep(3600)

    asyncio.run(main(*sys.argv[1:]))
''' % SIZE)


def stored_count(url):
    text = call(url + "/metrics", raw=True).decode()
    found = re.search(r"^(?:lapak_)?photos_stored_total (\d+)", text, re.M)
    return int(found.group(1)) if found else 0


def test_an_upload_killed_half_way_resumes_and_stores_the_photo_once(server, tmp_path):
    proxy = Proxy(server.url)
    proxy.hold_upload_after(SIZE // 2)
    directory = str(tmp_path / "phone")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, directory, proxy.url, SALESPERSON, PASSWORD],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        ref = child.stdout.readline().strip()
        assert ref.startswith("sha256:"), ref
        assert proxy.held.wait(60), "the upload never started"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    proxy.drop_all()
    before = stored_count(server.url)
    photo = b"\xff\xd8\xff\xe0" + hashlib.shake_256(b"killed").digest(SIZE)

    async def restart():
        phone = await lm.LapakClient.open(directory, "phone")
        assert phone.status().photos_pending == 1, "the photo still waits after the kill"
        report = None
        for _ in range(50):  # the server notices the cut connection within moments
            report = await phone.sync_now()
            if phone.status().photos_pending == 0:
                break
            await asyncio.sleep(0.1)
        assert phone.status().photos_pending == 0
        await phone.sync_now()
        await phone.logout()

    asyncio.run(restart())
    resumed = [o for o in proxy.upload_offsets[1:] if o > 0]
    assert resumed and resumed[0] <= SIZE // 2 + 4, proxy.upload_offsets
    assert stored_count(server.url) == before + 1, "stored once"
    admin = server.admin()
    assert call(f"{server.url}/v1/admin/photos/{ref[7:]}", token=admin, raw=True) == photo
