package dev.edgesam

import java.security.MessageDigest
import java.util.Collections
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The harness the demo apps' Benchmark screen runs: every figure in its JSON, its progress step
 * by step, cancellation from its listener, typed errors.
 */
class BenchmarkTest {
    private fun sha256(bytes: ByteArray) =
        MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

    @Test
    fun `reports every step and the files' hashes`() {
        val json = runBenchmark(
            Fixtures.encoderFile.path, Fixtures.decoderFile.path, Fixtures.photoPng,
            runs = 2, points = 2, threads = 1,
        )
        for (key in listOf("cold_start_ms", "first_encode_ms", "first_predict_ms", "preprocess_ms",
                           "encode_ms", "decode_ms", "predict_ms", "peak_rss_bytes")) {
            assertTrue(json.contains("\"$key\":"), "$key missing from $json")
        }
        assertTrue(json.contains("\"threads\":1,"), json)
        assertTrue(json.contains("\"image\":{\"width\":${Fixtures.WIDTH},\"height\":${Fixtures.HEIGHT}}"), json)
        assertTrue(json.contains("\"encoder_sha256\":\"${sha256(Fixtures.encoderFile.readBytes())}\""), json)
        assertTrue(json.contains("\"decoder_sha256\":\"${sha256(Fixtures.decoderFile.readBytes())}\""), json)
        assertTrue(Regex("\"runs\":2").findAll(json).count() == 4, "four steps of 2 runs each: $json")
    }

    @Test
    fun `a bad image is a typed error`() {
        assertThrows<EdgeSamException.BadImage> {
            runBenchmark(Fixtures.encoderFile.path, Fixtures.decoderFile.path, byteArrayOf(1, 2, 3), runs = 1)
        }
    }

    /** Runs the harness on the test photo, once per step, telling [onProgress] of every report. */
    private fun benchmark(cancellation: CancellationToken? = null, onProgress: (StepProgress) -> Unit): String =
        runBenchmark(
            Fixtures.encoderFile.path, Fixtures.decoderFile.path, Fixtures.photoPng,
            runs = 1, points = 2, threads = 1, progress = ProgressListener(onProgress), cancellation = cancellation,
        )

    @Test
    fun `progress counts every step, from 0 before the first to done == total after the last`() {
        val seen = Collections.synchronizedList(mutableListOf<StepProgress>())
        benchmark { seen += it }
        val total = seen.first().total
        assertTrue(total > 1 && seen.all { it.total == total }, "one total: $seen")
        assertEquals((0..total).toList(), seen.map { it.done })
    }

    @Test
    fun `a token cancelled from the listener stops the benchmark with Cancelled after that step`() {
        CancellationToken().use { token ->
            val seen = Collections.synchronizedList(mutableListOf<StepProgress>())
            assertThrows<EdgeSamException.Cancelled> {
                benchmark(token) {
                    seen += it
                    if (it.done == 2) token.cancel()
                }
            }
            // Blocking: when it returns, the harness has stopped.
            assertEquals(listOf(0, 1, 2), seen.map { it.done })
        }
        CancellationToken().use { token ->
            token.cancel()
            val seen = Collections.synchronizedList(mutableListOf<StepProgress>())
            assertThrows<EdgeSamException.Cancelled> { benchmark(token) { seen += it } }
            assertEquals(listOf(0), seen.map { it.done }, "a token cancelled beforehand stops it before the load")
        }
    }
}
