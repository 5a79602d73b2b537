package dev.edgesam

import dev.edgesam.Fixtures.assertSameSegmentation
import java.nio.file.Files
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/** 6. An embedding written with toBytes and read back with fromBytes segments the same. */
class EmbeddingBytesTest {
    @Test
    fun `toBytes and fromBytes round trip`() {
        val original = Fixtures.embedding
        val bytes = original.toBytes()
        // 52-byte header + 256x64x64 float32 values.
        assertEquals(52 + 256 * 64 * 64 * 4, bytes.size)

        // Through a file, as an app caching embeddings per photo would.
        val file = Files.createTempFile("edgesam-embedding", ".bin").toFile()
        try {
            file.writeBytes(bytes)
            ImageEmbedding.fromBytes(file.readBytes()).use { restored ->
                assertEquals(original.width(), restored.width())
                assertEquals(original.height(), restored.height())
                assertArrayEquals(bytes, restored.toBytes())
                for ((i, prompt) in Fixtures.prompts.withIndex()) {
                    assertSameSegmentation(
                        Fixtures.model.segment(original, prompt),
                        Fixtures.model.segment(restored, prompt),
                        "prompt $i",
                    )
                }
            }
        } finally {
            file.delete()
        }
    }

    @Test
    fun `an embedding is usable by another instance of the same model pair`() {
        val bytes = Fixtures.embedding.toBytes()
        SegmentAnything.fromBytes(Fixtures.encoderFile.readBytes(), Fixtures.decoderFile.readBytes(), 1).use { other ->
            val restored = ImageEmbedding.fromBytes(bytes)
            assertSameSegmentation(
                Fixtures.model.segment(Fixtures.embedding, Fixtures.prompts[1]),
                other.segment(restored, Fixtures.prompts[1]),
            )
        }
    }
}
