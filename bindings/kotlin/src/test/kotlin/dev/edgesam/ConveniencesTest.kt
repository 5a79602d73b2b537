package dev.edgesam

import dev.edgesam.Fixtures.assertSameSegmentation
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** 10. The hand-written helpers of Conveniences.kt. */
class ConveniencesTest {
    private val model = Fixtures.model
    private val emb = Fixtures.embedding

    @Test
    fun `prompt builders make the records they say`() {
        assertEquals(SegmentPrompt(points = listOf(PromptPoint(96f, 70f, true))), SegmentPrompt.point(96f, 70f))
        assertEquals(
            SegmentPrompt(points = listOf(PromptPoint(5f, 6f, false)), maskIndex = 2),
            SegmentPrompt.point(5f, 6f, positive = false, maskIndex = 2),
        )
        assertEquals(
            SegmentPrompt(points = listOf(PromptPoint(230f, 70f), PromptPoint(40f, 180f, positive = false))),
            SegmentPrompt.points(PromptPoint(230f, 70f), PromptPoint(40f, 180f, positive = false)),
        )
        assertEquals(SegmentPrompt(box = PromptBox(180f, 25f, 290f, 115f)), SegmentPrompt.box(180f, 25f, 290f, 115f))
        assertEquals(
            SegmentPrompt(box = PromptBox(1f, 2f, 3f, 4f), maskIndex = 0),
            SegmentPrompt.box(1f, 2f, 3f, 4f, maskIndex = 0),
        )
        // Built up step by step; the original is left alone.
        val start = SegmentPrompt.point(220f, 160f)
        val both = start.withBox(170f, 120f, 290f, 185f).withPoint(20f, 20f, positive = false)
        assertEquals(
            SegmentPrompt(
                points = listOf(PromptPoint(220f, 160f), PromptPoint(20f, 20f, positive = false)),
                box = PromptBox(170f, 120f, 290f, 185f),
            ),
            both,
        )
        assertEquals(SegmentPrompt.point(220f, 160f), start)
        // And they segment like the explicit records (Fixtures.prompts[0] and [4]).
        assertSameSegmentation(model.segment(emb, Fixtures.prompts[0]), model.segment(emb, SegmentPrompt.point(96f, 70f)))
        assertSameSegmentation(
            model.segment(emb, Fixtures.prompts[4]),
            model.segment(emb, SegmentPrompt.point(220f, 160f).withBox(170f, 120f, 290f, 185f)),
        )
    }

    @Test
    fun `the size of an embedding and of a segmentation`() {
        assertEquals(ImageSize(Fixtures.WIDTH, Fixtures.HEIGHT), emb.size)
        assertEquals(emb.size, model.segment(emb, Fixtures.prompts[0]).size)
        val tall = model.encodeImage(Fixtures.png(Fixtures.drawPhoto(120, 300)))
        assertEquals(ImageSize(120, 300), tall.size)
    }

    @Test
    fun `sameMaskAs compares the mask bytes, where == compares references`() {
        val a = model.segment(emb, Fixtures.prompts[0])
        val b = model.segment(emb, Fixtures.prompts[0])
        assertNotEquals(a, b, "generated equals compares ByteArray by reference (if this changes, sameMaskAs is moot)")
        assertTrue(a.sameMaskAs(b))
        assertTrue(a.sameAs(b))
        assertTrue(a.sameMaskAs(a.copy(mask = a.mask.copyOf(), score = -1f)), "only size and bytes count")
        assertFalse(a.sameAs(a.copy(mask = a.mask.copyOf(), score = -1f)), "sameAs also compares the scores")

        val flipped = a.mask.copyOf().also { it[it.size / 2] = (it[it.size / 2].toInt() xor 0xFF).toByte() }
        assertFalse(a.sameMaskAs(a.copy(mask = flipped)), "one pixel differs")
        assertFalse(a.sameMaskAs(a.copy(width = a.height, height = a.width)), "same bytes, another shape")

        val results = Fixtures.prompts.map { model.segment(emb, it) }
        for (i in results.indices) {
            for (j in results.indices) {
                assertEquals(results[i].mask.contentEquals(results[j].mask), results[i].sameMaskAs(results[j]), "prompts $i and $j")
            }
        }
    }

    @Test
    fun `contains and isEmpty agree with the mask bytes`() {
        for ((i, prompt) in Fixtures.prompts.withIndex()) {
            val s = model.segment(emb, prompt)
            var inside = 0L
            for (y in 0 until s.height) {
                for (x in 0 until s.width) {
                    val byte = s.mask[y * s.width + x].toInt() and 0xFF
                    assertEquals(byte == 255, s.contains(x, y), "prompt $i, ($x, $y)")
                    if (byte == 255) inside++
                }
            }
            assertEquals(s.area, inside, "prompt $i")
            assertEquals(inside == 0L, s.isEmpty, "prompt $i")
            for ((x, y) in listOf(-1 to 0, 0 to -1, s.width to 0, 0 to s.height, Int.MIN_VALUE to Int.MAX_VALUE)) {
                assertFalse(s.contains(x, y), "($x, $y) is outside the photo")
            }
        }
    }

    @Test
    fun `reason is the whole message of every case`() {
        val e = assertThrows<EdgeSamException.BadImage> { model.encodeImage(ByteArray(3)) }
        val asBase: EdgeSamException = e
        assertEquals(e.reason, asBase.reason)
        assertTrue(asBase.reason.startsWith("bad image: "), asBase.reason)
        val prompt: EdgeSamException = assertThrows<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt()) }
        assertTrue(prompt.reason.startsWith("bad prompt: "), prompt.reason)
        assertEquals("the call was cancelled", (EdgeSamException.Cancelled() as EdgeSamException).reason)
        assertEquals("boom", (EdgeSamException.Internal("boom") as EdgeSamException).reason)
    }

    @Test
    fun `suspend encode equals the blocking encoders`() {
        runBlocking {
            assertArrayEquals(emb.toBytes(), model.encode(Fixtures.photoPng).toBytes())
            // Defaults: tightly packed RGBA rows.
            val rgba = Fixtures.rgba(Fixtures.photo, Fixtures.WIDTH * 4)
            assertArrayEquals(emb.toBytes(), model.encode(rgba, Fixtures.WIDTH, Fixtures.HEIGHT).toBytes())
            val padded = Fixtures.rgba(Fixtures.photo, Fixtures.WIDTH * 4 + 8)
            assertArrayEquals(
                emb.toBytes(),
                model.encode(padded, Fixtures.WIDTH, Fixtures.HEIGHT, rowStride = Fixtures.WIDTH * 4 + 8).toBytes(),
            )
        }
        assertThrows<EdgeSamException.BadImage> { runBlocking { model.encode(ByteArray(0)) } }
        assertThrows<EdgeSamException.BadImage> { runBlocking { model.encode(ByteArray(16), -2, 2) } }
    }

    @Test
    fun `the suspend encodes pass their cancellation token on`() {
        // How a running call is cancelled is CoroutinesTest's.
        CancellationToken().use { token ->
            token.cancel()
            assertThrows<EdgeSamException.Cancelled> { runBlocking { model.encode(Fixtures.photoPng, cancellation = token) } }
            val rgba = Fixtures.rgba(Fixtures.photo, Fixtures.WIDTH * 4)
            assertThrows<EdgeSamException.Cancelled> {
                runBlocking { model.encode(rgba, Fixtures.WIDTH, Fixtures.HEIGHT, cancellation = token) }
            }
        }
    }
}
