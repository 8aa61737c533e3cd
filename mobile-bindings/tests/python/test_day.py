"""A salesperson's whole day through the generated Python bindings, against a real server:
the plan from the supervisor, visits offline from the first to the last (check-in, photos, the
outlet profile edited while the supervisor edits it too, activities, a survey, a draft order
edited over two visits and submitted, check-out), then back online: every entry reached the
server once, the photos' bytes are equal, both people's edits survive, and a salesperson of
another territory cannot fetch the photos."""
import asyncio
import datetime
import hashlib
import os
import sqlite3
import time
import urllib.error

import lapak_mobile as lm
import pytest

from conftest import PASSWORD, call
from proxy import Proxy

SALESPERSON = "s-jkt01001"
SUPERVISOR = "sup-jkt01"
OTHER_TERRITORY = "s-jkt01002"


def jpeg(size, seed):
    """Bytes a camera could have written: a JPEG header, then `size` bytes."""
    return b"\xff\xd8\xff\xe0" + hashlib.shake_256(seed.encode()).digest(size)


async def open_device(tmp_path, name, url, user):
    device = await lm.LapakClient.open(str(tmp_path / name), name)
    await device.login(url, user, PASSWORD)
    await device.sync_now()
    return device


async def sync_until_done(device, timeout=60):
    """Syncs until nothing waits: no change, no photo."""
    deadline = time.time() + timeout
    while True:
        try:
            await device.sync_now()
        except lm.LapakError.Offline:
            pass
        st = device.status()
        if st.pending == 0 and st.photos_pending == 0:
            return
        assert time.time() < deadline, f"still waiting: {st} {[(r.collection, r.code, r.message) for r in await device.rejections()]}"
        await asyncio.sleep(0.2)


def server_rows(server, sql, *args):
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True) as db:
        return db.execute(sql, args).fetchall()


def test_a_salespersons_day_offline_reaches_the_server_once(server, tmp_path):
    asyncio.run(day(server, tmp_path))


async def day(server, tmp_path):
    proxy = Proxy(server.url)
    phone = await open_device(tmp_path, "phone", proxy.url, SALESPERSON)
    boss = await open_device(tmp_path, "supervisor", server.url, SUPERVISOR)
    me = await phone.me()
    assert (me.role, me.territory) == ("salesperson", "T-JKT01-001")

    # The supervisor plans the day from the territory's outlets; the phone receives it.
    outlets = await phone.outlets("", None, 100)
    assert len(outlets) == 50 and all(o.territory == me.territory for o in outlets)
    first = outlets[0]
    here = lm.Position(lat=first.lat, lng=first.lng, accuracy_m=12.0)
    near = await phone.outlets("", here, 3)
    assert near[0].code == first.code and near[0].distance_m < 1.0
    assert [o.distance_m for o in near] == sorted(o.distance_m for o in near)
    found = await phone.outlets(first.name.split()[-1] + " " + first.code, None, 5)
    assert [o.code for o in found] == [first.code]
    a, b, c = near[0].code, near[1].code, near[2].code
    today = datetime.date.today().isoformat()
    plan = await boss.plan_day(SALESPERSON, today, [a, b, c])
    await boss.sync_now()
    await phone.sync_now()
    plan = await phone.call_plan(today)
    assert [v.outlet for v in plan.visits] == [a, b, c]

    items = await phone.items_for_outlet(a, "", 10)
    sku1, sku2 = items[0].sku, items[1].sku
    assert items[0].price and items[0].price > 0

    # Offline from the first visit to the last.
    proxy.set_online(False)
    with pytest.raises(lm.LapakError.Offline):
        await phone.sync_now()

    # Visit 1: check in with a photo; a check-in 100 km away is refused on the phone.
    pending = phone.status().pending
    far = lm.Position(lat=here.lat + 0.9, lng=here.lng, accuracy_m=10.0)
    with pytest.raises(lm.LapakError.Refused) as refused:
        await phone.check_in(lm.AttendanceKind.CHECK_IN, a, far, [])
    assert refused.value.code == "outside_territory" and "km" in refused.value.reason
    assert phone.status().pending == pending, "a refused check-in stores nothing"
    shop_front = jpeg(300_000, "shop front")
    ref1 = await phone.add_photo(shop_front)
    assert ref1 == "sha256:" + hashlib.sha256(shop_front).hexdigest()
    assert await phone.add_photo(shop_front) == ref1, "the same photo is kept once"
    with pytest.raises(lm.LapakError.Invalid):
        await phone.add_photo(b"<html>not a photo</html>")
    checkin = await phone.check_in(lm.AttendanceKind.CHECK_IN, a, here,
                                   [lm.NewPhoto(photo=ref1, caption="tampak depan")])
    assert checkin.warning is None

    # The outlet profile: the salesperson writes notes and a photo while the supervisor,
    # online elsewhere, writes other notes on the same profile.
    shelf = jpeg(500_000, "shelf")
    ref2 = await phone.add_photo(shelf)
    await phone.edit_outlet_profile(a, lm.ProfileEdit(phone="0812-555-0101", notes="Buka jam 8."))
    await phone.add_outlet_photo(a, ref2, "etalase")
    await boss.edit_outlet_profile(a, lm.ProfileEdit(contact_name="Bu Sari", notes="Pemilik ramah."))
    await boss.sync_now()

    # Activities, a survey, the draft order's first lines, the visit ticked.
    display = jpeg(200_000, "display")
    ref3 = await phone.add_photo(display)
    sellout = await phone.record_activity(lm.NewActivity(
        kind=lm.ActivityKind.SELL_OUT, outlet=a, program="", notes="stok rak penuh",
        lines=[lm.ActivityLine(sku=sku1, qty=12, amount=12 * 1000),
               lm.ActivityLine(sku=sku2, qty=3, amount=3 * 2000)],
        position=here, photos=[lm.NewPhoto(photo=ref3, caption="display")]))
    assert sellout.status == "pending" and len(sellout.photos) == 1
    with pytest.raises(lm.LapakError.Refused) as bad:
        await phone.record_activity(lm.NewActivity(
            kind=lm.ActivityKind.PROGRAM, outlet=a, program="", notes="", lines=[],
            position=here, photos=[]))
    assert bad.value.code == "missing_program"
    await phone.answer_survey(a, "display-check", [
        lm.SurveyAnswer(question="Rak bersih?", answer="ya"),
        lm.SurveyAnswer(question="Harga terpasang?", answer="tidak")])
    survey = await phone.answer_survey(a, "display-check", [
        lm.SurveyAnswer(question="Harga terpasang?", answer="ya")])
    assert [(x.question, x.answer) for x in survey.answers] == [("Rak bersih?", "ya"), ("Harga terpasang?", "ya")]
    await phone.set_order_line(a, sku1, 5)
    draft = await phone.set_order_line(a, sku2, 2)
    assert len(draft.lines) == 2
    await phone.mark_visit_done(plan.id, a, True)
    await phone.note_visit(plan.id, a, "pesan lagi minggu depan")
    await phone.check_in(lm.AttendanceKind.CHECK_OUT, a, here, [])

    # Meanwhile the supervisor reorders the rest of the day.
    await boss.reorder_visits(plan.id, [a, c, b])
    await boss.sync_now()

    # Visit 2: the draft order of outlet `a` is edited again (the owner phoned) and submitted.
    await phone.check_in(lm.AttendanceKind.CHECK_IN, c, here, [])
    await phone.record_activity(lm.NewActivity(
        kind=lm.ActivityKind.PROGRAM, outlet=c, program="PRG-RAMADAN", notes="", lines=[],
        position=here, photos=[]))
    draft = await phone.set_order_line(a, sku1, 8)
    expected_total = sum(l.qty * l.price for l in draft.lines)
    assert draft.total == expected_total and {l.sku: l.qty for l in draft.lines} == {sku1: 8, sku2: 2}
    order_id = await phone.submit_order(a)
    assert await phone.draft_order(a) is None
    await phone.mark_visit_done(plan.id, c, True)
    await phone.check_in(lm.AttendanceKind.CHECK_OUT, c, here, [])
    assert phone.status().photos_pending == 3

    # Back online: everything goes, once.
    proxy.set_online(True)
    await sync_until_done(phone)
    await boss.sync_now()
    assert await phone.rejections() == []

    rows = lambda sql, *a: server_rows(server, sql, *a)
    assert rows("SELECT kind, outlet FROM attendance WHERE user = ? ORDER BY at", SALESPERSON) == [
        ("check_in", a), ("check_out", a), ("check_in", c), ("check_out", c)]
    assert rows("SELECT kind, program FROM activities WHERE salesperson = ? ORDER BY at", SALESPERSON) == [
        ("sell_out", None), ("program", "PRG-RAMADAN")]
    assert rows("SELECT id, total FROM order_submissions WHERE outlet = ?", a) == [(str(order_id), expected_total)]
    assert rows("SELECT COUNT(*) FROM draft_orders WHERE outlet = ?", a) == [(0,)]
    assert rows("SELECT COUNT(*) FROM surveys WHERE outlet = ?", a) == [(1,)]

    # The photos' bytes on the server are the phone's.
    admin = server.admin()
    for ref, original in [(ref1, shop_front), (ref2, shelf), (ref3, display)]:
        got = call(f"{server.url}/v1/admin/photos/{ref[7:]}", token=admin, raw=True)
        assert got == original
    listed = call(f"{server.url}/v1/admin/records/outlet_profiles/{a}/photos", token=admin)
    assert [(p["ref"], p["caption"], p["stored"]) for p in listed["photos"]] == [(ref2, "etalase", True)]

    # Both people's edits survive, on both devices.
    for device in (phone, boss):
        profile = await device.outlet_profile(a)
        assert "Buka jam 8." in profile.notes and "Pemilik ramah." in profile.notes, profile.notes
        assert (profile.phone, profile.contact_name) == ("0812-555-0101", "Bu Sari")
        assert [p.photo for p in profile.photos] == [ref2]
    merged = await boss.call_plan_of(SALESPERSON, today)
    assert [(v.outlet, v.done) for v in merged.visits] == [(a, True), (c, True), (b, False)]
    assert merged.visits[0].note == "pesan lagi minggu depan"

    # The supervisor's phone fetches a photo it did not take; another territory cannot.
    assert await boss.photo(ref1) == shop_front
    other = await open_device(tmp_path, "other", server.url, OTHER_TERRITORY)
    assert await other.photo(ref1) is None
    token = server.login(OTHER_TERRITORY)
    with pytest.raises(urllib.error.HTTPError) as denied:
        call(f"{server.url}/v1/photos/{ref1[7:]}", token=token, raw=True)
    assert denied.value.code == 404
    for device in (phone, boss, other):
        await device.logout()
