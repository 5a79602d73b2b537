package dev.edgesam

import com.sun.jna.NativeLibrary
import dev.edgesam.Fixtures.assertSameSegmentation
import java.io.File
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * What only the Kotlin side can get wrong: a closed object refuses calls with an exception instead
 * of crashing, and 600 encode/segment cycles keep resident memory flat. (The bad-input matrix is
 * the Rust suite's; ErrorsTest checks that its errors arrive typed.)
 */
class RobustnessTest {
    private val model = Fixtures.model
    private val emb = Fixtures.embedding
    private val encoderBytes = Fixtures.encoderFile.readBytes()
    private val decoderBytes = Fixtures.decoderFile.readBytes()

    @Test
    fun `a closed model or embedding throws instead of crashing, and embeddings outlive their model`() {
        val temporary = SegmentAnything.fromBytes(encoderBytes, decoderBytes, threads = 1)
        val kept = temporary.encodeImage(Fixtures.photoPng)
        temporary.close()
        assertThrows<IllegalStateException> { temporary.segment(kept, Fixtures.prompts[0]) }
        assertThrows<IllegalStateException> { temporary.encodeImage(Fixtures.photoPng) }
        temporary.close() // twice is harmless
        assertSameSegmentation(model.segment(emb, Fixtures.prompts[0]), model.segment(kept, Fixtures.prompts[0]))
        kept.close()
        assertThrows<IllegalStateException> { kept.toBytes() }
        // A closed object passed as an argument: UniFFI 0.32's generated lower() cloned the freed
        // handle (a double free that aborted the JVM) until `cargo xtask generate` patched it.
        assertThrows<IllegalStateException> { model.segment(kept, Fixtures.prompts[0]) }
        val closedMask = model.segment(emb, Fixtures.prompts[0]).mask
        closedMask.close()
        assertThrows<IllegalStateException> { closedMask.bytes() }
        assertThrows<IllegalStateException> { model.segment(emb, Fixtures.prompts[0]).mask.union(closedMask) }
        assertThrows<IllegalStateException> { model.everything(kept, EverythingOptions(pointsPerSide = 2)) }
        // The model is fine afterwards.
        assertSameSegmentation(model.segment(emb, Fixtures.prompts[0]), model.segment(emb, Fixtures.prompts[0]))
    }

    private fun residentMib(): Double =
        File("/proc/self/status").readLines().first { it.startsWith("VmRSS:") }
            .split(Regex("\\s+"))[1].toDouble() / 1024

    /**
     * After 200 cycles of warm-up (JIT, heap sizing), resident memory may grow by at most 64 MiB over
     * the next 400: a leaked embedding (4 MiB) per cycle would be 1.6 GiB. Freed native memory that
     * glibc keeps in its per-thread arenas is handed back before each sample (it swings RSS by tens
     * of MiB), so what remains is the JVM's own noise.
     */
    @Test
    fun `six hundred encode and segment cycles keep resident memory flat`() {
        val png = Fixtures.png(Fixtures.drawPhoto(160, 100))
        val prompt = SegmentPrompt(points = listOf(PromptPoint(80f, 50f)))
        val samples = linkedMapOf<Int, Double>()
        val started = System.nanoTime()
        // A thread per core (threads = 0): the cycles are the test's whole cost.
        SegmentAnything.fromBytes(encoderBytes, decoderBytes).use { model ->
            for (cycle in 1..600) {
                model.encodeImage(png).use { e -> model.segment(e, prompt).mask.use { assertEquals(160, it.width()) } }
                if (cycle % 100 == 0) {
                    System.gc()
                    NativeLibrary.getInstance("c").getFunction("malloc_trim").invokeInt(arrayOf(0))
                    samples[cycle] = residentMib()
                }
            }
        }
        println(
            "  600 cycles in %.1f s; RSS MiB at every 100th: %s".format(
                (System.nanoTime() - started) / 1e9,
                samples.entries.joinToString { "${it.key}: %.1f".format(it.value) },
            ),
        )
        val growth = samples.filterKeys { it >= 200 }.values.max() - samples.getValue(200)
        assertTrue(growth < 64, "RSS grew %.1f MiB after warm-up: $samples".format(growth))
    }
}
