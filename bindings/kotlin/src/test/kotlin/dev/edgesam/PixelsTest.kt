package dev.edgesam

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class PixelsTest {
    @Test
    fun `ARGB ints become R, G, B, A bytes and back, sign bits included`() {
        val argb = intArrayOf(0xFF102030.toInt(), 0x80FF00FF.toInt(), 0x00000000, 0x7F0180FE)
        val rgba = argbToRgba(argb)
        val expected = intArrayOf(0x10, 0x20, 0x30, 0xFF, 0xFF, 0x00, 0xFF, 0x80, 0, 0, 0, 0, 0x01, 0x80, 0xFE, 0x7F)
        assertArrayEquals(expected.map { it.toByte() }.toByteArray(), rgba)
        assertArrayEquals(argb, rgbaToArgb(rgba))
    }

    @Test
    fun `bytes that are not whole pixels are refused`() {
        assertThrows<IllegalArgumentException> { rgbaToArgb(ByteArray(6)) }
    }

    @Test
    fun `a mask is the tint inside and transparent outside`() {
        val tint = 0x40FF8000
        assertArrayEquals(intArrayOf(0, tint, tint, 0), maskToArgb(byteArrayOf(0, -1, 1, 0), tint))
        assertEquals(DEFAULT_MASK_TINT, maskToArgb(byteArrayOf(-1))[0])
    }

    @Test
    fun `encoding ARGB pixels equals encoding the PNG, and the cut-out converts pixel for pixel`() {
        // BufferedImage.getRGB gives the same 0xAARRGGBB ints as Bitmap.getPixels.
        val (w, h) = Fixtures.WIDTH to Fixtures.HEIGHT
        val argb = Fixtures.photo.getRGB(0, 0, w, h, null, 0, w)
        Fixtures.model.encodePixels(argbToRgba(argb), w, h, w * 4, PixelFormat.RGBA8).use { fromPixels ->
            assertArrayEquals(Fixtures.embedding.toBytes(), fromPixels.toBytes())
        }
        val s = Fixtures.model.segment(Fixtures.embedding, SegmentPrompt.point(w / 2f, h / 2f))
        val pixels = SegmentMask.fromSegmentation(s).use { it.cutout(Fixtures.photoPng) }.toArgbPixels()
        assertEquals(argb.size, pixels.size)
        for (i in pixels.indices) {
            assertEquals(if (s.mask[i] != 0.toByte()) argb[i] else 0, pixels[i], "pixel $i")
        }
        assertArrayEquals(maskToArgb(s.mask), s.toArgbPixels())
    }
}
