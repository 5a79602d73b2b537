package dev.edgesam

import dev.edgesam.Fixtures.assertSameSegmentation
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * 7. The suspend calls: same result as the blocking ones, and a call cancelled (its coroutine, or
 * its CancellationToken) returns at once (the Rust worker finishes its current step in the
 * background and its result is dropped).
 */
class CoroutinesTest {
    private val model = Fixtures.model

    companion object {
        /**
         * A bigger photo, so that one encode (decode + resize + encoder) takes a while. Made before
         * any timing starts: drawing and compressing it takes longer than encoding it.
         */
        val bigPng: ByteArray by lazy { Fixtures.png(Fixtures.drawPhoto(2400, 1600)) }
    }

    private fun ms(nanos: Long) = nanos / 1e6

    @Test
    fun `encodeImageAsync on Dispatchers Default equals encodeImage`() {
        val expected = model.encodeImage(Fixtures.photoPng)
        val viaAsync = runBlocking {
            async(Dispatchers.Default) { model.encodeImageAsync(Fixtures.photoPng) }.await()
        }
        assertArrayEquals(expected.toBytes(), viaAsync.toBytes())
        for ((i, prompt) in Fixtures.prompts.withIndex()) {
            assertSameSegmentation(model.segment(expected, prompt), model.segment(viaAsync, prompt), "prompt $i")
        }
    }

    @Test
    fun `encodePixelsAsync equals encodePixels, several at once`() = runBlocking {
        val stride = Fixtures.WIDTH * 4 + 4
        val pixels = Fixtures.rgba(Fixtures.photo, stride)
        val w = Fixtures.WIDTH
        val h = Fixtures.HEIGHT
        val expected = model.encodePixels(pixels, w, h, stride, PixelFormat.RGBA8).toBytes()
        val results = withContext(Dispatchers.Default) {
            (1..3).map {
                async { model.encodePixelsAsync(pixels, w, h, stride, PixelFormat.RGBA8) }
            } + async { model.encodeImageAsync(Fixtures.photoPng) }
        }.awaitAll()
        for (r in results) assertArrayEquals(expected, r.toBytes())
    }

    @Test
    fun `cancelling the job returns promptly and leaves the model usable`() {
        val reference = model.encodeImage(bigPng).toBytes()
        val t0 = System.nanoTime()
        model.encodeImage(bigPng)
        val encodeMs = ms(System.nanoTime() - t0)

        val latencies = mutableListOf<Double>()
        var cancelledInFlight = 0
        for (delayMs in listOf(0L, 1L, 5L, 10L, 20L, 0L, 2L, 5L)) {
            runBlocking {
                val caught = CompletableDeferred<Throwable>()
                val job = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                    try {
                        model.encodeImageAsync(bigPng)
                    } catch (e: Throwable) {
                        caught.complete(e)
                        throw e
                    }
                }
                delay(delayMs)
                if (!job.isActive) return@runBlocking // finished before we cancelled: nothing to measure
                val start = System.nanoTime()
                job.cancel()
                job.join()
                latencies += ms(System.nanoTime() - start)
                cancelledInFlight++
                assertTrue(job.isCancelled)
                val e = caught.await()
                assertTrue(e is CancellationException, "cancellation surfaces as CancellationException, got $e")
            }
        }
        assertTrue(cancelledInFlight >= 4, "too few encodes were still running when cancelled: $cancelledInFlight")
        latencies.sort()
        val median = latencies[latencies.size / 2]
        val max = latencies.last()
        println(
            "cancellation latency (job.cancel() -> join() returns), %d runs: median %.2f ms, max %.2f ms; one blocking encode of the 2400x1600 photo: %.1f ms"
                .format(latencies.size, median, max, encodeMs),
        )
        // Promptly: far less than the encode it abandoned (generous for a loaded machine).
        assertTrue(max < 250.0, "cancellation took up to $max ms")

        // The model is still usable, blocking and suspending, and gives the same answer.
        assertArrayEquals(reference, model.encodeImage(bigPng).toBytes())
        assertArrayEquals(reference, runBlocking { model.encodeImageAsync(bigPng) }.toBytes())
    }

    @Test
    fun `cancelling a CancellationToken makes a running encode throw Cancelled promptly`() {
        val reference = model.encodeImage(bigPng).toBytes()
        val t0 = System.nanoTime()
        model.encodeImage(bigPng)
        val encodeMs = ms(System.nanoTime() - t0)

        val latencies = mutableListOf<Double>()
        for (delayMs in listOf(0L, 1L, 5L, 10L, 20L, 0L, 2L, 5L)) {
            runBlocking {
                val token = CancellationToken()
                // UNDISPATCHED: the call has started (and is suspended in Rust) when launch returns.
                val call = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                    runCatching { model.encodeImageAsync(bigPng, token) }
                }
                delay(delayMs)
                if (call.isCompleted) return@runBlocking // finished before we cancelled: nothing to measure
                val start = System.nanoTime()
                token.cancel()
                val outcome = call.await()
                latencies += ms(System.nanoTime() - start)
                val e = outcome.exceptionOrNull()
                assertTrue(e is EdgeSamException.Cancelled, "a cancelled token gives EdgeSamException.Cancelled, got ${outcome.getOrNull() ?: e}")
                assertTrue(token.isCancelled())
                token.close()
            }
        }
        assertTrue(latencies.size >= 4, "too few encodes were still running when cancelled: ${latencies.size}")
        latencies.sort()
        val median = latencies[latencies.size / 2]
        val max = latencies.last()
        println(
            "cancellation latency (token.cancel() -> encodeImageAsync throws Cancelled), %d runs: median %.2f ms, max %.2f ms; one blocking encode of the 2400x1600 photo: %.1f ms"
                .format(latencies.size, median, max, encodeMs),
        )
        assertTrue(max < 250.0, "cancellation took up to $max ms")

        // The model is still usable, also with a fresh token.
        CancellationToken().use { fresh ->
            assertArrayEquals(reference, runBlocking { model.encodeImageAsync(bigPng, fresh) }.toBytes())
            // Not asserted: the library cancels a call's token when the call ends, even after a
            // success, so a token serves one call (see bindings/src/background.rs, Outcome::drop).
            println("a token after its call succeeded: isCancelled() = ${fresh.isCancelled()}")
        }
        assertArrayEquals(reference, model.encodeImage(bigPng).toBytes())
    }

    @Test
    fun `a token cancelled beforehand fails every call at once, and one token cancels several calls`() {
        val stride = Fixtures.WIDTH * 4
        val pixels = Fixtures.rgba(Fixtures.photo, stride)
        // Outside the timing: drawing the big photo, and the JVM's first suspend call into Rust
        // (class loading, JNA's callback set-up).
        bigPng.size
        runBlocking { model.encodeImageAsync(Fixtures.photoPng) }
        CancellationToken().use { token ->
            assertFalse(token.isCancelled())
            token.cancel()
            token.cancel() // twice is fine
            assertTrue(token.isCancelled())
            val start = System.nanoTime()
            assertThrows<EdgeSamException.Cancelled> { runBlocking { model.encodeImageAsync(bigPng, token) } }
            assertThrows<EdgeSamException.Cancelled> {
                runBlocking { model.encodePixelsAsync(pixels, Fixtures.WIDTH, Fixtures.HEIGHT, stride, PixelFormat.RGBA8, token) }
            }
            val elapsed = ms(System.nanoTime() - start)
            println("two calls with an already-cancelled token returned in %.2f ms".format(elapsed))
            assertTrue(elapsed < 250.0, "an already-cancelled token must not start the work ($elapsed ms)")
        }
        CancellationToken().use { shared ->
            val outcomes = runBlocking {
                val calls = (1..3).map {
                    async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                        runCatching { model.encodeImageAsync(bigPng, shared) }
                    }
                }
                shared.cancel()
                calls.awaitAll()
            }
            for (o in outcomes) assertTrue(o.exceptionOrNull() is EdgeSamException.Cancelled, "got $o")
        }
    }

    @Test
    fun `cancelling the coroutine also cancels the token given to the call`() {
        // Dropping the Rust future (what a cancelled coroutine does) cancels its token, which is
        // how the worker learns to stop: visible on a token of our own.
        CancellationToken().use { token ->
            runBlocking {
                val job = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                    model.encodeImageAsync(bigPng, token)
                }
                delay(5)
                assertTrue(job.isActive, "the encode finished within 5 ms: nothing was cancelled")
                assertFalse(token.isCancelled(), "the token is cancelled while its call still runs")
                job.cancel()
                job.join()
                assertTrue(job.isCancelled)
            }
            assertTrue(token.isCancelled(), "the call's token was not cancelled with its coroutine")
        }
    }

    @Test
    fun `segmentAsync equals segment`() {
        val emb = Fixtures.embedding
        val expected = Fixtures.prompts.map { model.segment(emb, it) }
        runBlocking {
            for ((i, prompt) in Fixtures.prompts.withIndex()) {
                assertSameSegmentation(expected[i], model.segmentAsync(emb, prompt), "prompt $i")
            }
            // Concurrently, from several threads of Dispatchers.Default.
            val concurrent = withContext(Dispatchers.Default) {
                (0 until 3).flatMap { Fixtures.prompts.map { p -> async { model.segmentAsync(emb, p) } } }.awaitAll()
            }
            for ((k, s) in concurrent.withIndex()) {
                val i = k % Fixtures.prompts.size
                assertSameSegmentation(expected[i], s, "concurrent call $k (prompt $i)")
            }
        }
        assertThrows<EdgeSamException.BadPrompt> { runBlocking { model.segmentAsync(emb, SegmentPrompt()) } }
    }

    @Test
    fun `withTimeout cancels a running encode promptly`() {
        val png = bigPng
        val timeoutMs = 5L
        fun timedOut(): Double {
            val start = System.nanoTime()
            assertThrows<TimeoutCancellationException> {
                runBlocking(Dispatchers.Default) {
                    withTimeout(timeoutMs) { model.encodeImageAsync(png) }
                }
            }
            return ms(System.nanoTime() - start)
        }
        // The first suspend call and the first timeout of the JVM load classes and set up JNA's
        // callback (about 100-300 ms here): not what this test measures.
        val cold = timedOut()
        val warm = (1..3).map { timedOut() }.sorted()
        println(
            "withTimeout(%d ms) around encodeImageAsync returned after %.2f ms (cold, first in the JVM or class), then %s ms"
                .format(timeoutMs, cold, warm.joinToString { "%.2f".format(it) }),
        )
        assertTrue(warm.last() < timeoutMs + 250.0, "withTimeout returned after ${warm.last()} ms")
        // And the next call works.
        val after = runBlocking { model.encodeImageAsync(Fixtures.photoPng) }
        assertEquals(Fixtures.WIDTH, after.width())
        assertArrayEquals(Fixtures.embedding.toBytes(), after.toBytes())
    }
}
