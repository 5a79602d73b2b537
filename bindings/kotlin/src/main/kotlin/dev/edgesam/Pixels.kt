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

/** R, G, B, A bytes (an [RgbaImage]'s) as ARGB_8888 colour ints for a Bitmap. */
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

/**
 * This picture ([Cutout.image], [SegmentMask.tinted], [SegmentMask.overlay], [decodeImage]) as
 * ARGB_8888 colour ints of [RgbaImage.width] per row, for `Bitmap.createBitmap`.
 */
fun RgbaImage.toArgbPixels(): IntArray {
    require(rgba.size.toLong() == width.toLong() * height * 4) {
        "${rgba.size} bytes are not ${width}x$height R, G, B, A pixels"
    }
    return rgbaToArgb(rgba)
}
