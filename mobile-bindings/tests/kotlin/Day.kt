// A salesperson's whole day through the generated Kotlin bindings, driven by
// mobile-bindings/tests/python/test_kotlin.py against a real lapak-server. The test owns a proxy
// between the phone and the server: this program prints `OFFLINE` or `ONLINE` and waits for a
// line on stdin once the proxy has switched. It prints `RESULT key value` lines for the test to
// check against the server's tables, and exits non-zero on any failed check.
//
//   java -cp day.jar:jna.jar:coroutines.jar DayKt day <proxy-url> <server-url> <dir> <password>
//   java ... DayKt bench <server-url> <dir> <password>     (local write latencies, memory)

import kotlinx.coroutines.runBlocking
import lapak.mobile.*
import java.security.MessageDigest
import java.time.LocalDate

const val SALESPERSON = "s-jkt01002"
const val SUPERVISOR = "sup-jkt01"

fun check(ok: Boolean, what: () -> String) {
    if (!ok) throw IllegalStateException("check failed: " + what())
}

fun jpeg(size: Int, seed: String): ByteArray {
    val out = ByteArray(size + 4)
    out[0] = 0xFF.toByte(); out[1] = 0xD8.toByte(); out[2] = 0xFF.toByte(); out[3] = 0xE0.toByte()
    var block = MessageDigest.getInstance("SHA-256").digest(seed.toByteArray())
    var i = 4
    while (i < out.size) {
        for (b in block) { if (i < out.size) out[i++] = b }
        block = MessageDigest.getInstance("SHA-256").digest(block)
    }
    return out
}

fun waitFor(signal: String) {
    println(signal)
    System.out.flush()
    check(readLine() == "ok") { "the test did not answer $signal" }
}

suspend fun syncUntilDone(phone: LapakClient) {
    repeat(300) {
        try { phone.syncNow() } catch (e: LapakException.Offline) { }
        val st = phone.status()
        if (st.pending == 0UL && st.photosPending == 0UL) return
        Thread.sleep(200)
    }
    throw IllegalStateException("still waiting: ${phone.status()}")
}

suspend fun day(proxy: String, server: String, dir: String, password: String) {
    val phone = LapakClient.open("$dir/phone", "kotlin phone")
    val boss = LapakClient.open("$dir/boss", "kotlin supervisor")
    phone.login(proxy, SALESPERSON, password)
    boss.login(server, SUPERVISOR, password)
    phone.syncNow(); boss.syncNow()
    val me = phone.me()
    check(me.territory == "T-JKT01-002") { "territory ${me.territory}" }

    val outlets = phone.outlets("", null, 100u)
    val first = outlets.last()
    val here = Position(first.lat!!, first.lng!!, 10.0)
    val near = phone.outlets("", here, 2u)
    val (a, b) = near[0].code to near[1].code
    val today = LocalDate.now().toString()
    val plan = boss.planDay(SALESPERSON, today, listOf(a, b))
    boss.syncNow(); phone.syncNow()
    check(phone.callPlan(today)?.visits?.map { it.outlet } == listOf(a, b)) { "plan" }
    val items = phone.itemsForOutlet(a, "", 10u)

    waitFor("OFFLINE")
    try { phone.syncNow(); check(false) { "sync while offline" } } catch (e: LapakException.Offline) { }
    val front = jpeg(400_000, "kotlin front")
    val ref = phone.addPhoto(front)
    check(ref == "sha256:" + MessageDigest.getInstance("SHA-256").digest(front).joinToString("") { "%02x".format(it) }) { ref }
    try {
        phone.checkIn(AttendanceKind.CHECK_IN, a, Position(here.lat + 1.0, here.lng, 5.0), emptyList())
        check(false) { "a check-in 100 km away was taken" }
    } catch (e: LapakException.Refused) {
        check(e.code == "outside_territory") { e.code }
    }
    phone.checkIn(AttendanceKind.CHECK_IN, a, here, listOf(NewPhoto(ref, "depan")))
    phone.editOutletProfile(a, ProfileEdit(notes = "Kulkas baru.", phone = "0813-000"))
    boss.editOutletProfile(a, ProfileEdit(notes = "Bayar tunai.", contactName = "Pak Budi"))
    boss.syncNow()
    val lines = items.take(5).mapIndexed { i, it -> ActivityLine(it.sku, (i + 1).toLong(), (i + 1) * 1_000L) }
    phone.recordActivity(NewActivity(ActivityKind.SELL_IN, a, "", "", lines, here, listOf(NewPhoto(ref, "rak"))))
    phone.answerSurvey(a, "display-check", listOf(SurveyAnswer("Rak bersih?", "ya")))
    phone.setOrderLine(a, items[0].sku, 4)
    phone.markVisitDone(plan.id, a, true)
    phone.checkIn(AttendanceKind.CHECK_OUT, a, here, emptyList())
    phone.checkIn(AttendanceKind.CHECK_IN, b, here, emptyList())
    val draft = phone.setOrderLine(a, items[1].sku, 6)
    check(draft.lines.size == 2) { "draft ${draft.lines}" }
    val order = phone.submitOrder(a)
    phone.checkIn(AttendanceKind.CHECK_OUT, b, here, emptyList())
    waitFor("ONLINE")
    syncUntilDone(phone)
    boss.syncNow()
    val rejected = phone.rejections()
    check(rejected.isEmpty()) { "rejections $rejected" }
    val profile = boss.outletProfile(a)!!
    check(profile.notes.contains("Kulkas baru.") && profile.notes.contains("Bayar tunai.")) { profile.notes }
    check(profile.phone == "0813-000" && profile.contactName == "Pak Budi") { profile.toString() }
    check(boss.photo(ref)?.contentEquals(front) == true) { "photo bytes" }
    println("RESULT order $order ${draft.total}")
    println("RESULT outlet $a")
    println("RESULT photo $ref")
    phone.logout(); boss.logout()
    phone.close(); boss.close()
}

fun main(args: Array<String>) = runBlocking {
    when (args[0]) {
        "day" -> day(args[1], args[2], args[3], args[4])
        "bench" -> bench(args[1], args[2], args[3])
        else -> throw IllegalArgumentException("day or bench")
    }
    println("DONE")
}
