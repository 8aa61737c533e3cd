// Figures of the Kotlin binding for docs/benchmarks.md, driven by scripts/bench-mobile.sh:
// the bootstrap of a salesperson's territory (a fresh phone's login and first sync), local
// writes while offline (a check-in; an activity with five lines), and memory over 10,000
// calls through the binding.

import lapak.mobile.*

fun percentile(sorted: List<Long>, p: Double): Long = sorted[((sorted.size - 1) * p).toInt()]

fun rssKb(): Long = java.io.File("/proc/self/status").readLines()
    .first { it.startsWith("VmRSS:") }.split(Regex("\\s+"))[1].toLong()

fun report(name: String, nanos: List<Long>) {
    val s = nanos.sorted()
    println("RESULT $name n=${s.size} p50_us=${percentile(s, 0.5) / 1000} p99_us=${percentile(s, 0.99) / 1000} max_us=${s.last() / 1000}")
}

suspend fun bench(server: String, dir: String, password: String) {
    val start = System.nanoTime()
    val phone = LapakClient.open("$dir/bench-phone", "kotlin bench")
    phone.login(server, SALESPERSON, password)
    phone.syncNow()
    val bootstrap = System.nanoTime() - start
    println("RESULT bootstrap_ms ${bootstrap / 1_000_000}")
    val outlet = phone.outlets("", null, 1u)[0]
    val here = Position(outlet.lat!!, outlet.lng!!, 10.0)
    val items = phone.itemsForOutlet(outlet.code, "", 5u)
    waitFor("OFFLINE")
    val lines = items.map { ActivityLine(it.sku, 2, 2_000) }
    repeat(200) { // warm-up
        phone.checkIn(AttendanceKind.CHECK_IN, outlet.code, here, emptyList())
    }
    val checkIns = (1..2000).map {
        val t = System.nanoTime()
        phone.checkIn(AttendanceKind.CHECK_IN, outlet.code, here, emptyList())
        System.nanoTime() - t
    }
    report("check_in", checkIns)
    val activities = (1..2000).map {
        val t = System.nanoTime()
        phone.recordActivity(NewActivity(ActivityKind.SELL_IN, outlet.code, "", "", lines, here, emptyList()))
        System.nanoTime() - t
    }
    report("activity_5_lines", activities)
    // Memory: 10,000 calls of reads and a status, after a warm-up of 1,000.
    suspend fun calls(n: Int) = repeat(n) {
        phone.status()
        phone.outlet(outlet.code)
        phone.draftOrder(outlet.code)
    }
    calls(1_000)
    System.gc(); Thread.sleep(200)
    val before = rssKb()
    calls(10_000)
    System.gc(); Thread.sleep(200)
    val after = rssKb()
    println("RESULT rss_kb_after_1000 $before")
    println("RESULT rss_kb_after_11000 $after")
    phone.close()
}
