package dev.edgesam

import dev.edgesam.Fixtures.argmax
import dev.edgesam.Fixtures.assertConsistent
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * 3. Masks from a point, a box and both: shape, bytes, area, box and the choice of candidate;
 * equal answers are `==`, and the mask's hit test agrees with its bytes.
 */
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
            assertEquals(masks[default.maskIndex], default, "the default is one of the four")
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
        val areas = results.map { it.mask.area() }
        assertTrue(areas.any { it > 0L && it < total }, "areas: $areas")
    }

    @Test
    fun `two answers are equal when their mask pixels, scores and candidate are`() {
        val a = model.segment(emb, Fixtures.prompts[0])
        val b = model.segment(emb, Fixtures.prompts[0])
        assertEquals(a, b, "the same tap twice")
        assertEquals(a.mask, b.mask)
        assertEquals(a.mask, SegmentMask(a.mask.width(), a.mask.height(), a.mask.bytes()), "a mask rebuilt from its bytes")
        assertNotEquals(a, a.copy(score = a.score - 1f), "another score")
        assertNotEquals(a, a.copy(scores = a.scores.reversed()), "other candidate scores")
        assertNotEquals(a, a.copy(maskIndex = (a.maskIndex + 1) % 4), "another candidate")

        val bytes = a.mask.bytes()
        val flipped = bytes.copyOf().also { it[it.size / 2] = (it[it.size / 2].toInt() xor 0xFF).toByte() }
        val (w, h) = a.mask.width() to a.mask.height()
        assertNotEquals(a, a.copy(mask = SegmentMask(w, h, flipped)), "one pixel differs")
        assertNotEquals(a.mask, SegmentMask(h, w, bytes), "same bytes, another shape")

        val results = Fixtures.prompts.map { model.segment(emb, it) }
        for (i in results.indices) {
            for (j in results.indices) {
                val same = results[i].mask.bytes().contentEquals(results[j].mask.bytes()) &&
                    results[i].scores == results[j].scores && results[i].maskIndex == results[j].maskIndex
                assertEquals(same, results[i] == results[j], "prompts $i and $j")
            }
        }
    }

    @Test
    fun `contains agrees with the mask bytes and is false outside the photo`() {
        for ((i, prompt) in Fixtures.prompts.withIndex()) {
            val mask = model.segment(emb, prompt).mask
            val bytes = mask.bytes()
            val (w, h) = mask.width() to mask.height()
            for (y in 0 until h) {
                for (x in 0 until w) {
                    assertEquals(bytes[y * w + x] != 0.toByte(), mask.contains(x, y), "prompt $i, ($x, $y)")
                }
            }
            for ((x, y) in listOf(-1 to 0, 0 to -1, w to 0, 0 to h, Int.MIN_VALUE to Int.MAX_VALUE)) {
                assertFalse(mask.contains(x, y), "($x, $y) is outside the photo")
            }
        }
    }
}
