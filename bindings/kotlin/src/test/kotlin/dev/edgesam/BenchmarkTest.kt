package dev.edgesam

import java.security.MessageDigest
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The harness the demo apps' Benchmark screen runs: every figure in its JSON, typed errors. */
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
}
