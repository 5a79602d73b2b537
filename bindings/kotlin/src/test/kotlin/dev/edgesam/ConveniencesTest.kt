package dev.edgesam

import dev.edgesam.Fixtures.assertSameSegmentation
import java.util.Collections
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
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
    fun `the size of an embedding and of a mask`() {
        assertEquals(ImageSize(Fixtures.WIDTH, Fixtures.HEIGHT), emb.size)
        assertEquals(emb.size, model.segment(emb, Fixtures.prompts[0]).mask.size)
        val tall = model.encodeImage(Fixtures.png(Fixtures.drawPhoto(120, 300)))
        assertEquals(ImageSize(120, 300), tall.size)
    }

    @Test
    fun `isEmpty agrees with the area`() {
        for ((i, prompt) in Fixtures.prompts.withIndex()) {
            val mask = model.segment(emb, prompt).mask
            assertEquals(mask.area() == 0L, mask.isEmpty, "prompt $i")
        }
        assertTrue(SegmentMask(3, 2, ByteArray(6)).isEmpty)
        assertFalse(SegmentMask(3, 2, byteArrayOf(0, 0, 0, 0, 9, 0)).isEmpty)
    }

    @Test
    fun `a ProgressListener from a lambda, and the fraction done`() {
        val seen = mutableListOf<StepProgress>()
        val listener = ProgressListener { seen += it }
        listener.onProgress(StepProgress(done = 1, total = 4))
        assertEquals(listOf(StepProgress(1, 4)), seen)
        assertEquals(0.25f, StepProgress(1, 4).fraction)
        assertEquals(1f, StepProgress(4, 4).fraction)
        assertEquals(0f, StepProgress(0, 0).fraction, "no total yet")
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
            // Defaults: tightly packed RGBA rows, upright.
            val rgba = Fixtures.rgba(Fixtures.photo, Fixtures.WIDTH * 4)
            assertArrayEquals(emb.toBytes(), model.encode(rgba, Fixtures.WIDTH, Fixtures.HEIGHT).toBytes())
            val padded = Fixtures.rgba(Fixtures.photo, Fixtures.WIDTH * 4 + 8)
            assertArrayEquals(
                emb.toBytes(),
                model.encode(padded, Fixtures.WIDTH, Fixtures.HEIGHT, rowStride = Fixtures.WIDTH * 4 + 8).toBytes(),
            )
            val sideways = Fixtures.rgba(Fixtures.storedRight(Fixtures.photo), Fixtures.HEIGHT * 4)
            assertArrayEquals(
                emb.toBytes(),
                model.encode(sideways, Fixtures.HEIGHT, Fixtures.WIDTH, orientation = Orientation.RIGHT).toBytes(),
            )
        }
        assertThrows<EdgeSamException.BadImage> { runBlocking { model.encode(ByteArray(0)) } }
        assertThrows<EdgeSamException.BadImage> { runBlocking { model.encode(ByteArray(16), -2, 2) } }
    }

    @Test
    fun `the suspend encodes pass their progress listener on`() {
        // What the reports say is EncodeProgressTest's.
        val rgba = Fixtures.rgba(Fixtures.photo, Fixtures.WIDTH * 4)
        for (encode in listOf<suspend (ProgressListener) -> ImageEmbedding>(
            { model.encode(Fixtures.photoPng, progress = it) },
            { model.encode(rgba, Fixtures.WIDTH, Fixtures.HEIGHT, progress = it) },
        )) {
            val seen = Collections.synchronizedList(mutableListOf<StepProgress>())
            runBlocking { encode(ProgressListener { seen += it }) }
            assertTrue(seen.isNotEmpty() && seen.last().let { it.done == it.total }, "reports: $seen")
        }
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
