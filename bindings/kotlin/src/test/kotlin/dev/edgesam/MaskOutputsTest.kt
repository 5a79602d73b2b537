package dev.edgesam

import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * SegmentMask's outputs: COCO RLE and the cut-out equal what the core CLI writes for the same tap,
 * raw pixels cut out and draw like the file they came from, the tint is the colour asked for (the
 * default one when none is), and mask combination equals pixel-by-pixel logic.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MaskOutputsTest {
    private lateinit var dir: File
    private lateinit var photoFile: File
    private val tap = PromptPoint(96f, 70f)
    private val segmentation by lazy { Fixtures.model.segment(Fixtures.embedding, SegmentPrompt(points = listOf(tap))) }
    private val mask by lazy { segmentation.mask }

    @BeforeAll
    fun writePhoto() {
        dir = Files.createTempDirectory("edgesam-kotlin-outputs").toFile()
        photoFile = dir.resolve("photo.png")
        photoFile.writeBytes(Fixtures.photoPng)
    }

    @AfterAll
    fun cleanUp() {
        dir.deleteRecursively()
    }

    /** Runs `edgesam segment` on the photo with [tap] and the given output flags. */
    private fun runCli(vararg outputs: String) {
        val cmd = listOf(
            Fixtures.cliFile.path, "segment", "--encoder", Fixtures.encoderFile.path,
            "--decoder", Fixtures.decoderFile.path, "--image", photoFile.path,
            "--point", "${tap.x.toInt()},${tap.y.toInt()}",
        ) + outputs
        val process = ProcessBuilder(cmd).redirectErrorStream(true).start()
        val output = process.inputStream.bufferedReader().readText()
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "CLI timed out")
        assertEquals(0, process.exitValue(), output)
    }

    private fun maskOf(vararg points: PromptPoint) =
        Fixtures.model.segment(Fixtures.embedding, SegmentPrompt(points = points.toList())).mask

    // RgbaImage and Cutout are generated data classes whose `equals` compares the pixel ByteArray
    // by reference: these compare the pixels.

    private fun assertSamePicture(expected: RgbaImage, actual: RgbaImage, what: String = "") {
        assertEquals(expected.width to expected.height, actual.width to actual.height, "size $what")
        assertArrayEquals(expected.rgba, actual.rgba, "pixels $what")
    }

    private fun assertSameCutout(expected: Cutout, actual: Cutout, what: String = "") {
        assertEquals(expected.region, actual.region, "region $what")
        assertSamePicture(expected.image, actual.image, what)
    }

    @Test
    fun `COCO RLE equals the CLI's and decodes back`() {
        val rleFile = dir.resolve("rle.json")
        runCli("--rle-out", rleFile.path)
        val json = rleFile.readText()
        val rle = mask.toCocoRle()
        // The counts may hold `\` and `"`, escaped in JSON.
        val cliCounts = Regex("\"counts\":\"((?:[^\"\\\\]|\\\\.)*)\"").find(json)!!.groupValues[1]
            .replace(Regex("\\\\(.)"), "$1")
        assertEquals(cliCounts, rle.counts)
        assertTrue(Regex("\"size\":\\[\\s*${Fixtures.HEIGHT},\\s*${Fixtures.WIDTH}\\s*]").containsMatchIn(json), json)
        assertArrayEquals(mask.bytes(), SegmentMask.fromCocoRle(rle).bytes())
        assertEquals(mask, SegmentMask.fromCocoRle(rle))
    }

    @Test
    fun `the cropped cut-out equals the CLI's PNG and its alpha is the mask`() {
        val cutoutFile = dir.resolve("cutout.png")
        runCli("--cutout-out", cutoutFile.path, "--cutout-padding", "6")
        val cli = ImageIO.read(cutoutFile)
        val cut = mask.cutout(Fixtures.photoPng, cropPadding = 6)
        val inside = mask.bytes()
        assertEquals(cli.width to cli.height, cut.region.width to cut.region.height)
        assertEquals(cli.width to cli.height, cut.image.width to cut.image.height)
        for (y in 0 until cli.height) for (x in 0 until cli.width) {
            val argb = cli.getRGB(x, y)
            val at = (y * cli.width + x) * 4
            val ours = (0..3).map { cut.image.rgba[at + it].toInt() and 0xFF }
            val expected = listOf(argb ushr 16 and 0xFF, argb ushr 8 and 0xFF, argb and 0xFF, argb ushr 24)
            assertEquals(expected, ours, "pixel ($x, $y)")
            val inMask = inside[(y + cut.region.y) * Fixtures.WIDTH + x + cut.region.x].toInt() != 0
            assertEquals(if (inMask) 255 else 0, ours[3], "alpha at ($x, $y)")
        }
    }

    @Test
    fun `decodeImage gives the photo's upright pixels, opaque`() {
        val decoded = decodeImage(Fixtures.photoPng)
        assertSamePicture(RgbaImage(Fixtures.WIDTH, Fixtures.HEIGHT, Fixtures.rgba(Fixtures.photo, Fixtures.WIDTH * 4)), decoded)
        assertThrows<EdgeSamException.BadImage> { decodeImage(ByteArray(3)) }
    }

    @Test
    fun `raw pixels cut out and draw over exactly like the file they were decoded from`() {
        val photo = decodeImage(Fixtures.photoPng)
        val (w, h) = photo.width to photo.height
        for (padding in listOf(null, 0, 6)) {
            assertSameCutout(
                mask.cutout(Fixtures.photoPng, padding),
                mask.cutoutPixels(photo.rgba, w, h, w * 4, PixelFormat.RGBA8, cropPadding = padding),
                "crop padding $padding",
            )
        }
        val red = MaskColor(255u, 0u, 0u, 200u)
        for ((color, outline) in listOf(null to 2, red to 0, red to 5)) {
            val overlay = mask.overlay(Fixtures.photoPng, color, outline)
            assertSamePicture(
                overlay,
                mask.overlayPixels(photo.rgba, w, h, w * 4, PixelFormat.RGBA8, color = color, outlineWidth = outline),
                "$color, outline $outline",
            )
            assertEquals(w to h, overlay.width to overlay.height)
            assertTrue((0 until w * h).all { overlay.rgba[it * 4 + 3] == 255.toByte() }, "an overlay is opaque")
        }
        // The colour and the outline show: the default tint, red, and red without outline differ.
        val drawn = listOf(mask.overlay(Fixtures.photoPng), mask.overlay(Fixtures.photoPng, red), mask.overlay(Fixtures.photoPng, red, 0))
        assertEquals(3, drawn.map { it.rgba.toList() }.toSet().size)
    }

    @Test
    fun `pixels stored sideways cut out like the upright photo once their orientation is given`() {
        val stored = Fixtures.storedRight(Fixtures.photo)
        val sideways = Fixtures.rgba(stored, stored.width * 4)
        assertSameCutout(
            mask.cutout(Fixtures.photoPng, 4),
            mask.cutoutPixels(sideways, stored.width, stored.height, stored.width * 4, PixelFormat.RGBA8, Orientation.RIGHT, 4),
        )
        assertSamePicture(
            mask.overlay(Fixtures.photoPng),
            mask.overlayPixels(sideways, stored.width, stored.height, stored.width * 4, PixelFormat.RGBA8, Orientation.RIGHT),
        )
        // Read as upright, the stored pixels are another size than the mask.
        assertThrows<EdgeSamException.BadMask> {
            mask.cutoutPixels(sideways, stored.width, stored.height, stored.width * 4, PixelFormat.RGBA8)
        }
    }

    @Test
    fun `tinted is the colour inside and transparent outside, the default tint without one`() {
        val inside = mask.bytes()
        val defaultTint = listOf<Byte>(30, 144.toByte(), 255.toByte(), 128.toByte())
        val green = MaskColor(0u, 255u, 0u, 77u)
        for ((color, expected) in listOf(null to defaultTint, green to listOf<Byte>(0, 255.toByte(), 0, 77))) {
            val layer = mask.tinted(color)
            assertEquals(Fixtures.WIDTH to Fixtures.HEIGHT, layer.width to layer.height)
            for (i in inside.indices) {
                val pixel = layer.rgba.slice(i * 4 until i * 4 + 4)
                assertEquals(if (inside[i] != 0.toByte()) expected else listOf<Byte>(0, 0, 0, 0), pixel, "$color, pixel $i")
            }
        }
        assertSamePicture(mask.tinted(), mask.tinted(null))
    }

    @Test
    fun `union, subtract and intersect combine pixel by pixel`() {
        val other = maskOf(PromptPoint(230f, 70f))
        val a = mask.bytes()
        val b = other.bytes()
        fun expected(keep: (Boolean, Boolean) -> Boolean) =
            ByteArray(a.size) { if (keep(a[it].toInt() != 0, b[it].toInt() != 0)) 255.toByte() else 0 }
        assertArrayEquals(expected { x, y -> x || y }, mask.union(other).bytes())
        assertArrayEquals(expected { x, y -> x && !y }, mask.subtract(other).bytes())
        assertArrayEquals(expected { x, y -> x && y }, mask.intersect(other).bytes())
        assertEquals(expected { x, y -> x || y }.count { it != 0.toByte() }.toLong(), mask.union(other).area())
    }

    @Test
    fun `polygons outline the mask inside its bounding box`() {
        val polygons = mask.outlinePolygons()
        val box = mask.boundingBox()!!
        val inside = mask.bytes()
        assertTrue(polygons.isNotEmpty() && polygons.any { !it.isHole })
        for (p in polygons.flatMap { it.points }) {
            assertTrue(p.x in box.x until box.x + box.width && p.y in box.y until box.y + box.height, "$p outside $box")
            assertTrue(inside[p.y * Fixtures.WIDTH + p.x].toInt() != 0, "vertex $p is not a mask pixel")
        }
        val all = mask.outlinePolygons(tolerance = 0.0).sumOf { it.points.size }
        assertTrue(all >= polygons.sumOf { it.points.size }, "simplifying adds no vertices")
    }
}
