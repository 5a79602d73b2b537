package dev.edgesam

import dev.edgesam.Fixtures.argmax
import dev.edgesam.Fixtures.assertConsistent
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** 3. Masks from a point, a box and both: shape, bytes, area, box and the choice of candidate. */
class SegmentTest {
    private val model = Fixtures.model
    private val emb = Fixtures.embedding

    @Test
    fun `a point picks the best scoring candidate`() {
        val s = model.segment(emb, SegmentPrompt(points = listOf(PromptPoint(96f, 70f))))
        assertConsistent(s)
        assertEquals(argmax(s.scores), s.maskIndex, "with points the best score wins: ${s.scores}")
    }

    @Test
    fun `a box alone picks candidate 0`() {
        val s = model.segment(emb, SegmentPrompt(box = PromptBox(180f, 25f, 290f, 115f)))
        assertConsistent(s)
        assertEquals(0, s.maskIndex, "a box alone takes the single-mask output")
    }

    @Test
    fun `points and a box pick the best scoring candidate`() {
        val s = model.segment(
            emb,
            SegmentPrompt(
                points = listOf(PromptPoint(220f, 160f), PromptPoint(20f, 20f, positive = false)),
                box = PromptBox(170f, 120f, 290f, 185f),
            ),
        )
        assertConsistent(s)
        assertEquals(argmax(s.scores), s.maskIndex, "with points the best score wins: ${s.scores}")
    }

    @Test
    fun `box corners in any order give the same mask`() {
        val a = model.segment(emb, SegmentPrompt(box = PromptBox(180f, 25f, 290f, 115f)))
        val b = model.segment(emb, SegmentPrompt(box = PromptBox(290f, 115f, 180f, 25f)))
        Fixtures.assertSameSegmentation(a, b)
    }

    @Test
    fun `an explicit mask index is honoured`() {
        for (prompt in listOf(
            SegmentPrompt(points = listOf(PromptPoint(96f, 70f))),
            SegmentPrompt(box = PromptBox(180f, 25f, 290f, 115f)),
        )) {
            val masks = (0..3).map { i ->
                model.segment(emb, prompt.copy(maskIndex = i)).also {
                    assertConsistent(it)
                    assertEquals(i, it.maskIndex)
                }
            }
            // The four candidates share one decoder run: same scores, each mask its own.
            for (m in masks) assertEquals(masks[0].scores, m.scores)
            val default = model.segment(emb, prompt)
            assertArrayEquals(masks[default.maskIndex].mask, default.mask, "the default is one of the four")
        }
    }

    @Test
    fun `points on the photo's edges are accepted`() {
        // x == width and y == height are the far edges, still inside the photo.
        val s = model.segment(
            emb,
            SegmentPrompt(points = listOf(PromptPoint(0f, 0f), PromptPoint(Fixtures.WIDTH.toFloat(), Fixtures.HEIGHT.toFloat()))),
        )
        assertConsistent(s)
    }

    @Test
    fun `the masks are not all trivial`() {
        // With random weights the masks mean nothing, but the checks above are only worth something
        // when some of them have pixels on both sides.
        val results = Fixtures.prompts.map { model.segment(emb, it).also(::assertConsistent) }
        val total = (Fixtures.WIDTH * Fixtures.HEIGHT).toLong()
        assertTrue(results.any { it.area > 0L && it.area < total }, "areas: ${results.map { it.area }}")
    }
}
