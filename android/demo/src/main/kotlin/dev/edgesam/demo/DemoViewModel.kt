// The demo's state: the photo as encoded, the prompt history, the live mask, the benchmark report.
// The editing rules are the UI-free session code (session/, compiled and tested on the JVM); this
// file wires them to Android and the bindings.
package dev.edgesam.demo

import android.app.Application
import android.graphics.Bitmap
import android.graphics.ColorSpace
import android.graphics.ImageDecoder
import android.net.Uri
import androidx.core.content.FileProvider
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import dev.edgesam.EdgeSamException
import dev.edgesam.ImageEmbedding
import dev.edgesam.SegmentAnything
import dev.edgesam.SegmentMask
import dev.edgesam.Segmentation
import dev.edgesam.android.cutout
import dev.edgesam.android.encode
import dev.edgesam.android.toBitmap
import dev.edgesam.demo.session.PhotoGesture
import dev.edgesam.demo.session.PromptHistory
import dev.edgesam.demo.session.runHarness
import dev.edgesam.reason
import java.io.File
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.Job
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.json.JSONObject

sealed interface Phase {
    data object NoPhoto : Phase
    data class Encoding(val sinceMillis: Long) : Phase
    data object Ready : Phase
    data class Failed(val message: String) : Phase
}

data class SegmentState(
    val phase: Phase = Phase.NoPhoto,
    /** Exactly the Bitmap that was encoded (upright): masks line up with it pixel for pixel. */
    val photo: Bitmap? = null,
    val history: PromptHistory = PromptHistory(),
    val segmentation: Segmentation? = null,
    val overlay: Bitmap? = null,
)

data class BenchmarkState(val running: Boolean = false, val report: String? = null, val error: String? = null)

/** The message to show for any error the demo meets. */
fun describe(error: Throwable): String =
    (error as? EdgeSamException)?.reason ?: error.message ?: error.toString()

class DemoViewModel(application: Application) : AndroidViewModel(application) {
    private val _segment = MutableStateFlow(SegmentState())
    val segment: StateFlow<SegmentState> = _segment.asStateFlow()
    private val _benchmark = MutableStateFlow(BenchmarkState())
    val benchmark: StateFlow<BenchmarkState> = _benchmark.asStateFlow()

    /** The bundled models as files: the library loads from paths (and the harness reads them). */
    private val modelFiles = viewModelScope.async(Dispatchers.IO, CoroutineStart.LAZY) {
        listOf("edge_sam_3x_encoder.onnx", "edge_sam_3x_decoder.onnx").map { name ->
            File(application.filesDir, name).also { file ->
                if (!file.isFile) {
                    application.assets.open(name).use { input -> file.outputStream().use { input.copyTo(it) } }
                }
            }
        }
    }

    /** Loaded once, on first use, off the main thread. */
    private val model: Deferred<SegmentAnything> = viewModelScope.async(Dispatchers.Default, CoroutineStart.LAZY) {
        val (encoder, decoder) = modelFiles.await()
        SegmentAnything.fromFiles(encoder.path, decoder.path)
    }

    private var embedding: ImageEmbedding? = null
    private var encoding: Job? = null
    private var segmenting: Job? = null

    fun load(uri: Uri) {
        encoding?.cancel()
        segmenting?.cancel()
        encoding = viewModelScope.launch {
            try {
                // ImageDecoder applies the EXIF orientation: the Bitmap is the photo as seen.
                val photo = withContext(Dispatchers.IO) {
                    val source = ImageDecoder.createSource(getApplication<Application>().contentResolver, uri)
                    ImageDecoder.decodeBitmap(source) { decoder, _, _ ->
                        decoder.allocator = ImageDecoder.ALLOCATOR_SOFTWARE
                        decoder.setTargetColorSpace(ColorSpace.get(ColorSpace.Named.SRGB))
                    }
                }
                _segment.value = SegmentState(phase = Phase.Encoding(System.currentTimeMillis()), photo = photo)
                val encoded: ImageEmbedding = model.await().encode(photo)
                embedding?.close()
                embedding = encoded
                _segment.update { it.copy(phase = Phase.Ready) }
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                _segment.update { it.copy(phase = Phase.Failed(describe(e))) }
            }
        }
    }

    fun cancelEncoding() {
        encoding?.cancel()
        _segment.value = SegmentState()
    }

    fun apply(gesture: PhotoGesture) {
        if (_segment.value.phase != Phase.Ready) return
        _segment.update { it.copy(history = it.history.apply(gesture)) }
        resegment()
    }

    fun undo() {
        _segment.update { it.copy(history = it.history.undo()) }
        resegment()
    }

    /** Segments the current prompt; a newer gesture cancels an answer still in flight. */
    private fun resegment() {
        segmenting?.cancel()
        val prompt = _segment.value.history.current
        val embedding = embedding
        if (prompt == null || embedding == null) {
            _segment.update { it.copy(segmentation = null, overlay = null) }
            return
        }
        segmenting = viewModelScope.launch {
            try {
                val s: Segmentation = model.await().segmentAsync(embedding, prompt)
                val overlay = withContext(Dispatchers.Default) { s.toBitmap() }
                _segment.update { it.copy(segmentation = s, overlay = overlay) }
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                _segment.update { it.copy(phase = Phase.Failed(describe(e))) }
            }
        }
    }

    /** Writes the cut-out (mask's box plus 8 pixels) as a PNG to share; null without a selection. */
    suspend fun exportCutout(): Uri? = withContext(Dispatchers.Default) {
        val state = _segment.value
        val segmentation = state.segmentation ?: return@withContext null
        val photo = state.photo ?: return@withContext null
        val cut = SegmentMask.fromSegmentation(segmentation).use { mask: SegmentMask -> mask.cutout(photo, cropPadding = 8) }
            ?: return@withContext null
        val app = getApplication<Application>()
        val file = File(app.cacheDir, "exports/cutout.png").apply { parentFile?.mkdirs() }
        file.outputStream().use { cut.compress(Bitmap.CompressFormat.PNG, 100, it) }
        FileProvider.getUriForFile(app, "dev.edgesam.demo.files", file)
    }

    fun runBenchmark() {
        if (_benchmark.value.running) return
        _benchmark.value = BenchmarkState(running = true)
        viewModelScope.launch {
            _benchmark.value = try {
                val (encoder, decoder) = modelFiles.await()
                val json = runHarness(encoder.path, decoder.path)
                BenchmarkState(report = JSONObject(json).toString(2))
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                BenchmarkState(error = describe(e))
            }
        }
    }

    @OptIn(ExperimentalCoroutinesApi::class)  // getCompleted: the model, if it was ever loaded
    override fun onCleared() {
        embedding?.close()
        if (model.isCompleted && !model.isCancelled) {
            runCatching { model.getCompleted().close() }
        }
    }
}
