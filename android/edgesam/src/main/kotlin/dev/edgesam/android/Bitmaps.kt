// Android's Bitmap in and out of the library: thin wrappers over the plain-Kotlin pixel layouts in
// bindings/kotlin (Pixels.kt), which the JVM suite tests.
@file:JvmName("EdgeSamBitmaps")

package dev.edgesam.android

import android.graphics.Bitmap
import android.graphics.Canvas
import android.graphics.Paint
import android.graphics.PorterDuff
import android.graphics.PorterDuffXfermode
import android.os.Build
import dev.edgesam.CancellationToken
import dev.edgesam.Cutout
import dev.edgesam.DEFAULT_MASK_TINT
import dev.edgesam.ImageEmbedding
import dev.edgesam.PixelFormat
import dev.edgesam.SegmentAnything
import dev.edgesam.SegmentMask
import dev.edgesam.Segmentation
import dev.edgesam.argbToRgba
import dev.edgesam.encode
import dev.edgesam.maskToArgb
import dev.edgesam.toArgbPixels
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Encodes a Bitmap as it is (any config: it is read as ARGB_8888 colours, straight alpha) on
 * worker threads; cancelled with the calling coroutine like [SegmentAnything.encode].
 *
 * A Bitmap carries no orientation: decode photos upright (`ImageDecoder` applies EXIF), or hand
 * the file's bytes to `encode(bytes)`, which applies EXIF itself. Mask pixel (x, y) is Bitmap
 * pixel (x, y).
 */
suspend fun SegmentAnything.encode(bitmap: Bitmap, cancellation: CancellationToken? = null): ImageEmbedding {
    val width = bitmap.width
    val height = bitmap.height
    // 4 bytes per pixel twice over for a 12 MP photo: off the caller's (often the main) thread.
    val rgba = withContext(Dispatchers.Default) {
        // Hardware bitmaps (ImageDecoder's default) live on the GPU: getPixels throws on them.
        val readable = if (Build.VERSION.SDK_INT >= 26 && bitmap.config == Bitmap.Config.HARDWARE) {
            bitmap.copy(Bitmap.Config.ARGB_8888, false)
        } else {
            bitmap
        }
        val argb = IntArray(width * height)
        readable.getPixels(argb, 0, width, 0, 0, width, height)
        argbToRgba(argb)
    }
    return encode(rgba, width, height, width * 4, PixelFormat.RGBA8, cancellation)
}

/** The mask in [tint] (0xAARRGGBB) on transparency, at the photo's size, to draw over it. */
fun Segmentation.toBitmap(tint: Int = DEFAULT_MASK_TINT): Bitmap =
    Bitmap.createBitmap(toArgbPixels(tint), width, height, Bitmap.Config.ARGB_8888)

/** The mask in [tint] (0xAARRGGBB) on transparency, as [Segmentation.toBitmap]. */
fun SegmentMask.toBitmap(tint: Int = DEFAULT_MASK_TINT): Bitmap =
    Bitmap.createBitmap(maskToArgb(bytes(), tint), width(), height(), Bitmap.Config.ARGB_8888)

/** The cut-out on transparency, `region.width` x `region.height`. */
fun Cutout.toBitmap(): Bitmap =
    Bitmap.createBitmap(toArgbPixels(), region.width, region.height, Bitmap.Config.ARGB_8888)

/**
 * The object cut out of [photo] (the upright Bitmap that was encoded) on transparency, cropped to
 * the mask's box grown by [cropPadding] pixels (the whole photo when null); null when the sizes
 * differ or the mask is empty. For photos the library cannot decode itself (HEIC); with JPEG, PNG
 * or WebP bytes, `cutout(imageData, cropPadding)` does the same.
 */
fun SegmentMask.cutout(photo: Bitmap, cropPadding: Int? = 0): Bitmap? {
    if (photo.width != width() || photo.height != height()) return null
    val box = boundingBox() ?: return null
    val cut = photo.copy(Bitmap.Config.ARGB_8888, true)
    // Keep the photo where the mask is opaque (destination-in), clear it elsewhere.
    val keep = Paint().apply { xfermode = PorterDuffXfermode(PorterDuff.Mode.DST_IN) }
    Canvas(cut).drawBitmap(toBitmap(tint = OPAQUE_BLACK), 0f, 0f, keep)
    if (cropPadding == null) return cut
    val pad = cropPadding.coerceAtLeast(0)
    val left = (box.x - pad).coerceAtLeast(0)
    val top = (box.y - pad).coerceAtLeast(0)
    val right = (box.x + box.width + pad).coerceAtMost(cut.width)
    val bottom = (box.y + box.height + pad).coerceAtMost(cut.height)
    return Bitmap.createBitmap(cut, left, top, right - left, bottom - top)
}

private const val OPAQUE_BLACK = 0xFF000000.toInt()
