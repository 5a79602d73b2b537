package dev.edgesam

import java.util.Collections
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The progress of the async encodes: one report per step of the encoder, counting up from 0 to
 * `done == total` before the call returns; and a token cancelled from the listener stops it.
 */
class EncodeProgressTest {
    private val model = Fixtures.model

    /** Every report, from whichever worker thread sends it. */
    private class Recorder(private val onEach: (StepProgress) -> Unit = {}) : ProgressListener {
        val seen: MutableList<StepProgress> = Collections.synchronizedList(mutableListOf())
        override fun onProgress(progress: StepProgress) {
            seen += progress
            onEach(progress)
        }

        fun snapshot(): List<StepProgress> = synchronized(seen) { seen.toList() }
    }

    private fun assertCountsUpToTheTotal(seen: List<StepProgress>) {
        assertTrue(seen.size > 2, "reports: $seen")
        val total = seen.first().total
        assertTrue(seen.all { it.total == total }, "one total: $seen")
        assertEquals(0, seen.first().done, "the first report is before the first step")
        assertEquals(total, seen.last().done, "the last report is done == total")
        assertTrue(seen.zipWithNext().all { (a, b) -> b.done > a.done }, "done only increases: ${seen.map { it.done }}")
    }

    @Test
    fun `encodeImageAsync and encodePixelsAsync report every step up to done == total`() {
        val bytes = Fixtures.embedding.toBytes()
        val fromFile = Recorder()
        assertArrayEquals(bytes, runBlocking { model.encodeImageAsync(Fixtures.photoPng, fromFile) }.toBytes())
        assertCountsUpToTheTotal(fromFile.snapshot())

        val stored = Fixtures.storedRight(Fixtures.photo)
        val fromPixels = Recorder()
        val embedding = runBlocking {
            model.encodePixelsAsync(
                Fixtures.rgba(stored, stored.width * 4), stored.width, stored.height, stored.width * 4,
                PixelFormat.RGBA8, Orientation.RIGHT, fromPixels,
            )
        }
        assertArrayEquals(bytes, embedding.toBytes())
        // The same encoder graph: the same steps, whatever the photo.
        assertEquals(fromFile.snapshot(), fromPixels.snapshot())
    }

    @Test
    fun `a token cancelled from the listener stops the encode with Cancelled`() {
        CancellationToken().use { token ->
            val recorder = Recorder { if (it.done == 3) token.cancel() }
            assertThrows<EdgeSamException.Cancelled> {
                runBlocking { model.encodeImageAsync(Fixtures.photoPng, recorder, token) }
            }
            // The worker checks the token as soon as the listener returns: no step after it.
            val seen = recorder.snapshot()
            assertEquals(listOf(0, 1, 2, 3), seen.map { it.done })
            assertTrue(seen.last().done < seen.last().total)
        }
        // The model is fine afterwards.
        assertArrayEquals(Fixtures.embedding.toBytes(), runBlocking { model.encode(Fixtures.photoPng) }.toBytes())
    }
}
