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
 * 4. The bindings and the core's `edgesam segment` CLI run the same Rust code: for the same photo,
 * models and prompt they must produce the same mask bytes and the same scores.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CoreParityTest {
    private lateinit var dir: File
    private lateinit var photoFile: File

    @BeforeAll
    fun writePhoto() {
        assertTrue(Fixtures.cliFile.canExecute(), "the core CLI is missing: ${Fixtures.cliFile} (cargo build --release)")
        dir = Files.createTempDirectory("edgesam-kotlin-parity").toFile()
        photoFile = dir.resolve("photo.png")
        photoFile.writeBytes(Fixtures.photoPng)
    }

    @AfterAll
    fun cleanUp() {
        dir.deleteRecursively()
    }

    /** What the CLI printed and wrote for one prompt. */
    private class CoreResult(val mask: ByteArray, val width: Int, val height: Int, val json: String) {
        val scores: List<Float> =
            Regex("\"scores\":\\[([^\\]]*)]").find(json)!!.groupValues[1].split(',')
                // serde_json prints the f32 scores as f64 (parse as double, then narrow: exact).
                // A NaN would be null: the core reports an empty candidate's 0/0 score as 0.
                .map { it.trim().let { v -> if (v == "null") Float.NaN else v.toDouble().toFloat() } }
        val maskIndex: Int = Regex("\"mask_index\":(\\d+)").find(json)!!.groupValues[1].toInt()
        val area: Long = Regex("\"area\":(\\d+)").find(json)!!.groupValues[1].toLong()
        val bbox: List<Int>? = Regex("\"bbox\":(null|\\[([^\\]]*)])").find(json)!!.let { m ->
            if (m.groupValues[1] == "null") null else m.groupValues[2].split(',').map { it.trim().toInt() }
        }
    }

    private fun runCore(prompt: SegmentPrompt, name: String): CoreResult {
        val maskFile = dir.resolve("$name.png")
        val cmd = mutableListOf(
            Fixtures.cliFile.path, "segment",
            "--encoder", Fixtures.encoderFile.path,
            "--decoder", Fixtures.decoderFile.path,
            "--image", photoFile.path,
            "--mask-out", maskFile.path,
            "--json",
        )
        for (p in prompt.points) cmd += listOf("--point", "${p.x},${p.y},${if (p.positive) 1 else 0}")
        prompt.box?.let { cmd += listOf("--box", "${it.x0},${it.y0},${it.x1},${it.y1}") }
        prompt.maskIndex?.let { cmd += listOf("--mask-index", it.toString()) }

        val stderr = dir.resolve("$name.err")
        val process = ProcessBuilder(cmd).redirectError(stderr).start()
        val stdout = process.inputStream.bufferedReader().readText()
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the CLI did not finish: $cmd")
        assertEquals(0, process.exitValue(), "CLI failed: $cmd\n${stderr.readText()}")

        val image = ImageIO.read(maskFile) ?: error("cannot read ${maskFile.path}")
        val w = image.width
        val h = image.height
        val samples = image.raster.getSamples(0, 0, w, h, 0, null as IntArray?)
        assertEquals(1, image.raster.numBands, "the CLI writes a grey mask")
        val mask = ByteArray(samples.size) { samples[it].toByte() }
        return CoreResult(mask, w, h, stdout.lines().last { it.startsWith("{") })
    }

    @Test
    fun `masks and scores equal the core CLI's`() {
        for ((i, prompt) in Fixtures.prompts.withIndex()) {
            val core = runCore(prompt, "prompt$i")
            val ours = Fixtures.model.segment(Fixtures.embedding, prompt)
            val mask = ours.mask
            println("  prompt $i: scores ${ours.scores}, maskIndex ${ours.maskIndex}, area ${mask.area()}, box ${mask.boundingBox()}")
            val what = "prompt $i ($prompt); core printed ${core.json}"
            assertEquals(core.width, mask.width(), what)
            assertEquals(core.height, mask.height(), what)
            assertArrayEquals(core.mask, mask.bytes(), "mask bytes, $what")
            assertTrue(core.scores.all { it.isFinite() }, "the CLI printed a non-finite score: $what")
            assertEquals(core.scores, ours.scores, "scores, $what")
            assertEquals(core.maskIndex, ours.maskIndex, "mask index, $what")
            assertEquals(core.area, mask.area(), "area, $what")
            assertEquals(
                core.bbox,
                mask.boundingBox()?.let { listOf(it.x, it.y, it.width, it.height) },
                "bounding box, $what",
            )
        }
    }
}
