package dev.edgesam

import java.io.File
import kotlin.random.Random
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** 5. Every failure comes back as the `EdgeSamException` subclass an app can act on. */
class ErrorsTest {
    private val model = Fixtures.model
    private val emb = Fixtures.embedding
    private val encoderBytes = Fixtures.encoderFile.readBytes()
    private val decoderBytes = Fixtures.decoderFile.readBytes()

    /**
     * The reason, non-empty and said once (the message used to repeat its category, "bad image:
     * bad image: ..."); printed so a run shows what an app would get.
     */
    private fun reasonOf(e: EdgeSamException): String {
        val reason = when (e) {
            is EdgeSamException.FileNotFound -> e.reason
            is EdgeSamException.NotAModel -> e.reason
            is EdgeSamException.WrongModel -> e.reason
            is EdgeSamException.BadImage -> e.reason
            is EdgeSamException.BadPrompt -> e.reason
            is EdgeSamException.BadEmbedding -> e.reason
            is EdgeSamException.BadMask -> e.reason
            is EdgeSamException.BadOptions -> e.reason
            is EdgeSamException.Internal -> e.reason
            // No field: the `reason` extension of Conveniences.kt gives its text.
            is EdgeSamException.Cancelled -> e.reason
        }
        assertTrue(reason.isNotBlank(), "${e::class.simpleName} has an empty reason")
        assertNotDoublePrefixed(reason)
        if (e !is EdgeSamException.Cancelled) {
            val message = e.message
            assertTrue(!message.isNullOrBlank(), "${e::class.simpleName} has an empty message")
            // The generated message quotes the reason (as `reason=...`): once, and nothing else.
            assertTrue(message!!.endsWith(reason), "message '$message' does not end with the reason '$reason'")
            assertNotDoublePrefixed(message)
        }
        println("  ${e::class.simpleName}: $reason")
        return reason
    }

    private inline fun <reified E : EdgeSamException> expect(noinline call: () -> Unit) {
        reasonOf(assertThrows<E>(call))
    }

    /** Like [expect], and the reason mentions [word] (e.g. which argument was negative). */
    private inline fun <reified E : EdgeSamException> expectMentioning(word: String, noinline call: () -> Unit) {
        val reason = reasonOf(assertThrows<E>(call))
        assertTrue(reason.contains(word), "reason '$reason' does not mention '$word'")
    }

    companion object {
        /** The prefixes the bindings used to put before the core's own message. */
        private val oldPrefixes = listOf(
            "file not found or unreadable: ", "not a model: ", "wrong model: ", "bad image: ",
            "bad prompt: ", "bad embedding: ", "cancelled",
        )

        /** No category said twice in a row, and none of the bindings' old prefixes before the core's. */
        fun assertNotDoublePrefixed(text: String) {
            val body = text.removePrefix("reason=")
            for (prefix in oldPrefixes) {
                assertFalse(body.contains(prefix + prefix), "'$text' repeats '$prefix'")
            }
            for (outer in oldPrefixes.take(3)) {
                assertFalse(body.startsWith(outer), "'$text' starts with the old prefix '$outer'")
            }
            for ((outer, inner) in listOf("bad image: " to "image of ", "bad prompt: " to "mask index ")) {
                assertFalse(body.startsWith(outer + inner), "'$text' has the old double prefix '$outer$inner'")
            }
        }
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
        expect<EdgeSamException.BadImage> { model.encodePixels(ByteArray(4), 1, 1, 4, PixelFormat.RGBA8) }
        expect<EdgeSamException.BadImage> { model.encodePixels(ByteArray(0), 0, 0, 0, PixelFormat.RGBA8) }
    }

    @Test
    fun `a stride shorter than a row is BadImage`() {
        val w = Fixtures.WIDTH
        val h = Fixtures.HEIGHT
        val pixels = Fixtures.rgba(Fixtures.photo, w * 4)
        expect<EdgeSamException.BadImage> {
            model.encodePixels(pixels, w, h, w * 4 - 1, PixelFormat.RGBA8)
        }
        expect<EdgeSamException.BadImage> {
            model.encodePixels(pixels, w, h, w * 3, PixelFormat.RGBA8)
        }
    }

    @Test
    fun `a buffer too short for its size is BadImage`() {
        val w = Fixtures.WIDTH
        val h = Fixtures.HEIGHT
        val pixels = Fixtures.rgba(Fixtures.photo, w * 4)
        expect<EdgeSamException.BadImage> {
            model.encodePixels(pixels.copyOf(pixels.size - 1), w, h, w * 4, PixelFormat.RGBA8)
        }
        expect<EdgeSamException.BadImage> {
            model.encodePixels(pixels, w, h + 1, w * 4, PixelFormat.RGBA8)
        }
        expect<EdgeSamException.BadImage> { model.encodePixels(ByteArray(0), 4, 4, 16, PixelFormat.BGRA8) }
    }

    @Test
    fun `the async encoders report the same errors`() {
        reasonOf(assertThrows<EdgeSamException.BadImage> { runBlocking { model.encodeImageAsync(ByteArray(3)) } })
        reasonOf(
            assertThrows<EdgeSamException.BadImage> {
                runBlocking { model.encodePixelsAsync(ByteArray(10), 8, 8, 31, PixelFormat.RGBA8) }
            },
        )
    }

    @Test
    fun `a negative width, height or stride is BadImage`() {
        val w = Fixtures.WIDTH
        val h = Fixtures.HEIGHT
        val pixels = Fixtures.rgba(Fixtures.photo, w * 4)
        expectMentioning<EdgeSamException.BadImage>("negative") { model.encodePixels(pixels, -w, h, w * 4, PixelFormat.RGBA8) }
        expectMentioning<EdgeSamException.BadImage>("negative") { model.encodePixels(pixels, w, -h, w * 4, PixelFormat.RGBA8) }
        expectMentioning<EdgeSamException.BadImage>("negative") { model.encodePixels(pixels, w, h, -(w * 4), PixelFormat.RGBA8) }
        expectMentioning<EdgeSamException.BadImage>("negative") { model.encodePixels(pixels, Int.MIN_VALUE, h, w * 4, PixelFormat.RGBA8) }
        expectMentioning<EdgeSamException.BadImage>("negative") { model.encodePixels(pixels, w, h, -1, PixelFormat.RGB8) }
        // -1 must not wrap around to 4294967295 and pass as a (too) large size.
        expectMentioning<EdgeSamException.BadImage>("-1") { model.encodePixels(pixels, -1, -1, -1, PixelFormat.BGRA8) }
        reasonOf(
            assertThrows<EdgeSamException.BadImage> {
                runBlocking { model.encodePixelsAsync(pixels, w, -h, w * 4, PixelFormat.RGBA8) }
            },
        )
    }

    @Test
    fun `zero or negative threads means one per core`() {
        for (threads in listOf(0, -1, Int.MIN_VALUE)) {
            SegmentAnything.fromBytes(encoderBytes, decoderBytes, threads).use { m ->
                assertArrayEquals(emb.toBytes(), m.encodeImage(Fixtures.photoPng).toBytes(), "threads = $threads")
            }
        }
    }

    // Prompts.

    @Test
    fun `no points and no box is BadPrompt`() {
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt()) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = emptyList(), rect = null, maskIndex = 1)) }
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
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = listOf(PromptPoint(50f, 50f)), maskIndex = 4)) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(rect = PromptRect(1f, 1f, 9f, 9f), maskIndex = Int.MAX_VALUE)) }
    }

    @Test
    fun `a negative mask index is BadPrompt`() {
        val point = listOf(PromptPoint(50f, 50f))
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(points = point, maskIndex = -1)) }
        expect<EdgeSamException.BadPrompt> { model.segment(emb, SegmentPrompt(rect = PromptRect(1f, 1f, 9f, 9f), maskIndex = Int.MIN_VALUE)) }
        reasonOf(
            assertThrows<EdgeSamException.BadPrompt> {
                runBlocking { model.segmentAsync(emb, SegmentPrompt(points = point, maskIndex = -1)) }
            },
        )
    }

    // Messages.

    @Test
    fun `messages are the core's own, prefixed once`() {
        val pixels = Fixtures.rgba(Fixtures.photo, Fixtures.WIDTH * 4)
        val cases: List<Pair<String, () -> Unit>> = listOf(
            "bad image: " to { model.encodeImage(ByteArray(3)) },
            "bad image: " to { model.encodePixels(pixels, -1, Fixtures.HEIGHT, Fixtures.WIDTH * 4, PixelFormat.RGBA8) },
            "image of 1x1 pixels is not supported" to { model.encodePixels(ByteArray(4), 1, 1, 4, PixelFormat.RGBA8) },
            "bad prompt: " to { model.segment(emb, SegmentPrompt()) },
            "mask index 4 is out of range" to { model.segment(emb, SegmentPrompt(points = listOf(PromptPoint(5f, 5f)), maskIndex = 4)) },
            "bad embedding: " to { ImageEmbedding.fromBytes(ByteArray(0)) },
            "cannot read the model file" to { SegmentAnything.fromFiles("/no/such/encoder.onnx", Fixtures.decoderFile.path) },
            "the encoder model is not a readable ONNX file" to { SegmentAnything.fromBytes(ByteArray(0), decoderBytes) },
            "the encoder model does not match the EdgeSAM encoder contract" to { SegmentAnything.fromBytes(decoderBytes, encoderBytes) },
        )
        for ((start, call) in cases) {
            val e = assertThrows<EdgeSamException>(call)
            val reason = reasonOf(e)
            assertTrue(reason.startsWith(start), "reason '$reason' should start with '$start'")
            // The generated message adds only UniFFI's field label.
            assertEquals("reason=$reason", e.message)
        }
    }

    @Test
    fun `a cancelled call reads as such`() {
        val token = CancellationToken()
        token.cancel()
        val e = assertThrows<EdgeSamException.Cancelled> { runBlocking { model.encodeImageAsync(Fixtures.photoPng, token) } }
        assertEquals("the call was cancelled", reasonOf(e))
        // The generated Cancelled has no field, so UniFFI's message for it is empty: show the
        // `reason` extension (Conveniences.kt) to people instead.
        println("  Cancelled: generated message '${e.message}'")
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
