// Android's Bitmap in and out of the library: thin wrappers over the plain-Kotlin pixel layouts in
// bindings/kotlin (Pixels.kt), which the JVM suite tests. Tinting, cutting out and drawing over the
// photo are the library's (SegmentMask); only the Bitmap conversions are here.
@file:JvmName("EdgeSamBitmaps")

package dev.edgesam.android

import android.graphics.Bitmap
import android.os.Build
import dev.edgesam.CancellationToken
import dev.edgesam.ImageEmbedding
import dev.edgesam.MaskColor
import dev.edgesam.PixelFormat
import dev.edgesam.ProgressListener
import dev.edgesam.RgbaImage
import dev.edgesam.SegmentAnything
import dev.edgesam.SegmentMask
import dev.edgesam.argbToRgba
import dev.edgesam.encode
import dev.edgesam.toArgbPixels
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * The Bitmap's pixels (any config: read as ARGB_8888 colours, straight alpha) as tightly packed
 * R, G, B, A bytes, `width * 4` per row. Call it off the main thread: 8 bytes per pixel pass
 * through here, some 100 MB for a 12 MP photo.
 */
private fun Bitmap.rgbaBytes(): ByteArray {
    // Hardware bitmaps (ImageDecoder's default) live on the GPU: getPixels throws on them.
    val readable = if (Build.VERSION.SDK_INT >= 26 && config == Bitmap.Config.HARDWARE) {
        copy(Bitmap.Config.ARGB_8888, false)
    } else {
        this
    }
    val argb = IntArray(width * height)
    readable.getPixels(argb, 0, width, 0, 0, width, height)
    return argbToRgba(argb)
}

/**
 * Encodes a Bitmap as it is on worker threads; [progress] is told of each step of the encoder
 * (from a worker thread), and the call is cancelled with the calling coroutine or [cancellation],
 * like [SegmentAnything.encode].
 *
 * A Bitmap carries no orientation: decode photos upright (`ImageDecoder` applies EXIF), or hand
 * the file's bytes to `encode(bytes)`, which applies EXIF itself. Mask pixel (x, y) is Bitmap
 * pixel (x, y).
 */
suspend fun SegmentAnything.encode(
    bitmap: Bitmap,
    progress: ProgressListener? = null,
    cancellation: CancellationToken? = null,
): ImageEmbedding {
    val rgba = withContext(Dispatchers.Default) { bitmap.rgbaBytes() }
    return encode(rgba, bitmap.width, bitmap.height, progress = progress, cancellation = cancellation)
}

/** This picture ([SegmentMask.tinted], [SegmentMask.overlay], a cut-out's image) as a Bitmap. */
fun RgbaImage.toBitmap(): Bitmap =
    Bitmap.createBitmap(toArgbPixels(), width, height, Bitmap.Config.ARGB_8888)

/**
 * The mask in [color] (the library's default tint when null) on transparency, at the photo's
 * size, to draw over it.
 */
fun SegmentMask.toBitmap(color: MaskColor? = null): Bitmap = tinted(color).toBitmap()

/**
 * The object cut out of [photo] (the upright Bitmap that was encoded) on transparency: the whole
 * photo's size when [cropPadding] is null, else the mask's box grown by that many pixels. For
 * photos the library cannot decode itself (HEIC); with JPEG, PNG or WebP bytes,
 * `cutout(imageData, cropPadding)` does the same. Throws [dev.edgesam.EdgeSamException.BadMask]
 * when the photo is not the mask's size. Call it off the main thread.
 */
fun SegmentMask.cutout(photo: Bitmap, cropPadding: Int? = null): Bitmap =
    cutoutPixels(photo.rgbaBytes(), photo.width, photo.height, photo.width * 4, PixelFormat.RGBA8, cropPadding = cropPadding)
        .image.toBitmap()
