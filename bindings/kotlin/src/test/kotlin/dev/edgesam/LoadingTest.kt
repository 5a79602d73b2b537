package dev.edgesam

import dev.edgesam.Fixtures.assertConsistent
import dev.edgesam.Fixtures.assertSameSegmentation
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** 1. The tiny stand-in pair loads from files and from bytes, and both give the same answers, on any number of threads. */
class LoadingTest {
    @Test
    fun `loads from files`() {
        SegmentAnything.fromFiles(Fixtures.encoderFile.path, Fixtures.decoderFile.path, threads = 1).use { model ->
            model.encodeImage(Fixtures.photoPng).use { emb ->
                assertEquals(Fixtures.WIDTH, emb.width())
                assertEquals(Fixtures.HEIGHT, emb.height())
                assertConsistent(model.segment(emb, Fixtures.prompts[0]))
            }
        }
    }

    @Test
    fun `loads from bytes and matches the files`() {
        val fromBytes = SegmentAnything.fromBytes(Fixtures.encoderFile.readBytes(), Fixtures.decoderFile.readBytes())
        fromBytes.use { model ->
            val emb = model.encodeImage(Fixtures.photoPng)
            for ((i, prompt) in Fixtures.prompts.withIndex()) {
                val expected = Fixtures.model.segment(Fixtures.embedding, prompt)
                assertSameSegmentation(expected, model.segment(emb, prompt), "prompt $i")
            }
            emb.close()
        }
    }

    @Test
    fun `zero threads mean one per core and a negative count is BadOptions`() {
        val encoder = Fixtures.encoderFile.readBytes()
        val decoder = Fixtures.decoderFile.readBytes()
        SegmentAnything.fromBytes(encoder, decoder, 0).use { m ->
            assertArrayEquals(Fixtures.embedding.toBytes(), m.encodeImage(Fixtures.photoPng).toBytes())
        }
        val refused = assertThrows<EdgeSamException.BadOptions> { SegmentAnything.fromBytes(encoder, decoder, -1) }
        assertEquals("threads must be 0 or more, not -1", refused.reason)
    }
}
