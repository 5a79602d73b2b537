package dev.edgesam

import java.io.File
import kotlin.random.Random
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** 5. Every failure comes back as the `EdgeSamException` subclass an app can act on. */
class ErrorsTest {
    private val model = Fixtures.model
    private val emb = Fixtures.embedding
    private val encoderBytes = Fixtures.encoderFile.readBytes()
    private val decoderBytes = Fixtures.decoderFile.readBytes()

    /** The reason, non-empty; printed so a run shows what an app would get. */
    private fun reasonOf(e: EdgeSamException): String {
        val reason = when (e) {
            is EdgeSamException.FileNotFound -> e.reason
            is EdgeSamException.NotAModel -> e.reason
            is EdgeSamException.WrongModel -> e.reason
            is EdgeSamException.BadImage -> e.reason
            is EdgeSamException.BadPrompt -> e.reason
            is EdgeSamException.BadEmbedding -> e.reason
            is EdgeSamException.Internal -> e.reason
            is EdgeSamException.Cancelled -> "cancelled"
        }
        assertTrue(reason.isNotBlank(), "${e::class.simpleName} has an empty reason")
        assertTrue(!e.message.isNullOrBlank(), "${e::class.simpleName} has an empty message")
        println("  ${e::class.simpleName}: $reason")
        return reason
    }

    private inline fun <reified E : EdgeSamException> expect(noinline call: () -> Unit) {
        reasonOf(assertThrows<E>(call))
    }

    // Models.

    @Test
    fun `a missing model file is FileNotFound`() {
        val missing = File(Fixtures.modelsDir, "no-such-encoder.onnx").path
        expect<EdgeSamException.FileNotFound> { SegmentAnything.fromFiles(missing, Fixtures.decoderFile.path) }
        expect<EdgeSamException.FileNotFound> { SegmentAnything.fromFiles(Fixtures.encoderFile.path, "/no/such/dir/decoder.onnx") }
        // A folder is no file either.
        expect<EdgeSamException.FileNotFound> { SegmentAnything.fromFiles(Fixtures.modelsDir.path, Fixtures.decoderFile.path) }
    }

    @Test
    fun `empty, garbage and truncated model bytes are NotAModel`() {
        expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(ByteArray(0), decoderBytes) }
        expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(encoderBytes, ByteArray(0)) }
        expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(Random(7).nextBytes(4096), decoderBytes) }
        expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(encoderBytes, "not an onnx file\n".toByteArray()) }
        expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(encoderBytes.copyOf(encoderBytes.size / 2), decoderBytes) }
        expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(encoderBytes, decoderBytes.copyOf(decoderBytes.size - 100)) }
    }

    @Test
    fun `a PNG given as a model is NotAModel`() {
        expect<EdgeSamException.NotAModel> { SegmentAnything.fromBytes(Fixtures.photoPng, decoderBytes) }
    }

    @Test
    fun `swapped encoder and decoder are WrongModel`() {
        expect<EdgeSamException.WrongModel> { SegmentAnything.fromFiles(Fixtures.decoderFile.path, Fixtures.encoderFile.path) }
        expect<EdgeSamException.WrongModel> { SegmentAnything.fromBytes(decoderBytes, encoderBytes) }
        expect<EdgeSamException.WrongModel> { SegmentAnything.fromBytes(encoderBytes, encoderBytes) }
    }

    // Images.

    @Test
    fun `bytes that are not an image are BadImage`() {
        expect<EdgeSamException.BadImage> { model.encodeImage("this is not a picture".toByteArray()) }
        expect<EdgeSamException.BadImage> { model.encodeImage(ByteArray(0)) }
        expect<EdgeSamException.BadImage> { model.encodeImage(Fixtures.photoPng.copyOf(Fixtures.photoPng.size / 2)) }
    }

    @Test
    fun `a 1x1 image is BadImage`() {
        val tiny = Fixtures.png(Fixtures.drawPhoto(1, 1))
        expect<EdgeSamException.BadImage> { model.encodeImage(tiny) }
        expect<EdgeSamException.BadImage> { model.encodePixels(ByteArray(4), 1u, 1u, 4u, PixelFormat.RGBA8) }
        expect<EdgeSamException.BadImage> { model.encodePixels(ByteArray(0), 0u, 0u, 0u, PixelFormat.RGBA8) }
    }

    @Test
    fun `a stride shorter than a row is BadImage`() {
        val w = Fixtures.WIDTH
        val h = Fixtures.HEIGHT
        val pixels = Fixtures.rgba(Fixtures.photo, w * 4)
        expect<EdgeSamException.BadImage> {
            model.encodePixels(pixels, w.toUInt(), h.toUInt(), (w * 4 - 1).toUInt(), PixelFormat.RGBA8)
        }
        expect<EdgeSamException.BadImage> {
            model.encodePixels(pixels, w.toUInt(), h.toUInt(), (w * 3).toUInt(), PixelFormat.RGBA8)
        }
    }

    @Test
    fun `a buffer too short for its size is BadImage`() {
        val w = Fixtures.WIDTH
        val h = Fixtures.HEIGHT
        val pixels = Fixtures.rgba(Fixtures.photo, w * 4)
        expect<EdgeSamException.BadImage> {
            model.encodePixels(pixels.copyOf(pixels.size - 1), w.toUInt(), h.toUInt(), (w * 4).toUInt(), PixelFormat.RGBA8)
        }
        expect<EdgeSamException.BadImage> {
            model.encodePixels(pixels, w.toUInt(), (h + 1).toUInt(), (w * 4).toUInt(), PixelFormat.RGBA8)
        }
        expect<EdgeSamException.BadImage> { model.encodePixels(ByteArray(0), 4u, 4u, 16u, PixelFormat.BGRA8) }
    }

    @Test
    fun `the async encoders report the same errors`() {
        reasonOf(assertThrows<EdgeSamException.BadImage> { runBlocking { model.encodeImageAsync(ByteArray(3)) } })
        reasonOf(
            assertThrows<EdgeSamException.BadImage> {
                runBlocking { model.encodePixelsAsync(ByteArray(10), 8u, 8u, 31u, PixelFormat.RGBA8) }
            },
        )
    }

    // Prompts.

    @Test
    fun `no points and no box is BadPrompt`() {
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt()) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = emptyList(), rect = null, maskIndex = 1u)) }
    }

    @Test
    fun `a NaN or infinite coordinate is BadPrompt`() {
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = listOf(PromptPoint(Float.NaN, 10f)))) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = listOf(PromptPoint(10f, Float.POSITIVE_INFINITY)))) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(rect = PromptRect(0f, 0f, Float.NaN, 50f))) }
    }

    @Test
    fun `a point outside the photo is BadPrompt`() {
        val w = Fixtures.WIDTH.toFloat()
        val h = Fixtures.HEIGHT.toFloat()
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = listOf(PromptPoint(w + 1f, 10f)))) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = listOf(PromptPoint(10f, -0.5f)))) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(rect = PromptRect(10f, 10f, 50f, h + 20f))) }
    }

    @Test
    fun `mask index 4 is BadPrompt`() {
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = listOf(PromptPoint(50f, 50f)), maskIndex = 4u)) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(rect = PromptRect(1f, 1f, 9f, 9f), maskIndex = UInt.MAX_VALUE)) }
    }

    // Embeddings.

    @Test
    fun `damaged embedding bytes are BadEmbedding`() {
        val good = emb.toBytes()
        expect<EdgeSamException.BadEmbedding> { ImageEmbedding.fromBytes(ByteArray(0)) }
        expect<EdgeSamException.BadEmbedding> { ImageEmbedding.fromBytes(good.copyOf(good.size - 4)) }
        expect<EdgeSamException.BadEmbedding> { ImageEmbedding.fromBytes(good + byteArrayOf(0)) }
        expect<EdgeSamException.BadEmbedding> { ImageEmbedding.fromBytes(good.copyOf().also { it[0] = (it[0] + 1).toByte() }) }
        expect<EdgeSamException.BadEmbedding> { ImageEmbedding.fromBytes(Random(3).nextBytes(good.size)) }
        // A NaN among the values (little-endian 0x7fc00000 in the last float).
        val nan = good.copyOf().also {
            val at = it.size - 4
            it[at] = 0; it[at + 1] = 0; it[at + 2] = 0xC0.toByte(); it[at + 3] = 0x7F
        }
        expect<EdgeSamException.BadEmbedding> { ImageEmbedding.fromBytes(nan) }
    }

    @Test
    fun `an embedding made by another encoder is BadEmbedding`() {
        // Header: 8 bytes magic, u32 version, u32 width, u32 height, then the encoder's SHA-256.
        val other = emb.toBytes().also { it[20] = (it[20].toInt() xor 0xFF).toByte() }
        val foreign = ImageEmbedding.fromBytes(other)
        expect<EdgeSamException.BadEmbedding> { model.segment(foreign, Fixtures.prompts[0]) }
    }

    @Test
    fun `the model still works after errors`() {
        runCatching { model.encodeImage(ByteArray(1)) }
        runCatching { model.segment(emb, SegmentPrompt()) }
        Fixtures.assertConsistent(model.segment(emb, Fixtures.prompts[0]))
    }
}
