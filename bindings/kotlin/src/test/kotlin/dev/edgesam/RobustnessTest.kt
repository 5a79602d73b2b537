package dev.edgesam

import dev.edgesam.Fixtures.assertSameSegmentation
import java.io.ByteArrayOutputStream
import java.io.File
import java.util.zip.CRC32
import java.util.zip.Deflater
import kotlin.random.Random
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Issue 5 through Kotlin: the bad-input matrix gives the typed `EdgeSamException` case, a closed
 * object refuses calls with an exception instead of crashing, a cancelled encode leaves the model
 * usable, and 1,000 encode/segment cycles keep resident memory flat.
 */
class RobustnessTest {
    private val model = Fixtures.model
    private val emb = Fixtures.embedding
    private val encoderBytes = Fixtures.encoderFile.readBytes()
    private val decoderBytes = Fixtures.decoderFile.readBytes()
    private val misfits = File(Fixtures.repoRoot, "models/generated/misfits")

    private inline fun <reified E : EdgeSamException> expect(noinline call: () -> Unit) {
        assertThrows<E>(call)
    }

    @Test
    fun `model bytes truncated at several points, foreign or mistyped`() {
        for (cut in listOf(1, 64, encoderBytes.size / 10, encoderBytes.size - 1)) {
            expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(encoderBytes.copyOf(cut), decoderBytes) }
        }
        for (cut in listOf(1, decoderBytes.size / 3, decoderBytes.size - 1)) {
            expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(encoderBytes, decoderBytes.copyOf(cut)) }
        }
        expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(Random(11).nextBytes(50_000), decoderBytes) }
        val other = File(misfits, "another_model.onnx").readBytes()
        expect<EdgeSamException.WrongModel> { SegmentAnything.fromBytes(other, decoderBytes) }
        expect<EdgeSamException.WrongModel> { SegmentAnything.fromBytes(encoderBytes, other) }
        expect<EdgeSamException.WrongModel> {
            SegmentAnything.fromBytes(File(misfits, "encoder_f64.onnx").readBytes(), decoderBytes)
        }
        expect<EdgeSamException.WrongModel> {
            SegmentAnything.fromBytes(encoderBytes, File(misfits, "decoder_int64_labels.onnx").readBytes())
        }
    }

    /** A grey PNG whose header claims [width] x [height], followed by a little compressed data. */
    private fun pngClaiming(width: Int, height: Int): ByteArray {
        val out = ByteArrayOutputStream()
        fun chunk(type: String, data: ByteArray) {
            val typed = type.toByteArray() + data
            val crc = CRC32().apply { update(typed) }.value
            out.write(java.nio.ByteBuffer.allocate(4).putInt(data.size).array())
            out.write(typed)
            out.write(java.nio.ByteBuffer.allocate(4).putInt(crc.toInt()).array())
        }
        out.write(byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte(), 13, 10, 26, 10))
        chunk("IHDR", java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height).put(byteArrayOf(8, 0, 0, 0, 0)).array())
        val deflater = Deflater().apply { setInput(ByteArray(64)); finish() }
        val compressed = ByteArray(128).let { it.copyOf(deflater.deflate(it)) }
        chunk("IDAT", compressed)
        chunk("IEND", ByteArray(0))
        return out.toByteArray()
    }

    @Test
    fun `truncated, degenerate and oversized images are BadImage`() {
        val jpeg = ByteArrayOutputStream().also { javax.imageio.ImageIO.write(Fixtures.photo, "jpeg", it) }.toByteArray()
        for (bytes in listOf(jpeg, Fixtures.photoPng)) {
            for (cut in listOf(2, 30, bytes.size / 2, bytes.size - 13)) {
                expect<EdgeSamException.BadImage> { model.encodeImage(bytes.copyOf(cut)) }
            }
        }
        expect<EdgeSamException.BadImage> { model.encodeImage(Fixtures.png(Fixtures.drawPhoto(1, 20000))) }
        val started = System.nanoTime()
        expect<EdgeSamException.BadImage> { model.encodeImage(pngClaiming(20000, 20000)) }
        assertTrue(System.nanoTime() - started < 500_000_000L, "a 400-MP header is refused at once")
        expect<EdgeSamException.BadImage> { model.encodeImage(pngClaiming(4000, 3000)) }
        expect<EdgeSamException.BadImage> { model.encodePixels(ByteArray(0), 0, 0, 0, PixelFormat.RGBA8) }
        expect<EdgeSamException.BadImage> {
            model.encodePixels(ByteArray(64 * 32 * 4), 64, 32, Int.MAX_VALUE, PixelFormat.RGBA8)
        }
    }

    @Test
    fun `far-away points, ten thousand points and a backwards box`() {
        for (p in listOf(PromptPoint(1e30f, 5f), PromptPoint(-1e30f, 5f), PromptPoint(5f, Float.NEGATIVE_INFINITY))) {
            expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = listOf(p))) }
        }
        val many = (0 until 10_000).map { PromptPoint((it % Fixtures.WIDTH).toFloat(), (it / Fixtures.WIDTH).toFloat()) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = many)) }
        assertSameSegmentation(
            model.segment(emb, SegmentPrompt(rect = PromptRect(60f, 40f, 250f, 160f))),
            model.segment(emb, SegmentPrompt(rect = PromptRect(250f, 160f, 60f, 40f))),
            "a box dragged backwards",
        )
    }

    @Test
    fun `a closed model or embedding throws instead of crashing, and embeddings outlive their model`() {
        val temporary = SegmentAnything.fromBytes(encoderBytes, decoderBytes, threads = 1)
        val kept = temporary.encodeImage(Fixtures.photoPng)
        temporary.close()
        assertThrows<IllegalStateException> { temporary.segment(kept, Fixtures.prompts[0]) }
        assertThrows<IllegalStateException> { temporary.encodeImage(Fixtures.photoPng) }
        temporary.close() // twice is harmless
        assertSameSegmentation(model.segment(emb, Fixtures.prompts[0]), model.segment(kept, Fixtures.prompts[0]))
        kept.close()
        assertThrows<IllegalStateException> { kept.toBytes() }
        // A closed object passed as an argument: UniFFI 0.32's generated lower() cloned the freed
        // handle (a double free that aborted the JVM) until bindings/generate.sh patched it.
        assertThrows<IllegalStateException> { model.segment(kept, Fixtures.prompts[0]) }
        val closedMask = SegmentMask.fromSegmentation(model.segment(emb, Fixtures.prompts[0]))
        closedMask.close()
        assertThrows<IllegalStateException> { SegmentMask.fromSegmentation(model.segment(emb, Fixtures.prompts[0])).union(closedMask) }
        assertThrows<IllegalStateException> { model.everything(kept, EverythingOptions(pointsPerSide = 2u)) }
        // The model is fine afterwards.
        assertSameSegmentation(model.segment(emb, Fixtures.prompts[0]), model.segment(emb, Fixtures.prompts[0]))
    }

    @Test
    fun `an embedding from another model pair is BadEmbedding`() {
        val full = File(Fixtures.repoRoot, "models/generated/full")
        SegmentAnything.fromFiles(File(full, "edge_sam_encoder.onnx").path, File(full, "edge_sam_decoder.onnx").path, threads = 1)
            .use { other ->
                other.encodeImage(Fixtures.png(Fixtures.drawPhoto(64, 48))).use { foreign ->
                    expect<EdgeSamException.BadEmbedding> { model.segment(foreign, Fixtures.prompts[0]) }
                }
            }
    }

    @Test
    fun `a cancelled encode leaves the model usable`() = runBlocking {
        val big = CoroutinesTest.bigPng
        val reference = model.encodeImage(big).use { it.toBytes() }
        val token = CancellationToken()
        // runCatching inside: a failed child would otherwise cancel the whole runBlocking scope.
        val call = async { runCatching { model.encodeImageAsync(big, token) } }
        delay(20)
        token.cancel()
        val outcome = call.await().exceptionOrNull()
        assertTrue(outcome is EdgeSamException.Cancelled, "got $outcome")
        assertArrayEquals(reference, model.encodeImage(big).use { it.toBytes() })
    }

    private fun residentMib(): Double =
        File("/proc/self/status").readLines().first { it.startsWith("VmRSS:") }
            .split(Regex("\\s+"))[1].toDouble() / 1024

    /**
     * After 200 cycles of warm-up (JIT, heap sizing), resident memory may grow by at most 64 MiB over
     * the next 800: a leaked embedding (4 MiB) per cycle would be 3 GiB, a leaked mask (16 KB) 12 MiB
     * per thousand on top of the JVM's own noise.
     */
    @Test
    fun `a thousand encode and segment cycles keep resident memory flat`() {
        val png = Fixtures.png(Fixtures.drawPhoto(160, 100))
        val prompt = SegmentPrompt(points = listOf(PromptPoint(80f, 50f)))
        val samples = linkedMapOf<Int, Double>()
        val started = System.nanoTime()
        // A thread per core (threads = 0): the cycles are the test's whole cost.
        SegmentAnything.fromBytes(encoderBytes, decoderBytes).use { model ->
            for (cycle in 1..1000) {
                model.encodeImage(png).use { e -> assertEquals(160, model.segment(e, prompt).width) }
                if (cycle % 100 == 0) {
                    System.gc()
                    samples[cycle] = residentMib()
                }
            }
        }
        println(
            "  1000 cycles in %.1f s; RSS MiB at every 100th: %s".format(
                (System.nanoTime() - started) / 1e9,
                samples.entries.joinToString { "${it.key}: %.1f".format(it.value) },
            ),
        )
        val growth = samples.filterKeys { it >= 200 }.values.max() - samples.getValue(200)
        assertTrue(growth < 64, "RSS grew %.1f MiB after warm-up: $samples".format(growth))
    }
}
