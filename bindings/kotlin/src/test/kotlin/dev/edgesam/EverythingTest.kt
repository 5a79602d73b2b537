package dev.edgesam

import java.util.Collections
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Everything mode from Kotlin: every automatic mask is the tap of its grid point, progress reaches
 * the listener and bad options are BadOptions. (Cancelling everythingAsync: CoroutinesTest.)
 */
class EverythingTest {
    private val model = Fixtures.model
    private val embedding = Fixtures.embedding

    /** Keeps every non-empty candidate of a small grid, so there is much to check. */
    private fun permissive(pointsPerSide: Int) =
        EverythingOptions(pointsPerSide = pointsPerSide, scoreThreshold = -1f, stabilityThreshold = 0f)

    private class Recorder : EverythingListener {
        val seen: MutableList<EverythingProgress> = Collections.synchronizedList(mutableListOf())
        override fun onProgress(progress: EverythingProgress) {
            seen.add(progress)
        }
    }

    @Test
    fun `every automatic mask is the tap of its grid point, largest first`() {
        val recorder = Recorder()
        val masks = model.everything(embedding, permissive(4), recorder)
        assertTrue(masks.isNotEmpty())
        assertEquals(16, recorder.seen.maxOf { it.pointsDone })
        assertTrue(recorder.seen.all { it.pointsTotal == 16 })
        for (m in masks) {
            val tap = model.segment(
                embedding,
                SegmentPrompt(points = listOf(PromptPoint(m.pointX, m.pointY)), maskIndex = m.candidate),
            )
            assertEquals(tap.mask, SegmentMask.fromCocoRle(m.rle), "point ${m.pointX},${m.pointY}")
            assertEquals(tap.mask.area(), m.area)
            assertEquals(tap.mask.boundingBox(), m.boundingBox)
            assertEquals(tap.scores[m.candidate], m.score)
        }
        assertEquals(masks.sortedByDescending { it.area }, masks)
    }

    @Test
    fun `bad options are BadOptions`() {
        val e = assertThrows<EdgeSamException.BadOptions> {
            model.everything(embedding, EverythingOptions(pointsPerSide = 0))
        }
        assertTrue(e.reason.contains("points_per_side"), e.reason)
        assertEquals(32, EverythingOptions().pointsPerSide)
    }
}
