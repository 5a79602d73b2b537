package dev.edgesam

import dev.edgesam.Fixtures.assertSameSegmentation
import dev.edgesam.Gate.Companion.heldEverything
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
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
 * its CancellationToken) returns without waiting for its worker, which stops at its next step in
 * the background. Cancellation is checked by order of events: the worker is held at a [Gate]
 * while the test cancels.
 */
class CoroutinesTest {
    private val model = Fixtures.model

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
    fun `cancelling the job returns while the worker is held, and the model stays usable`() {
        runBlocking {
            val gate = Gate()
            val (job, outcome) = heldEverything(gate)
            gate.reached()
            job.cancel()
            val e = outcome.await().exceptionOrNull()
            assertTrue(gate.open(), "the cancelled call waited for its worker")
            assertTrue(e is CancellationException, "cancellation surfaces as CancellationException, got $e")
            job.join()
            assertTrue(job.isCancelled)
        }
        // The model is still usable, blocking and suspending, and gives the same answer.
        val reference = Fixtures.embedding.toBytes()
        assertArrayEquals(reference, model.encodeImage(Fixtures.photoPng).toBytes())
        assertArrayEquals(reference, runBlocking { model.encodeImageAsync(Fixtures.photoPng) }.toBytes())
    }

    @Test
    fun `cancelling a CancellationToken makes a running call throw Cancelled while its worker is held`() {
        CancellationToken().use { token ->
            runBlocking {
                val gate = Gate()
                val (_, outcome) = heldEverything(gate, token)
                gate.reached()
                token.cancel()
                val e = outcome.await().exceptionOrNull()
                assertTrue(gate.open(), "the cancelled call waited for its worker")
                assertTrue(e is EdgeSamException.Cancelled, "a cancelled token gives EdgeSamException.Cancelled, got $e")
                assertTrue(token.isCancelled())
            }
        }
        assertArrayEquals(Fixtures.embedding.toBytes(), model.encodeImage(Fixtures.photoPng).toBytes())
    }

    @Test
    fun `a token outlives a finished call`() {
        // The contract of the Rust test a_token_outlives_a_finished_call (bindings/src/background.rs):
        // a call that finished leaves its token uncancelled, so the token serves the next call too.
        CancellationToken().use { token ->
            val first = runBlocking { model.encodeImageAsync(Fixtures.photoPng, cancellation = token) }
            assertFalse(token.isCancelled(), "a finished call cancelled its token")
            val second = runBlocking { model.encodeImageAsync(Fixtures.photoPng, cancellation = token) }
            assertArrayEquals(first.toBytes(), second.toBytes())
            assertFalse(token.isCancelled())
        }
    }

    @Test
    fun `a token cancelled beforehand fails every call without starting it, and one token cancels several calls`() {
        val stride = Fixtures.WIDTH * 4
        val pixels = Fixtures.rgba(Fixtures.photo, stride)
        CancellationToken().use { token ->
            assertFalse(token.isCancelled())
            token.cancel()
            token.cancel() // twice is fine
            assertTrue(token.isCancelled())
            assertThrows<EdgeSamException.Cancelled> { runBlocking { model.encodeImageAsync(Fixtures.photoPng, cancellation = token) } }
            assertThrows<EdgeSamException.Cancelled> {
                runBlocking {
                    model.encodePixelsAsync(pixels, Fixtures.WIDTH, Fixtures.HEIGHT, stride, PixelFormat.RGBA8, cancellation = token)
                }
            }
            val untouched = Gate()
            val e = runBlocking { heldEverything(untouched, token).second.await().exceptionOrNull() }
            untouched.open()
            assertTrue(e is EdgeSamException.Cancelled, "got $e")
            assertEquals(0, untouched.arrivalCount, "a call with a cancelled token started its work")
        }
        CancellationToken().use { shared ->
            val gate = Gate()
            val outcomes = runBlocking {
                val calls = (1..3).map { heldEverything(gate, shared).second }
                gate.reached()
                shared.cancel()
                calls.awaitAll()
            }
            assertTrue(gate.open(), "a cancelled call waited for its worker")
            for (o in outcomes) assertTrue(o.exceptionOrNull() is EdgeSamException.Cancelled, "got $o")
        }
    }

    @Test
    fun `cancelling the coroutine also cancels the token given to the call`() {
        // Dropping the Rust future (what a cancelled coroutine does) cancels its token, which is
        // how the worker learns to stop: visible on a token of our own.
        CancellationToken().use { token ->
            runBlocking {
                val gate = Gate()
                val (job, outcome) = heldEverything(gate, token)
                gate.reached()
                assertFalse(token.isCancelled(), "the token is cancelled while its call still runs")
                job.cancel()
                outcome.await()
                assertTrue(gate.open(), "the cancelled call waited for its worker")
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
    fun `withTimeout cancels a running call without waiting for its worker`() {
        val gate = Gate()
        val thrown = runBlocking(Dispatchers.Default) {
            runCatching { withTimeout(20) { model.everythingAsync(Fixtures.embedding, Gate.manyPoints, gate) } }.exceptionOrNull()
        }
        assertTrue(gate.open(), "the timed-out call waited for its worker")
        assertTrue(thrown is TimeoutCancellationException, "got $thrown")
        // And the next call works.
        val after = runBlocking { model.encodeImageAsync(Fixtures.photoPng) }
        assertEquals(Fixtures.WIDTH, after.width())
        assertArrayEquals(Fixtures.embedding.toBytes(), after.toBytes())
    }
}
