// The demo's prompt editing and harness call, free of Android classes: bindings/kotlin's JVM suite
// compiles this folder against the real bindings and tests it (DemoSessionTest), so the demo's
// calls into edgesam meet a compiler and a test even where the Android SDK is absent.
package dev.edgesam.demo.session

import dev.edgesam.CancellationToken
import dev.edgesam.EdgeSamException
import dev.edgesam.ProgressListener
import dev.edgesam.PromptBox
import dev.edgesam.PromptPoint
import dev.edgesam.SegmentPrompt
import dev.edgesam.invoke
import dev.edgesam.runBenchmark
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.job
import kotlinx.coroutines.withContext
import kotlin.math.hypot
import kotlin.math.min

/** A point in view pixels or photo pixels (which one is said where it is used). */
data class Spot(val x: Float, val y: Float)

/** What a finger did on the photo, in the photo's pixels. */
sealed interface PhotoGesture {
    data class Tap(val at: Spot) : PhotoGesture
    data class LongPress(val at: Spot) : PhotoGesture
    data class Drag(val box: PromptBox) : PhotoGesture

    companion object {
        /** Below this many view pixels of travel a touch is a tap or a long press, not a drag. */
        const val DRAG_THRESHOLD = 24f

        /** A touch held this long (milliseconds) without moving is a long press. */
        const val LONG_PRESS_MILLIS = 500L

        /** Classifies one touch from where it went down and up (view pixels) and how long it lasted. */
        fun classify(start: Spot, end: Spot, millis: Long, toPhoto: (Spot) -> Spot): PhotoGesture {
            val a = toPhoto(start)
            if (hypot(end.x - start.x, end.y - start.y) >= DRAG_THRESHOLD) {
                val b = toPhoto(end)
                return Drag(PromptBox(a.x, a.y, b.x, b.y))
            }
            return if (millis >= LONG_PRESS_MILLIS) LongPress(a) else Tap(a)
        }
    }
}

/**
 * The prompt built gesture by gesture (taps add points, a drag sets the box: SAM takes them
 * together), with every earlier prompt kept for undo. Immutable: each edit returns a new history,
 * which suits Compose state.
 */
data class PromptHistory(val prompts: List<SegmentPrompt> = emptyList()) {
    /** The prompt to segment with; null before the first gesture. */
    val current: SegmentPrompt? get() = prompts.lastOrNull()
    val canUndo: Boolean get() = prompts.isNotEmpty()

    fun apply(gesture: PhotoGesture): PromptHistory {
        val last = current ?: SegmentPrompt()
        val next = when (gesture) {
            is PhotoGesture.Tap -> last.copy(points = last.points + PromptPoint(gesture.at.x, gesture.at.y, true))
            is PhotoGesture.LongPress -> last.copy(points = last.points + PromptPoint(gesture.at.x, gesture.at.y, false))
            is PhotoGesture.Drag -> last.copy(box = gesture.box)
        }
        return PromptHistory(prompts + next)
    }

    fun undo(): PromptHistory = PromptHistory(prompts.dropLast(1))
}

/** How a photo sits aspect-fit and centred in a view (both in pixels), and the mappings between them. */
class AspectFit(photoWidth: Int, photoHeight: Int, viewWidth: Float, viewHeight: Float) {
    /** View pixels per photo pixel. */
    val scale: Float = min(viewWidth / photoWidth.coerceAtLeast(1), viewHeight / photoHeight.coerceAtLeast(1))
    val originX: Float = (viewWidth - photoWidth * scale) / 2
    val originY: Float = (viewHeight - photoHeight * scale) / 2

    fun toPhoto(view: Spot): Spot = Spot((view.x - originX) / scale, (view.y - originY) / scale)

    fun toView(photo: Spot): Spot = Spot(originX + photo.x * scale, originY + photo.y * scale)
}

/**
 * Runs the benchmark harness (seconds to minutes of work) on a background thread; returns its
 * JSON. [progress] is told of each step (from that thread). Cancelling the calling coroutine stops
 * the harness after the step under way: `runBenchmark` blocks its thread, so the coroutine's
 * cancellation is handed to it through a [CancellationToken], checked at every step.
 */
suspend fun runHarness(
    encoderPath: String,
    decoderPath: String,
    runs: Int = 5,
    threads: Int = 0,
    progress: ProgressListener? = null,
): String = withContext(Dispatchers.Default) {
    val job = coroutineContext.job
    CancellationToken().use { token ->
        val steps = ProgressListener { step ->
            progress?.onProgress(step)
            if (!job.isActive) token.cancel()
        }
        try {
            runBenchmark(encoderPath, decoderPath, runs = runs, points = 2, threads = threads, progress = steps, cancellation = token)
        } catch (e: EdgeSamException.Cancelled) {
            // Stopped for the coroutine's sake: end as a cancelled coroutine does.
            ensureActive()
            throw e
        }
    }
}
