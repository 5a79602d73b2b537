// Pixel layouts between the library and Android's Bitmap, in plain Kotlin: the Android module's
// Bitmap conveniences are thin wrappers over these, and the JVM suite tests them here.
//
// Android's ARGB_8888 colour ints (`Bitmap.getPixels`, `Bitmap.createBitmap(IntArray, ...)`) are
// 0xAARRGGBB with straight alpha; the library reads and writes R, G, B, A bytes.
@file:JvmName("EdgeSamPixels")

package dev.edgesam

/** ARGB_8888 colour ints, row after row, as R, G, B, A bytes for `encodePixels(..., PixelFormat.RGBA8)`. */
fun argbToRgba(argb: IntArray): ByteArray {
    val rgba = ByteArray(argb.size * 4)
    for (i in argb.indices) {
        val c = argb[i]
        rgba[i * 4] = (c ushr 16).toByte()
        rgba[i * 4 + 1] = (c ushr 8).toByte()
        rgba[i * 4 + 2] = c.toByte()
        rgba[i * 4 + 3] = (c ushr 24).toByte()
    }
    return rgba
}

/** R, G, B, A bytes ([Cutout.rgba], [SegmentMask.overlay]) as ARGB_8888 colour ints for a Bitmap. */
fun rgbaToArgb(rgba: ByteArray): IntArray {
    require(rgba.size % 4 == 0) { "${rgba.size} bytes are not whole R, G, B, A pixels" }
    return IntArray(rgba.size / 4) { i ->
        val r = rgba[i * 4].toInt() and 0xFF
        val g = rgba[i * 4 + 1].toInt() and 0xFF
        val b = rgba[i * 4 + 2].toInt() and 0xFF
        val a = rgba[i * 4 + 3].toInt() and 0xFF
        (a shl 24) or (r shl 16) or (g shl 8) or b
    }
}

/** The default tint of a mask overlay: the CLI's blue at half opacity (0xAARRGGBB). */
const val DEFAULT_MASK_TINT: Int = 0x801E90FF.toInt()

/**
 * A mask (one byte per pixel, non-zero inside) as ARGB_8888 colour ints: [tint] (0xAARRGGBB,
 * straight alpha) inside, transparent outside, to draw over the photo.
 */
fun maskToArgb(mask: ByteArray, tint: Int = DEFAULT_MASK_TINT): IntArray =
    IntArray(mask.size) { i -> if (mask[i] != 0.toByte()) tint else 0 }

/** This mask in [tint] on transparency, as ARGB_8888 colour ints of [Segmentation.width] per row. */
fun Segmentation.toArgbPixels(tint: Int = DEFAULT_MASK_TINT): IntArray = maskToArgb(mask, tint)

/** This cut-out as ARGB_8888 colour ints of `region.width` per row. */
fun Cutout.toArgbPixels(): IntArray = rgbaToArgb(rgba)
