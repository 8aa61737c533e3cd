// Figures of the Kotlin binding for docs/benchmarks.md, driven by scripts/bench-mobile.sh:
// the bootstrap of a salesperson's territory (a fresh phone's login and first sync), local
// writes while offline (a check-in; an activity with five lines), and memory over 10,000
// calls through the binding.

import lapak.mobile.*

fun percentile(sorted: List<Long>, p: Double): Long = sorted[((sorted.size - 1) * p).toInt()]

fun rssKb(): Long = java.io.File("/proc/self/status").readLines()
    .first { it.startsWith("VmRSS:") }.split(Regex("\\s+"))[1].toLong()

fun gcCount(): Long = java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
    .sumOf { maxOf(it.collectionCount, 0L) }

/** One call's time, and whether the JVM collected garbage during it. */
class Timed(val nanos: Long, val gc: Boolean)

inline fun timed(call: () -> Unit): Timed {
    val gc = gcCount()
    val t = System.nanoTime()
    call()
    val took = System.nanoTime() - t
    return Timed(took, gcCount() != gc)
}

fun report(name: String, calls: List<Timed>) {
    val s = calls.map { it.nanos }.sorted()
    val quiet = calls.filter { !it.gc }.map { it.nanos }.sorted()
    println(
        "RESULT $name n=${s.size} p50_us=${percentile(s, 0.5) / 1000} p99_us=${percentile(s, 0.99) / 1000} " +
            "max_us=${s.last() / 1000} with_gc=${s.size - quiet.size} p99_without_gc_us=${percentile(quiet, 0.99) / 1000}"
    )
}

suspend fun bench(server: String, dir: String, password: String) {
    // Three fresh phones, the median reported (as the Rust side does); the last one goes on.
    val bootstraps = mutableListOf<Long>()
    lateinit var phone: LapakClient
    for (round in 1..3) {
        val start = System.nanoTime()
        phone = LapakClient.open("$dir/bench-phone-$round", "kotlin bench")
        phone.login(server, SALESPERSON, password)
        phone.syncNow()
        bootstraps.add((System.nanoTime() - start) / 1_000_000)
        if (round < 3) phone.close()
    }
    println("RESULT bootstrap_ms ${bootstraps.sorted()[1]} (of ${bootstraps.joinToString(", ")})")
    val outlet = phone.outlets("", null, 1u)[0]
    val here = Position(outlet.lat!!, outlet.lng!!, 10.0)
    val items = phone.itemsForOutlet(outlet.code, "", 5u)
    waitFor("OFFLINE")
    val lines = items.map { ActivityLine(it.sku, 2, 2_000) }
    // Warm-up: HotSpot compiles a method with its optimising compiler (C2) after some 10,000
    // calls; measured after only 1,000, the JIT is still compiling the binding's paths while
    // the writes are timed, and its pauses land in the p99.
    repeat(15_000) {
        phone.checkIn(AttendanceKind.CHECK_IN, outlet.code, here, emptyList())
        phone.recordActivity(NewActivity(ActivityKind.SELL_IN, outlet.code, "", "", lines, here, emptyList()))
    }
    val checkIns = (1..2000).map {
        timed { phone.checkIn(AttendanceKind.CHECK_IN, outlet.code, here, emptyList()) }
    }
    report("check_in", checkIns)
    val activities = (1..2000).map {
        timed { phone.recordActivity(NewActivity(ActivityKind.SELL_IN, outlet.code, "", "", lines, here, emptyList())) }
    }
    report("activity_5_lines", activities)
    // Memory: 10,000 calls of reads and a status, after a warm-up of 1,000.
    suspend fun calls(n: Int) = repeat(n) {
        phone.status()
        phone.outlet(outlet.code)
        phone.draftOrder(outlet.code)
    }
    // The heap is fixed (-Xms = -Xmx, scripts/bench-mobile.sh), so the resident size follows
    // native memory: the library's, and the JVM's own.
    calls(1_000)
    System.gc(); Thread.sleep(200)
    println("RESULT rss_kb_after_1000 ${rssKb()}")
    for (round in 1..3) {
        calls(10_000)
        System.gc(); Thread.sleep(200)
        println("RESULT rss_kb_after_${1_000 + round * 10_000} ${rssKb()}")
    }
    phone.close()
}
