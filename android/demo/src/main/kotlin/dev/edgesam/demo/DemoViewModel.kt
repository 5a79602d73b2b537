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
import dev.edgesam.ProgressListener
import dev.edgesam.SegmentAnything
import dev.edgesam.Segmentation
import dev.edgesam.StepProgress
import dev.edgesam.android.cutout
import dev.edgesam.android.encode
import dev.edgesam.android.toBitmap
import dev.edgesam.demo.session.PhotoGesture
import dev.edgesam.demo.session.PromptHistory
import dev.edgesam.demo.session.runHarness
import dev.edgesam.fraction
import dev.edgesam.invoke
import dev.edgesam.isEmpty
import dev.edgesam.reason
import java.io.File
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import org.json.JSONObject

sealed interface Phase {
    data object NoPhoto : Phase
    /** [percent] of the encoder's steps done, as the library reports them. */
    data class Encoding(val percent: Int = 0) : Phase
    data object Ready : Phase
    data class Failed(val message: String) : Phase
}

data class SegmentState(
    val phase: Phase = Phase.NoPhoto,
    /** Exactly the Bitmap that was encoded (upright): masks line up with it pixel for pixel. */
    val photo: Bitmap? = null,
    val history: PromptHistory = PromptHistory(),
    val segmentation: Segmentation? = null,
    /** The mask tinted, to draw over the photo. */
    val overlay: Bitmap? = null,
    /** Whether the mask has pixels inside: something to cut out and share. */
    val canShare: Boolean = false,
)

data class BenchmarkState(
    val running: Boolean = false,
    /** The harness's steps done, from 0 to 1. */
    val progress: Float = 0f,
    /** Stop was pressed: the harness ends after the step under way. */
    val stopping: Boolean = false,
    val report: String? = null,
    val error: String? = null,
)

/** How far a call is, from 0 to 100. */
private fun percentDone(step: StepProgress): Int = (step.fraction * 100).toInt()

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
    private var benchmarking: Job? = null

    /**
     * Held while a mask is in use off the main thread, and to free a replaced one: its pixels
     * live in the library (12 MB for a 12 MP photo), so each is freed as soon as it is replaced
     * rather than whenever the garbage collector comes by.
     */
    private val masks = Mutex()

    /** Updates the state with [next], and frees the segmentation that drops out of it, if any. */
    private suspend fun replaceState(next: (SegmentState) -> SegmentState) {
        val previous = _segment.value.segmentation
        _segment.update(next)
        if (previous != null && previous !== _segment.value.segmentation) {
            // Freed even when the caller is cancelled meanwhile.
            withContext(NonCancellable) { masks.withLock { previous.destroy() } }
        }
    }

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
                replaceState { SegmentState(phase = Phase.Encoding(), photo = photo) }
                // Told from the library's worker thread; the StateFlow is safe to update from there,
                // and passes only the changes of percentage on.
                val progress = ProgressListener { step ->
                    _segment.update {
                        if (it.photo === photo && it.phase is Phase.Encoding) it.copy(phase = Phase.Encoding(percentDone(step))) else it
                    }
                }
                val encoded: ImageEmbedding = model.await().encode(photo, progress)
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
        viewModelScope.launch { replaceState { SegmentState() } }
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
        segmenting = viewModelScope.launch {
            if (prompt == null || embedding == null) {
                replaceState { it.copy(segmentation = null, overlay = null, canShare = false) }
                return@launch
            }
            try {
                val s: Segmentation = model.await().segmentAsync(embedding, prompt)
                val (overlay, canShare) = withContext(Dispatchers.Default) { s.mask.toBitmap() to !s.mask.isEmpty }
                replaceState { it.copy(segmentation = s, overlay = overlay, canShare = canShare) }
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                _segment.update { it.copy(phase = Phase.Failed(describe(e))) }
            }
        }
    }

    /** Writes the cut-out (mask's box plus 8 pixels) as a PNG to share; null without a selection. */
    suspend fun exportCutout(): Uri? = withContext(Dispatchers.Default) {
        val cut = masks.withLock {
            val state = _segment.value
            val segmentation = state.segmentation ?: return@withContext null
            val photo = state.photo ?: return@withContext null
            segmentation.mask.cutout(photo, cropPadding = 8)
        }
        val app = getApplication<Application>()
        val file = File(app.cacheDir, "exports/cutout.png").apply { parentFile?.mkdirs() }
        file.outputStream().use { cut.compress(Bitmap.CompressFormat.PNG, 100, it) }
        FileProvider.getUriForFile(app, "dev.edgesam.demo.files", file)
    }

    fun runBenchmark() {
        if (_benchmark.value.running) return
        _benchmark.value = BenchmarkState(running = true)
        val progress = ProgressListener { step ->
            _benchmark.update { if (it.running) it.copy(progress = step.fraction) else it }
        }
        benchmarking = viewModelScope.launch {
            _benchmark.value = try {
                val (encoder, decoder) = modelFiles.await()
                val json = runHarness(encoder.path, decoder.path, progress = progress)
                BenchmarkState(report = JSONObject(json).toString(2))
            } catch (e: CancellationException) {
                // Stopped: runHarness returns once the harness has, so another run may start now.
                _benchmark.value = BenchmarkState()
                throw e
            } catch (e: Exception) {
                BenchmarkState(error = describe(e))
            }
        }
    }

    /** Stops the benchmark after the step under way (runHarness hands the cancellation on). */
    fun cancelBenchmark() {
        benchmarking?.cancel()
        _benchmark.update { if (it.running) it.copy(stopping = true) else it }
    }

    @OptIn(ExperimentalCoroutinesApi::class)  // getCompleted: the model, if it was ever loaded
    override fun onCleared() {
        embedding?.close()
        _segment.value.segmentation?.destroy()
        if (model.isCompleted && !model.isCancelled) {
            runCatching { model.getCompleted().close() }
        }
    }
}
