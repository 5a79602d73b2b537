package dev.edgesam

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Pixels.kt: the library's R, G, B, A bytes and Android's ARGB_8888 colour ints. */
class PixelsTest {
    @Test
    fun `ARGB ints become R, G, B, A bytes and back, sign bits included`() {
        val argb = intArrayOf(0xFF102030.toInt(), 0x80FF00FF.toInt(), 0x00000000, 0x7F0180FE)
        val rgba = argbToRgba(argb)
        val expected = intArrayOf(0x10, 0x20, 0x30, 0xFF, 0xFF, 0x00, 0xFF, 0x80, 0, 0, 0, 0, 0x01, 0x80, 0xFE, 0x7F)
        assertArrayEquals(expected.map { it.toByte() }.toByteArray(), rgba)
        assertArrayEquals(argb, rgbaToArgb(rgba))
        assertArrayEquals(argb, RgbaImage(2, 2, rgba).toArgbPixels())
    }

    @Test
    fun `bytes that are not whole pixels, or not the picture's size, are refused`() {
        assertThrows<IllegalArgumentException> { rgbaToArgb(ByteArray(6)) }
        assertThrows<IllegalArgumentException> { RgbaImage(3, 2, ByteArray(16)).toArgbPixels() }
    }

    @Test
    fun `encoding ARGB pixels equals encoding the PNG, and the cut-out converts pixel for pixel`() {
        // BufferedImage.getRGB gives the same 0xAARRGGBB ints as Bitmap.getPixels.
        val (w, h) = Fixtures.WIDTH to Fixtures.HEIGHT
        val argb = Fixtures.photo.getRGB(0, 0, w, h, null, 0, w)
        Fixtures.model.encodePixels(argbToRgba(argb), w, h, w * 4, PixelFormat.RGBA8).use { fromPixels ->
            assertArrayEquals(Fixtures.embedding.toBytes(), fromPixels.toBytes())
        }
        val mask = Fixtures.model.segment(Fixtures.embedding, SegmentPrompt.point(w / 2f, h / 2f)).mask
        val inside = mask.bytes()
        val cutout = mask.cutout(Fixtures.photoPng).image.toArgbPixels()
        val tinted = mask.tinted(MaskColor(1u, 2u, 3u, 4u)).toArgbPixels()
        assertEquals(argb.size, cutout.size)
        assertEquals(argb.size, tinted.size)
        for (i in cutout.indices) {
            val isInside = inside[i] != 0.toByte()
            assertEquals(if (isInside) argb[i] else 0, cutout[i], "cut-out pixel $i")
            assertEquals(if (isInside) 0x04010203 else 0, tinted[i], "tinted pixel $i")
        }
    }
}
