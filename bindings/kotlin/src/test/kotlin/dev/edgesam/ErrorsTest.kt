package dev.edgesam

import java.io.File
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * 5. Every failure comes back as the `EdgeSamException` subclass an app can act on. The bad-input
 * matrix itself is the Rust suite's (core/tests); here one input per error kind proves that it
 * arrives typed and readable, and that the objects stay usable afterwards.
 */
class ErrorsTest {
    private val model = Fixtures.model
    private val emb = Fixtures.embedding
    private val encoderBytes = Fixtures.encoderFile.readBytes()
    private val decoderBytes = Fixtures.decoderFile.readBytes()

    /** The reason, non-empty and said once (the message used to repeat its category, "bad image: bad image: ..."). */
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
        return reason
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

    @Test
    fun `each error kind arrives as its own class with a readable message`() {
        val pixels = Fixtures.rgba(Fixtures.photo, Fixtures.WIDTH * 4)
        val cases: List<Triple<Class<out EdgeSamException>, String, () -> Unit>> = listOf(
            Triple(EdgeSamException.FileNotFound::class.java, "cannot read the model file", {
                SegmentAnything.fromFiles(File(Fixtures.modelsDir, "no-such-encoder.onnx").path, Fixtures.decoderFile.path)
            }),
            Triple(EdgeSamException.NotAModel::class.java, "the encoder model is not a readable ONNX file", {
                SegmentAnything.fromBytes(ByteArray(0), decoderBytes)
            }),
            Triple(EdgeSamException.WrongModel::class.java, "the encoder model does not match the EdgeSAM encoder contract", {
                SegmentAnything.fromBytes(decoderBytes, encoderBytes)
            }),
            Triple(EdgeSamException.BadImage::class.java, "bad image: ", { model.encodeImage(ByteArray(3)) }),
            // A negative Int must not wrap around to a (too) large size.
            Triple(EdgeSamException.BadImage::class.java, "bad image: width -1 is negative", {
                model.encodePixels(pixels, -1, Fixtures.HEIGHT, Fixtures.WIDTH * 4, PixelFormat.RGBA8)
            }),
            Triple(EdgeSamException.BadImage::class.java, "image of 1x1 pixels is not supported", {
                model.encodePixels(ByteArray(4), 1, 1, 4, PixelFormat.RGBA8)
            }),
            Triple(EdgeSamException.BadPrompt::class.java, "bad prompt: ", { model.segment(emb, SegmentPrompt()) }),
            Triple(EdgeSamException.BadPrompt::class.java, "mask index 4 is out of range", {
                model.segment(emb, SegmentPrompt(points = listOf(PromptPoint(5f, 5f)), maskIndex = 4))
            }),
            Triple(EdgeSamException.BadEmbedding::class.java, "bad embedding: ", { ImageEmbedding.fromBytes(ByteArray(0)) }),
            Triple(EdgeSamException.BadMask::class.java, "bad mask: ", { SegmentMask(2, 2, ByteArray(3)) }),
            Triple(EdgeSamException.BadOptions::class.java, "", {
                model.everything(emb, EverythingOptions(pointsPerSide = 0))
            }),
        )
        for ((kind, start, call) in cases) {
            val e = assertThrows<EdgeSamException>(call)
            assertEquals(kind, e::class.java, "expected ${kind.simpleName}, got $e")
            val reason = reasonOf(e)
            assertTrue(reason.startsWith(start), "reason '$reason' should start with '$start'")
            // The generated message adds only UniFFI's field label.
            assertEquals("reason=$reason", e.message)
        }
    }

    @Test
    fun `a panic in the library arrives as Internal and leaves the model usable`() {
        // A listener that throws makes UniFFI's Rust side panic ("callback interface failure"),
        // which the library catches.
        val throwing = object : EverythingListener {
            override fun onProgress(progress: EverythingProgress) = throw IllegalStateException("listener failed")
        }
        val e = assertThrows<EdgeSamException.Internal> {
            model.everything(emb, EverythingOptions(pointsPerSide = 2), throwing)
        }
        assertTrue(reasonOf(e).contains("panic"), e.reason)
        Fixtures.assertConsistent(model.segment(emb, Fixtures.prompts[0]))
    }

    @Test
    fun `the async calls throw the same classes`() {
        reasonOf(assertThrows<EdgeSamException.BadImage> { runBlocking { model.encodeImageAsync(ByteArray(3)) } })
        reasonOf(
            assertThrows<EdgeSamException.BadImage> {
                runBlocking { model.encodePixelsAsync(ByteArray(10), 8, -8, 32, PixelFormat.RGBA8) }
            },
        )
        reasonOf(
            assertThrows<EdgeSamException.BadPrompt> {
                runBlocking { model.segmentAsync(emb, SegmentPrompt(points = listOf(PromptPoint(50f, 50f)), maskIndex = -1)) }
            },
        )
    }

    @Test
    fun `a cancelled call reads as such`() {
        val token = CancellationToken()
        token.cancel()
        val e = assertThrows<EdgeSamException.Cancelled> { runBlocking { model.encodeImageAsync(Fixtures.photoPng, cancellation = token) } }
        // The generated Cancelled has no field, so UniFFI's message for it is empty: the `reason`
        // extension (Conveniences.kt) is the text to show people.
        assertEquals("the call was cancelled", reasonOf(e))
    }

    @Test
    fun `the objects still work after errors`() {
        val before = model.segment(emb, Fixtures.prompts[0])
        runCatching { model.encodeImage(ByteArray(1)) }
        runCatching { model.segment(emb, SegmentPrompt()) }
        runCatching { ImageEmbedding.fromBytes(emb.toBytes().copyOf(10)) }
        Fixtures.assertSameSegmentation(before, model.segment(emb, Fixtures.prompts[0]))
        assertArrayEquals(emb.toBytes(), model.encodeImage(Fixtures.photoPng).toBytes())
        val mask = before.mask
        assertThrows<EdgeSamException.BadMask> { mask.union(SegmentMask(2, 1, ByteArray(2))) }
        assertEquals(mask, mask.union(mask))
    }
}
