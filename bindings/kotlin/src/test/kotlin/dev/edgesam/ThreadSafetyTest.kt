package dev.edgesam

import dev.edgesam.Fixtures.assertSameSegmentation
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/** 8. One SegmentAnything and one embedding shared by 8 threads give the serial answers. */
class ThreadSafetyTest {
    @Test
    fun `eight threads segmenting concurrently equal the serial results`() {
        val model = Fixtures.model
        val emb = Fixtures.embedding
        val prompts = Fixtures.prompts
        val serial = prompts.map { model.segment(emb, it) }

        val threads = 8
        val rounds = 2
        val pool = Executors.newFixedThreadPool(threads)
        val go = CountDownLatch(1)
        try {
            val futures = (0 until threads).map { t ->
                pool.submit<List<Pair<Int, Segmentation>>> {
                    go.await()
                    val out = mutableListOf<Pair<Int, Segmentation>>()
                    repeat(rounds) { r ->
                        // Each thread walks the prompts from a different start.
                        for (k in prompts.indices) {
                            val i = (t + r + k) % prompts.size
                            out += i to model.segment(emb, prompts[i])
                        }
                    }
                    out
                }
            }
            val start = System.nanoTime()
            go.countDown()
            val results = futures.map { it.get(120, TimeUnit.SECONDS) }
            println(
                "%d threads x %d segmentations in %.0f ms".format(
                    threads, rounds * prompts.size, (System.nanoTime() - start) / 1e6,
                ),
            )
            var checked = 0
            for ((t, list) in results.withIndex()) {
                for ((i, s) in list) {
                    assertSameSegmentation(serial[i], s, "thread $t prompt $i")
                    checked++
                }
            }
            assertEquals(threads * rounds * prompts.size, checked)
        } finally {
            pool.shutdownNow()
        }
    }
}
