package dev.edgesam

import dev.edgesam.Fixtures.assertSameSegmentation
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/**
 * 2. A PNG and the same photo as padded RGBA, BGRA or RGB pixels, upright or stored sideways with
 * their orientation, encode to the same embedding.
 */
class EncodeTest {
    @Test
    fun `png bytes and padded rgba pixels give identical segmentations`() {
        val model = Fixtures.model
        val fromPng = model.encodeImage(Fixtures.photoPng)
        val stride = Fixtures.WIDTH * 4 + 12 // three pixels of padding per row
        val pixels = Fixtures.rgba(Fixtures.photo, stride)
        val fromPixels = model.encodePixels(
            pixels, Fixtures.WIDTH, Fixtures.HEIGHT, stride, PixelFormat.RGBA8,
        )
        assertEquals(fromPng.width(), fromPixels.width())
        assertEquals(fromPng.height(), fromPixels.height())
        // Same pixels in, same tensor out.
        assertArrayEquals(fromPng.toBytes(), fromPixels.toBytes(), "embeddings differ")
        for ((i, prompt) in Fixtures.prompts.withIndex()) {
            assertSameSegmentation(model.segment(fromPng, prompt), model.segment(fromPixels, prompt), "prompt $i")
        }
    }

    @Test
    fun `a buffer whose last row has no padding is accepted`() {
        // Android bitmaps and some CGImages end without the last row's padding.
        val stride = Fixtures.WIDTH * 4 + 8
        val full = Fixtures.rgba(Fixtures.photo, stride)
        val short = full.copyOf(full.size - 8)
        val emb = Fixtures.model.encodePixels(
            short, Fixtures.WIDTH, Fixtures.HEIGHT, stride, PixelFormat.RGBA8,
        )
        assertArrayEquals(Fixtures.embedding.toBytes(), emb.toBytes())
    }

    @Test
    fun `bgra and rgb layouts decode to the same photo`() {
        val w = Fixtures.WIDTH
        val h = Fixtures.HEIGHT
        val rgba = Fixtures.rgba(Fixtures.photo, w * 4)
        val bgra = ByteArray(rgba.size)
        val rgb = ByteArray(w * h * 3)
        for (i in 0 until w * h) {
            bgra[i * 4] = rgba[i * 4 + 2]; bgra[i * 4 + 1] = rgba[i * 4 + 1]
            bgra[i * 4 + 2] = rgba[i * 4]; bgra[i * 4 + 3] = rgba[i * 4 + 3]
            rgb[i * 3] = rgba[i * 4]; rgb[i * 3 + 1] = rgba[i * 4 + 1]; rgb[i * 3 + 2] = rgba[i * 4 + 2]
        }
        val expected = Fixtures.embedding.toBytes()
        val model = Fixtures.model
        assertArrayEquals(expected, model.encodePixels(bgra, w, h, w * 4, PixelFormat.BGRA8).toBytes())
        assertArrayEquals(expected, model.encodePixels(rgb, w, h, w * 3, PixelFormat.RGB8).toBytes())
    }

    @Test
    fun `pixels stored sideways encode as the upright photo when their orientation is given`() {
        val model = Fixtures.model
        val stored = Fixtures.storedRight(Fixtures.photo)
        val sideways = Fixtures.rgba(stored, stored.width * 4)
        val upright = model.encodePixels(sideways, stored.width, stored.height, stored.width * 4, PixelFormat.RGBA8, Orientation.RIGHT)
        assertEquals(ImageSize(Fixtures.WIDTH, Fixtures.HEIGHT), upright.size)
        assertArrayEquals(Fixtures.embedding.toBytes(), upright.toBytes())
        for ((i, prompt) in Fixtures.prompts.withIndex()) {
            assertSameSegmentation(model.segment(Fixtures.embedding, prompt), model.segment(upright, prompt), "prompt $i")
        }
        // Without the orientation they are a photo lying on its side.
        val asStored = model.encodePixels(sideways, stored.width, stored.height, stored.width * 4, PixelFormat.RGBA8)
        assertEquals(ImageSize(Fixtures.HEIGHT, Fixtures.WIDTH), asStored.size)
    }
}
