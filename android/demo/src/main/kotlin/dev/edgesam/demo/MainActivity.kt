// Two screens: Segment (pick a photo and watch the encoder's progress; tap = positive point, long
// press = negative point, drag = box; the mask over the photo after every gesture; undo; share the
// cut-out) and Benchmark (the library's harness with its progress and a Stop button, its JSON
// shown and shared).
package dev.edgesam.demo

import android.content.Intent
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.compose.setContent
import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.Canvas
import androidx.compose.foundation.Image
import androidx.compose.foundation.gestures.awaitEachGesture
import androidx.compose.foundation.gestures.awaitFirstDown
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.selection.SelectionContainer
import androidx.compose.foundation.verticalScroll
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.Undo
import androidx.compose.material.icons.filled.Image
import androidx.compose.material.icons.filled.Share
import androidx.compose.material.icons.filled.Speed
import androidx.compose.material.icons.filled.TouchApp
import androidx.compose.material3.Button
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.FilterQuality
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.graphics.drawscope.Stroke
import androidx.compose.ui.input.pointer.pointerInput
import androidx.compose.ui.layout.ContentScale
import androidx.compose.ui.layout.onSizeChanged
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.unit.IntSize
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewmodel.compose.viewModel
import dev.edgesam.SegmentPrompt
import dev.edgesam.demo.session.AspectFit
import dev.edgesam.demo.session.PhotoGesture
import dev.edgesam.demo.session.Spot
import kotlinx.coroutines.launch

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent {
            MaterialTheme { DemoApp() }
        }
    }
}

@Composable
fun DemoApp(viewModel: DemoViewModel = viewModel()) {
    var tab by rememberSaveable { mutableStateOf(0) }
    Scaffold(
        bottomBar = {
            NavigationBar {
                NavigationBarItem(selected = tab == 0, onClick = { tab = 0 },
                    icon = { Icon(Icons.Filled.TouchApp, null) }, label = { Text("Segment") })
                NavigationBarItem(selected = tab == 1, onClick = { tab = 1 },
                    icon = { Icon(Icons.Filled.Speed, null) }, label = { Text("Benchmark") })
            }
        },
    ) { padding ->
        Box(Modifier.padding(padding)) {
            if (tab == 0) SegmentScreen(viewModel) else BenchmarkScreen(viewModel)
        }
    }
}

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun SegmentScreen(viewModel: DemoViewModel) {
    val state by viewModel.segment.collectAsStateWithLifecycle()
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    val pickPhoto = rememberLauncherForActivityResult(ActivityResultContracts.PickVisualMedia()) { uri ->
        uri?.let(viewModel::load)
    }
    Column(Modifier.fillMaxSize()) {
        TopAppBar(
            title = { Text("EdgeSAM") },
            actions = {
                IconButton(onClick = {
                    pickPhoto.launch(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly))
                }) { Icon(Icons.Filled.Image, "Pick a photo") }
                IconButton(onClick = viewModel::undo, enabled = state.history.canUndo) {
                    Icon(Icons.AutoMirrored.Filled.Undo, "Undo")
                }
                IconButton(
                    onClick = {
                        scope.launch {
                            val uri = viewModel.exportCutout() ?: return@launch
                            val send = Intent(Intent.ACTION_SEND).setType("image/png")
                                .putExtra(Intent.EXTRA_STREAM, uri)
                                .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
                            context.startActivity(Intent.createChooser(send, "Share the cut-out"))
                        }
                    },
                    enabled = state.canShare,
                ) { Icon(Icons.Filled.Share, "Share the cut-out") }
            },
        )
        Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) {
            when (val phase = state.phase) {
                Phase.NoPhoto -> Text("Pick a photo, then tap the object, long-press the background, or drag a box.",
                    Modifier.padding(24.dp))
                is Phase.Failed -> Text(phase.message, Modifier.padding(24.dp), color = MaterialTheme.colorScheme.error)
                is Phase.Encoding -> EncodingProgress(phase.percent, viewModel::cancelEncoding)
                Phase.Ready -> state.photo?.let { photo ->
                    PhotoCanvas(photo, state.overlay, state.history.current, viewModel::apply)
                }
            }
        }
    }
}

/** The encoder's progress as the library reports it, step by step, and a way out. */
@Composable
fun EncodingProgress(percent: Int, onCancel: () -> Unit) {
    Column(
        Modifier.padding(24.dp),
        horizontalAlignment = Alignment.CenterHorizontally,
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        LinearProgressIndicator(progress = { percent / 100f }, modifier = Modifier.fillMaxWidth())
        Text("Encoding… $percent %")
        TextButton(onClick = onCancel) { Text("Cancel") }
    }
}

/** The photo fitted to the view, the mask over it, the prompt's points and box, and the touches. */
@Composable
fun PhotoCanvas(
    photo: android.graphics.Bitmap,
    overlay: android.graphics.Bitmap?,
    prompt: SegmentPrompt?,
    onGesture: (PhotoGesture) -> Unit,
) {
    var viewSize by remember { mutableStateOf(IntSize.Zero) }
    var dragFrom by remember { mutableStateOf<Offset?>(null) }
    var dragTo by remember { mutableStateOf<Offset?>(null) }
    val fit = AspectFit(photo.width, photo.height, viewSize.width.toFloat(), viewSize.height.toFloat())
    val photoBitmap = remember(photo) { photo.asImageBitmap() }
    val overlayBitmap = remember(overlay) { overlay?.asImageBitmap() }
    Box(
        Modifier
            .fillMaxSize()
            .onSizeChanged { viewSize = it }
            .pointerInput(photo, viewSize) {
                // One handler for all three gestures: travel and duration decide (PhotoGesture).
                awaitEachGesture {
                    val down = awaitFirstDown()
                    var last = down
                    while (last.pressed) {
                        last = awaitPointerEvent().changes.firstOrNull { it.id == down.id } ?: break
                        val moved = (last.position - down.position).getDistance() >= PhotoGesture.DRAG_THRESHOLD
                        dragFrom = if (moved) down.position else null
                        dragTo = if (moved) last.position else null
                    }
                    dragFrom = null
                    dragTo = null
                    val start = fit.toPhoto(Spot(down.position.x, down.position.y))
                    if (start.x >= 0 && start.y >= 0 && start.x < photo.width && start.y < photo.height) {
                        onGesture(
                            PhotoGesture.classify(Spot(down.position.x, down.position.y),
                                Spot(last.position.x, last.position.y), last.uptimeMillis - down.uptimeMillis, fit::toPhoto),
                        )
                    }
                }
            },
    ) {
        Image(photoBitmap, null, Modifier.fillMaxSize(), contentScale = ContentScale.Fit)
        overlayBitmap?.let {
            // No filtering: the mask's edge stays on the pixels the library put it on.
            Image(it, null, Modifier.fillMaxSize(), contentScale = ContentScale.Fit, filterQuality = FilterQuality.None)
        }
        Canvas(Modifier.fillMaxSize()) {
            prompt?.points?.forEach { p ->
                val at = fit.toView(Spot(p.x, p.y))
                drawCircle(if (p.positive) Color.Green else Color.Red, 7.dp.toPx(), Offset(at.x, at.y))
                drawCircle(Color.White, 7.dp.toPx(), Offset(at.x, at.y), style = Stroke(2.dp.toPx()))
            }
            prompt?.box?.let { r ->
                val a = fit.toView(Spot(minOf(r.x0, r.x1), minOf(r.y0, r.y1)))
                val b = fit.toView(Spot(maxOf(r.x0, r.x1), maxOf(r.y0, r.y1)))
                drawRect(Color.Yellow, Offset(a.x, a.y), Size(b.x - a.x, b.y - a.y), style = Stroke(2.dp.toPx()))
            }
            val from = dragFrom
            val to = dragTo
            if (from != null && to != null) {
                drawRect(Color.Yellow.copy(alpha = 0.6f), Offset(minOf(from.x, to.x), minOf(from.y, to.y)),
                    Size(kotlin.math.abs(to.x - from.x), kotlin.math.abs(to.y - from.y)), style = Stroke(2.dp.toPx()))
            }
        }
    }
}

@Composable
fun BenchmarkScreen(viewModel: DemoViewModel) {
    val state by viewModel.benchmark.collectAsStateWithLifecycle()
    val context = LocalContext.current
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Cold start, encode and tap times on a synthetic 4000x3000 photo, 5 runs each, all cores.")
        if (state.running) {
            LinearProgressIndicator(progress = { state.progress }, modifier = Modifier.fillMaxWidth())
            Text(if (state.stopping) "Stopping after this step…" else "Running… %d %%".format((state.progress * 100).toInt()))
            // Stops after the step under way: a run of the encoder can take seconds.
            Button(onClick = viewModel::cancelBenchmark, enabled = !state.stopping) { Text("Stop") }
        } else {
            Button(onClick = viewModel::runBenchmark) { Text("Run benchmark") }
        }
        state.error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        state.report?.let { report ->
            TextButton(onClick = {
                val send = Intent(Intent.ACTION_SEND).setType("application/json").putExtra(Intent.EXTRA_TEXT, report)
                context.startActivity(Intent.createChooser(send, "Share the report"))
            }) { Text("Share JSON") }
            SelectionContainer {
                Text(report, Modifier.fillMaxWidth().verticalScroll(rememberScrollState()),
                    fontFamily = FontFamily.Monospace, fontSize = 12.sp)
            }
        }
    }
}
