package dev.edgesam

import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Everything mode from Kotlin: every automatic mask is the tap of its grid point, progress reaches
 * the listener, a cancelled coroutine stops the generation and bad options are BadOptions.
 */
class EverythingTest {
    private val model = Fixtures.model
    private val embedding = Fixtures.embedding

    /** Keeps every non-empty candidate of a small grid, so there is much to check. */
    private fun permissive(pointsPerSide: UInt) =
        EverythingOptions(pointsPerSide = pointsPerSide, scoreThreshold = -1f, stabilityThreshold = 0f)

    private class Recorder(val onEach: (EverythingProgress) -> Unit = {}) : EverythingListener {
        val seen: MutableList<EverythingProgress> = Collections.synchronizedList(mutableListOf())
        override fun onProgress(progress: EverythingProgress) {
            seen.add(progress)
            onEach(progress)
        }
    }

    @Test
    fun `every automatic mask is the tap of its grid point, largest first`() {
        val recorder = Recorder()
        val masks = model.everything(embedding, permissive(4u), recorder)
        assertTrue(masks.isNotEmpty())
        assertEquals(16u, recorder.seen.maxOf { it.pointsDone })
        assertTrue(recorder.seen.all { it.pointsTotal == 16u })
        for (m in masks) {
            val tap = model.segment(
                embedding,
                SegmentPrompt(points = listOf(PromptPoint(m.pointX, m.pointY)), maskIndex = m.candidate),
            )
            assertArrayEquals(tap.mask, SegmentMask.fromCocoRle(m.rle).bytes(), "point ${m.pointX},${m.pointY}")
            assertEquals(tap.area, m.area)
            assertEquals(tap.boundingBox, m.boundingBox)
            assertEquals(tap.scores[m.candidate], m.score)
        }
        assertEquals(masks.sortedByDescending { it.area }, masks)
    }

    @Test
    fun `cancelling the coroutine stops the generation and the model stays usable`() {
        val started = CountDownLatch(1)
        val recorder = Recorder { started.countDown() }
        runBlocking {
            val job = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                model.everythingAsync(embedding, permissive(8u), recorder)
            }
            assertTrue(started.await(60, TimeUnit.SECONDS), "no progress reported")
            val t0 = System.nanoTime()
            job.cancel()
            job.join()
            println("cancelled everythingAsync returned after ${(System.nanoTime() - t0) / 1e6} ms")
        }
        // The worker stops at its next point: far fewer than the grid's 64 reports arrive.
        Thread.sleep(500)
        assertTrue(recorder.seen.size < 64, "${recorder.seen.size} progress reports")
        assertTrue(model.everything(embedding, permissive(2u)).isNotEmpty())
    }

    @Test
    fun `bad options are BadOptions`() {
        val e = assertThrows<EdgeSamException.BadOptions> {
            model.everything(embedding, EverythingOptions(pointsPerSide = 0u))
        }
        assertTrue(e.reason.contains("points_per_side"), e.reason)
        assertEquals(32u, EverythingOptions().pointsPerSide)
    }
}
