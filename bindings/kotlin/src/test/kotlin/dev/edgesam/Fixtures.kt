package dev.edgesam

import java.awt.BasicStroke
import java.awt.Color
import java.awt.GradientPaint
import java.awt.Polygon
import java.awt.RenderingHints
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import javax.imageio.ImageIO
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail

/**
 * What every test shares: where the library, the models and the CLI are (system properties set by
 * the pom's Surefire configuration), a deterministic test photo, and one loaded model pair.
 */
object Fixtures {
    /** The repository root, two levels above bindings/kotlin (Maven runs the tests from there). */
    val repoRoot: File = File(System.getProperty("user.dir")).resolve("../..").canonicalFile

    val modelsDir: File =
        File(System.getProperty("edgesam.models") ?: "$repoRoot/models/generated/tiny").canonicalFile
    val encoderFile: File = modelsDir.resolve("edge_sam_encoder.onnx")
    val decoderFile: File = modelsDir.resolve("edge_sam_decoder.onnx")
    val cliFile: File =
        File(System.getProperty("edgesam.cli") ?: "$repoRoot/target/release/edgesam").canonicalFile

    const val WIDTH = 320
    const val HEIGHT = 200

    init {
        check(encoderFile.isFile && decoderFile.isFile) {
            "stand-in models missing in $modelsDir: run `.venv/bin/python models/standins.py` at the repository root"
        }
    }

    /** One model pair for the whole run (loading is the slow part of a test class). */
    val model: SegmentAnything by lazy { SegmentAnything.fromFiles(encoderFile.path, decoderFile.path) }

    /**
     * A 320x200 photo: a diagonal gradient with a disc, a rectangle, a triangle and a thick line.
     * No antialiasing, so every JVM draws the same pixels.
     */
    val photo: BufferedImage by lazy { drawPhoto(WIDTH, HEIGHT) }
    val photoPng: ByteArray by lazy { png(photo) }

    /** The encoded [photo], computed once (each test that needs its own calls the model itself). */
    val embedding: ImageEmbedding by lazy { model.encodeImage(photoPng) }

    fun drawPhoto(width: Int, height: Int): BufferedImage {
        val img = BufferedImage(width, height, BufferedImage.TYPE_INT_RGB)
        val g = img.createGraphics()
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF)
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_SPEED)
            g.setRenderingHint(RenderingHints.KEY_DITHERING, RenderingHints.VALUE_DITHER_DISABLE)
            g.paint = GradientPaint(0f, 0f, Color(30, 60, 140), width.toFloat(), height.toFloat(), Color(220, 200, 120))
            g.fillRect(0, 0, width, height)
            g.color = Color(200, 30, 30)
            g.fillOval(width * 15 / 100, height * 20 / 100, width * 30 / 100, width * 30 / 100)
            g.color = Color(20, 170, 60)
            g.fillRect(width * 58 / 100, height * 15 / 100, width * 30 / 100, height * 40 / 100)
            g.color = Color(250, 240, 40)
            g.fillPolygon(
                Polygon(
                    intArrayOf(width * 55 / 100, width * 90 / 100, width * 70 / 100),
                    intArrayOf(height * 90 / 100, height * 90 / 100, height * 62 / 100),
                    3,
                ),
            )
            g.color = Color(10, 10, 10)
            g.stroke = BasicStroke(4f)
            g.drawLine(width * 5 / 100, height * 92 / 100, width * 45 / 100, height * 70 / 100)
        } finally {
            g.dispose()
        }
        return img
    }

    fun png(img: BufferedImage): ByteArray {
        val out = ByteArrayOutputStream()
        check(ImageIO.write(img, "png", out)) { "no PNG writer" }
        return out.toByteArray()
    }

    /**
     * The image as R, G, B, A bytes, rows [stride] bytes apart; the padding after each row is
     * filled with 0xA5 so that reading it as pixels would show.
     */
    fun rgba(img: BufferedImage, stride: Int): ByteArray {
        require(stride >= img.width * 4)
        val out = ByteArray(stride * img.height) { 0xA5.toByte() }
        for (y in 0 until img.height) {
            for (x in 0 until img.width) {
                val argb = img.getRGB(x, y)
                val at = y * stride + x * 4
                out[at] = (argb ushr 16).toByte()
                out[at + 1] = (argb ushr 8).toByte()
                out[at + 2] = argb.toByte()
                out[at + 3] = (argb ushr 24).toByte()
            }
        }
        return out
    }

    /**
     * [upright] as a landscape sensor stores a portrait photo: a quarter turn anticlockwise,
     * [upright]'s height wide. [Orientation.RIGHT] turns it upright again.
     */
    fun storedRight(upright: BufferedImage): BufferedImage {
        val stored = BufferedImage(upright.height, upright.width, BufferedImage.TYPE_INT_RGB)
        for (y in 0 until stored.height) {
            for (x in 0 until stored.width) stored.setRGB(x, y, upright.getRGB(stored.height - 1 - y, x))
        }
        return stored
    }

    /** A few prompts of every kind on [photo]. */
    val prompts: List<SegmentPrompt> = listOf(
        SegmentPrompt(points = listOf(PromptPoint(96f, 70f))),
        SegmentPrompt(points = listOf(PromptPoint(230f, 70f), PromptPoint(40f, 180f, positive = false))),
        SegmentPrompt(box = PromptBox(180f, 25f, 290f, 115f)),
        SegmentPrompt(box = PromptBox(290f, 185f, 170f, 120f)),
        SegmentPrompt(points = listOf(PromptPoint(220f, 160f)), box = PromptBox(170f, 120f, 290f, 185f)),
        SegmentPrompt(points = listOf(PromptPoint(10f, 10f)), maskIndex = 2),
    )

    /**
     * Checks that two results are equal (`Segmentation.equals` is the library's: same mask pixels,
     * scores and candidate), field by field first so that a failure says which one differs.
     */
    fun assertSameSegmentation(expected: Segmentation, actual: Segmentation, what: String = "") {
        assertEquals(expected.mask.size, actual.mask.size, "mask size $what")
        assertArrayEquals(expected.mask.bytes(), actual.mask.bytes(), "mask bytes $what")
        assertEquals(expected.scores, actual.scores, "scores $what")
        assertEquals(expected.score, actual.score, "score $what")
        assertEquals(expected.maskIndex, actual.maskIndex, "maskIndex $what")
        assertEquals(expected, actual, "Segmentation.equals $what")
    }

    /** Checks the invariants of one result: size, 0/255 bytes, area and box from the bytes. */
    fun assertConsistent(s: Segmentation, width: Int = WIDTH, height: Int = HEIGHT) {
        val mask = s.mask
        assertEquals(ImageSize(width, height), mask.size)
        val bytes = mask.bytes()
        assertEquals(width * height, bytes.size, "one byte per pixel")
        assertEquals(4, s.scores.size, "four candidate scores")
        assertTrue(s.maskIndex in 0..3, "maskIndex ${s.maskIndex}")
        assertEquals(s.scores[s.maskIndex], s.score, "score is the chosen candidate's")
        // An empty candidate's stability score (0/0 in the official graph) is reported as 0.
        assertTrue(s.scores.all { it.isFinite() }, "scores are finite: ${s.scores}")
        var area = 0L
        var x0 = Int.MAX_VALUE
        var y0 = Int.MAX_VALUE
        var x1 = -1
        var y1 = -1
        for (y in 0 until height) {
            for (x in 0 until width) {
                when (val v = bytes[y * width + x].toInt() and 0xFF) {
                    0 -> {}
                    255 -> {
                        area++
                        if (x < x0) x0 = x
                        if (y < y0) y0 = y
                        if (x > x1) x1 = x
                        if (y > y1) y1 = y
                    }
                    else -> fail("mask byte $v at ($x, $y): only 0 and 255 are allowed")
                }
            }
        }
        assertEquals(area, mask.area(), "area counts the 255 bytes")
        if (area == 0L) {
            assertEquals(null, mask.boundingBox(), "an empty mask has no bounding box")
        } else {
            assertEquals(
                BoundingBox(x0, y0, x1 - x0 + 1, y1 - y0 + 1),
                mask.boundingBox(),
                "bounding box encloses exactly the 255 bytes",
            )
        }
    }

    /** The index of the largest score, ties to the lower index (numpy's argmax). */
    fun argmax(scores: List<Float>): Int {
        var best = 0
        for (i in scores.indices) if (scores[i] > scores[best]) best = i
        return best
    }
}
