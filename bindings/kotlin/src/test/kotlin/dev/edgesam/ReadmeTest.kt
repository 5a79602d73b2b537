package dev.edgesam

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/**
 * The README's Kotlin example, word for word between the markers: core/tests/readme.rs checks that
 * the README shows this text, and this test runs it on the stand-in models.
 */
class ReadmeTest {
    @Test
    fun `the README example runs`() = runBlocking {
        val encoderPath = Fixtures.encoderFile.path
        val decoderPath = Fixtures.decoderFile.path
        val photoBytes = Fixtures.photoPng
        // README example start
        val model = SegmentAnything.fromFiles(encoderPath, decoderPath)
        val embedding = model.encode(photoBytes)                       // suspend; cancel the coroutine to stop
        val tap = model.segment(embedding, SegmentPrompt.point(200f, 80f))
        val background = model.segment(embedding, SegmentPrompt.point(60f, 170f))
        val selection = tap.mask.subtract(background.mask)             // masks stay in the library
        val rle = selection.toCocoRle()                                // rle.counts as pycocotools gives it
        val sticker = selection.cutout(photoBytes, cropPadding = 8)    // .image (RGBA), .region
        println("${tap.score} ${selection.area()} ${selection.boundingBox()} ${sticker.region} ${rle.counts.length}")
        // README example end
        assertEquals(Fixtures.WIDTH, tap.mask.width())
        assertEquals(tap.mask.area() - tap.mask.intersect(background.mask).area(), selection.area())
        assertEquals(sticker.region.width, sticker.image.width)
        assertEquals(tap.mask.toCocoRle().height, rle.height)
    }
}
