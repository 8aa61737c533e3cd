"""The generated Python bindings against a real server: a salesperson's device opens its
store, logs in, syncs, and hears of status changes until it lets go of the subscription."""
import asyncio
import threading

import lapak_mobile
import pytest

from conftest import PASSWORD

SALESPERSON = "s-jkt01001"


class Recorder(lapak_mobile.StatusListener):
    """A StatusListener that keeps what it heard."""

    def __init__(self):
        self.heard = []
        self.event = threading.Event()

    def on_status(self, status):
        self.heard.append(status)
        self.event.set()


def test_a_device_logs_in_syncs_and_its_status_reaches_the_listener(server, lapak, tmp_path):
    async def day():
        client = await lapak.LapakClient.open(str(tmp_path / "phone"), "pytest phone")
        assert not client.status().signed_in
        recorder = Recorder()
        subscription = client.subscribe_status(recorder)
        await client.login(server.url, SALESPERSON, PASSWORD)
        report = await client.sync_now()
        assert report.pushed == 0
        status = client.status()
        assert status.signed_in and status.online and status.pending == 0
        assert status.last_sync is not None
        assert recorder.event.wait(5)
        assert any(s.signed_in for s in recorder.heard), recorder.heard
        subscription.cancel()
        await asyncio.sleep(0.1)  # a call under way when cancel was called may finish
        heard = len(recorder.heard)
        await client.logout()  # changes the status
        await asyncio.sleep(0.3)
        assert len(recorder.heard) == heard, "no call starts after cancel"
        assert not client.status().signed_in

    asyncio.run(day())


def test_a_wrong_password_is_unauthorized_and_an_absent_server_offline(server, lapak, tmp_path):
    async def tries():
        client = await lapak.LapakClient.open(str(tmp_path / "phone"), "pytest phone")
        with pytest.raises(lapak.LapakError.Unauthorized):
            await client.login(server.url, SALESPERSON, "not the password")
        with pytest.raises(lapak.LapakError.Offline) as offline:
            await client.login("http://127.0.0.1:9", SALESPERSON, PASSWORD)
        assert "cannot be reached" in str(offline.value)
        with pytest.raises(lapak.LapakError.NotSignedIn):
            await client.sync_now()

    asyncio.run(tries())
