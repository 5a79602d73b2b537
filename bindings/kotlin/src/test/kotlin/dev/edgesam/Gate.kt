package dev.edgesam

import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import kotlinx.coroutines.runInterruptible
import org.junit.jupiter.api.Assertions.assertTrue

/**
 * An everything-mode listener that holds the library's workers at their first progress report
 * until [open]: a test can cancel while the work is certainly still running, and see that the
 * call returned before its worker went on. Checked by order of events, never by time; the
 * one-minute watchdog only turns a call that waits for its worker into a failure instead of a
 * hang.
 */
class Gate : EverythingListener {
    private val reached = CountDownLatch(1)
    private val opened = CountDownLatch(1)
    private val arrivals = AtomicInteger()
    private val watchdogFired = AtomicBoolean()

    /** How many progress reports arrived (each worker's first one waits at the gate). */
    val arrivalCount: Int get() = arrivals.get()

    override fun onProgress(progress: EverythingProgress) {
        arrivals.incrementAndGet()
        reached.countDown()
        if (!opened.await(1, TimeUnit.MINUTES)) watchdogFired.set(true)
    }

    /** Waits until a worker is held at the gate. */
    suspend fun reached() {
        runInterruptible(Dispatchers.IO) {
            assertTrue(reached.await(1, TimeUnit.MINUTES), "no worker reached the gate")
        }
    }

    /** Lets the workers go on; returns whether they were held until now (the watchdog never fired). */
    fun open(): Boolean {
        opened.countDown()
        return !watchdogFired.get()
    }

    companion object {
        /** Keeps every non-empty candidate of an 8 x 8 grid: far more work than one step. */
        val manyPoints = EverythingOptions(pointsPerSide = 8, scoreThreshold = -1f, stabilityThreshold = 0f)

        /**
         * Starts everything mode on the shared model, held at [gate], on Dispatchers.Default. The
         * outcome (the masks, or what the call threw, a CancellationException included) completes
         * the returned Deferred, so that cancelling the Job does not cancel the caller's scope.
         */
        fun CoroutineScope.heldEverything(
            gate: Gate,
            token: CancellationToken? = null,
        ): Pair<Job, Deferred<Result<List<AutoMask>>>> {
            val outcome = CompletableDeferred<Result<List<AutoMask>>>()
            val job = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                outcome.complete(runCatching { Fixtures.model.everythingAsync(Fixtures.embedding, manyPoints, gate, token) })
            }
            return job to outcome
        }
    }
}
