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

/**
 * SegmentMask's outputs: COCO RLE and the cut-out equal what the core CLI writes for the same tap,
 * mask combination equals pixel-by-pixel logic, and mismatched sizes are BadMask.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MaskOutputsTest {
    private lateinit var dir: File
    private lateinit var photoFile: File
    private val tap = PromptPoint(96f, 70f)
    private val segmentation by lazy { Fixtures.model.segment(Fixtures.embedding, SegmentPrompt(points = listOf(tap))) }
    private val mask by lazy { SegmentMask.fromSegmentation(segmentation) }

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
        SegmentMask.fromSegmentation(Fixtures.model.segment(Fixtures.embedding, SegmentPrompt(points = points.toList())))

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
        assertArrayEquals(segmentation.mask, SegmentMask.fromCocoRle(rle).bytes())
    }

    @Test
    fun `the cropped cut-out equals the CLI's PNG and its alpha is the mask`() {
        val cutoutFile = dir.resolve("cutout.png")
        runCli("--cutout-out", cutoutFile.path, "--cutout-padding", "6")
        val cli = ImageIO.read(cutoutFile)
        val cut = mask.cutout(Fixtures.photoPng, cropPadding = 6)
        assertEquals(cli.width to cli.height, cut.region.width to cut.region.height)
        for (y in 0 until cli.height) for (x in 0 until cli.width) {
            val argb = cli.getRGB(x, y)
            val at = (y * cli.width + x) * 4
            val ours = (0..3).map { cut.rgba[at + it].toInt() and 0xFF }
            val expected = listOf(argb ushr 16 and 0xFF, argb ushr 8 and 0xFF, argb and 0xFF, argb ushr 24)
            assertEquals(expected, ours, "pixel ($x, $y)")
            val inMask = segmentation.mask[(y + cut.region.y) * Fixtures.WIDTH + x + cut.region.x].toInt() != 0
            assertEquals(if (inMask) 255 else 0, ours[3], "alpha at ($x, $y)")
        }
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
        val box = segmentation.boundingBox!!
        assertTrue(polygons.isNotEmpty() && polygons.any { !it.isHole })
        for (p in polygons.flatMap { it.points }) {
            assertTrue(p.x in box.x until box.x + box.width && p.y in box.y until box.y + box.height, "$p outside $box")
            assertTrue(segmentation.mask[p.y * Fixtures.WIDTH + p.x].toInt() != 0, "vertex $p is not a mask pixel")
        }
        val all = mask.outlinePolygons(tolerance = 0.0).sumOf { it.points.size }
        assertTrue(all >= polygons.sumOf { it.points.size }, "simplifying adds no vertices")
    }
}
