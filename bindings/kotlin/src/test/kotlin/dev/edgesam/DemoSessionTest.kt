package dev.edgesam

import dev.edgesam.demo.session.AspectFit
import dev.edgesam.demo.session.PhotoGesture
import dev.edgesam.demo.session.PromptHistory
import dev.edgesam.demo.session.Spot
import dev.edgesam.demo.session.runHarness
import java.util.Collections
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.job
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * The Android demo's UI-free code (android/demo/src/main/kotlin/dev/edgesam/demo/session,
 * compiled into these tests by the pom) against the real bindings.
 */
class DemoSessionTest {
    private val fit = AspectFit(photoWidth = 400, photoHeight = 200, viewWidth = 200f, viewHeight = 200f)

    private fun touch(end: Spot, millis: Long) = PhotoGesture.classify(Spot(10f, 60f), end, millis, fit::toPhoto)

    @Test
    fun `the photo sits centred and a touch is a tap, a long press or a drag`() {
        assertEquals(0.5f, fit.scale)
        assertEquals(Spot(200f, 100f), fit.toPhoto(Spot(100f, 100f)))
        assertEquals(Spot(100f, 100f), fit.toView(Spot(200f, 100f)))
        assertEquals(PhotoGesture.Tap(Spot(20f, 20f)), touch(Spot(12f, 61f), 100))
        assertEquals(PhotoGesture.LongPress(Spot(20f, 20f)), touch(Spot(10f, 60f), 800))
        assertEquals(PhotoGesture.Drag(PromptBox(20f, 20f, 120f, 120f)), touch(Spot(60f, 110f), 800))
    }

    @Test
    fun `gestures build one prompt, undo steps back, and it segments as the same prompt by hand`() {
        var history = PromptHistory()
        assertNull(history.current)
        assertFalse(history.canUndo)
        history = history.apply(PhotoGesture.Tap(Spot(200f, 80f)))
            .apply(PhotoGesture.LongPress(Spot(160f, 40f)))
            .apply(PhotoGesture.Drag(PromptBox(150f, 30f, 260f, 130f)))
        val byHand = SegmentPrompt(
            points = listOf(PromptPoint(200f, 80f, true), PromptPoint(160f, 40f, false)),
            box = PromptBox(150f, 30f, 260f, 130f),
        )
        assertEquals(byHand, history.current)
        val s = runBlocking { Fixtures.model.segmentAsync(Fixtures.embedding, history.current!!) }
        Fixtures.assertSameSegmentation(Fixtures.model.segment(Fixtures.embedding, byHand), s)
        history = history.undo()
        assertEquals(2, history.current!!.points.size)
        assertNull(history.current!!.box)
        assertNull(history.undo().undo().current)
    }

    @Test
    fun `the Benchmark screen's harness call returns the report and tells its progress`() {
        val seen = Collections.synchronizedList(mutableListOf<StepProgress>())
        val json = runBlocking {
            runHarness(Fixtures.encoderFile.path, Fixtures.decoderFile.path, runs = 1, threads = 1, ProgressListener { seen += it })
        }
        assertTrue(json.trimStart().startsWith("{") && json.contains("cold_start"), json.take(200))
        assertEquals((0..seen.last().total).toList(), seen.map { it.done })
    }

    @Test
    fun `cancelling the harness's coroutine stops the harness after the step under way`() {
        val seen = Collections.synchronizedList(mutableListOf<StepProgress>())
        val outcome = runBlocking {
            val run = async(Dispatchers.Default) {
                val harness = coroutineContext.job
                runHarness(Fixtures.encoderFile.path, Fixtures.decoderFile.path, runs = 1, threads = 1, ProgressListener {
                    seen += it
                    if (it.done == 2) harness.cancel()
                })
            }
            runCatching { run.await() }
        }
        assertTrue(outcome.exceptionOrNull() is CancellationException, "got $outcome")
        // The harness returned (its coroutine ended with it) right after the cancelling step.
        assertEquals(listOf(0, 1, 2), seen.map { it.done })
    }
}
