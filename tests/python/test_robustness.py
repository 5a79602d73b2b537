"""Errors and resources through the Python binding. The bad-input matrix itself is the Rust
suite's (core/tests); here one input per error kind proves that it arrives as its own
EdgeSamError class with a reason, a panic arrives as Internal, the objects stay usable afterwards,
a cancelled call returns without waiting for its worker, embeddings survive their model's garbage
collection, and 500 encode/segment cycles keep resident memory flat."""
from __future__ import annotations

import asyncio
import ctypes
import gc
import os
import threading

import pytest

from test_bindings_python import edgesam, pair, model, photo, embedding, png_bytes, prompt, synthetic_rgb  # noqa: F401

MANY_POINTS = dict(points_per_side=8, score_threshold=-1.0, stability_threshold=0.0)


def one_of_each_kind(edgesam, pair, model, embedding):
    """(error class, start of its reason, call) for every error kind a Python caller can meet."""
    E = edgesam.EdgeSamError
    encoder, decoder = pair[0].read_bytes(), pair[1].read_bytes()

    class Failing(edgesam.EverythingListener):
        def on_progress(self, progress):
            raise RuntimeError("listener failed")

    cancelled = edgesam.CancellationToken()
    cancelled.cancel()
    return [
        (E.FileNotFound, "cannot read the model file",
         lambda: edgesam.SegmentAnything.from_files(str(pair[0].with_name("no-such.onnx")), str(pair[1]))),
        (E.NotAModel, "the encoder model is not a readable ONNX file",
         lambda: edgesam.SegmentAnything.from_bytes(b"", decoder)),
        (E.WrongModel, "the encoder model does not match", lambda: edgesam.SegmentAnything.from_bytes(decoder, encoder)),
        (E.BadImage, "bad image: ", lambda: model.encode_image(b"not an image at all")),
        (E.BadImage, "bad image: width -8 is negative",
         lambda: model.encode_pixels(bytes(64), -8, 2, 32, edgesam.PixelFormat.RGBA8)),
        (E.BadPrompt, "bad prompt: ", lambda: model.segment(embedding, prompt(edgesam))),
        (E.BadEmbedding, "bad embedding: ", lambda: edgesam.ImageEmbedding.from_bytes(b"xyz")),
        (E.BadMask, "bad mask: ", lambda: edgesam.SegmentMask(4, 2, bytes(7))),
        (E.BadOptions, "", lambda: model.everything(embedding, edgesam.EverythingOptions(points_per_side=0))),
        (E.Cancelled, "", lambda: asyncio.run(model.encode_image_async(b"", cancellation=cancelled))),
        # The listener's exception makes UniFFI's Rust side panic; the library catches it.
        (E.Internal, "internal error (panic): ",
         lambda: model.everything(embedding, edgesam.EverythingOptions(points_per_side=2), Failing())),
    ]


def test_each_error_kind_arrives_as_its_own_class_with_a_reason(edgesam, pair, model, embedding):
    kinds = set()
    for error_class, start, call in one_of_each_kind(edgesam, pair, model, embedding):
        with pytest.raises(edgesam.EdgeSamError) as caught:
            call()
        assert type(caught.value) is error_class, (error_class, caught.value)
        kinds.add(error_class)
        if error_class is not edgesam.EdgeSamError.Cancelled:  # the one case without a reason
            assert caught.value.reason.startswith(start), caught.value.reason
            assert str(caught.value) == f"reason={caught.value.reason!r}"  # UniFFI's message
    assert len(kinds) == 10


def test_the_objects_stay_usable_after_errors(edgesam, pair, model, embedding, photo):
    p = prompt(edgesam, points=[(200, 80, 1)])
    before = model.segment(embedding, p)
    for _, _, call in one_of_each_kind(edgesam, pair, model, embedding):
        with pytest.raises(edgesam.EdgeSamError):
            call()
    assert model.segment(embedding, p) == before
    assert model.encode_image(photo[1]).to_bytes() == embedding.to_bytes()
    mask = before.mask
    with pytest.raises(edgesam.EdgeSamError.BadMask):
        mask.union(edgesam.SegmentMask(4, 2, bytes(8)))
    assert mask.union(mask) == before.mask


class Gate:
    """Holds the library's workers at their first progress report until `open()`: the test can
    cancel while the work is certainly still running, and see that the call returned before its
    worker went on. Checked by order of events, never by time; the one-minute watchdog only turns a
    call that waits for its worker into a failure instead of a hang."""

    def __init__(self, edgesam, loop):
        gate = self
        self.opened = threading.Event()
        self.watchdog_fired = False
        self.reached = asyncio.Event()

        class Listener(edgesam.EverythingListener):
            def on_progress(self, progress):
                loop.call_soon_threadsafe(gate.reached.set)
                if not gate.opened.wait(60):
                    gate.watchdog_fired = True

        self.listener = Listener()

    def open(self):
        """Lets the workers go on; returns whether they were held until now."""
        self.opened.set()
        return not self.watchdog_fired


def test_a_cancelled_call_returns_while_its_worker_is_held(edgesam, model, embedding, photo):
    options = edgesam.EverythingOptions(**MANY_POINTS)

    async def cancel_the_token():
        gate = Gate(edgesam, asyncio.get_running_loop())
        token = edgesam.CancellationToken()
        call = asyncio.ensure_future(model.everything_async(embedding, options, gate.listener, token))
        await gate.reached.wait()
        token.cancel()
        with pytest.raises(edgesam.EdgeSamError.Cancelled):
            await call
        assert gate.open(), "the cancelled call waited for its worker"
        assert token.is_cancelled()

    async def cancel_the_task():
        gate = Gate(edgesam, asyncio.get_running_loop())
        task = asyncio.ensure_future(model.everything_async(embedding, options, gate.listener))
        await gate.reached.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gate.open(), "the cancelled task waited for its worker"

    asyncio.run(cancel_the_token())
    asyncio.run(cancel_the_task())
    assert model.encode_image(photo[1]).to_bytes() == embedding.to_bytes()


def test_an_embedding_outlives_its_garbage_collected_model(edgesam, pair, embedding, photo):
    own = edgesam.SegmentAnything.from_files(str(pair[0]), str(pair[1]), threads=1)
    temporary = edgesam.SegmentAnything.from_files(str(pair[0]), str(pair[1]), threads=1)
    kept = temporary.encode_image(photo[1])
    del temporary
    gc.collect()
    p = prompt(edgesam, points=[(200, 80, 1)])
    assert own.segment(kept, p) == own.segment(embedding, p)


def resident_mib():
    # Freed memory that glibc keeps in its per-thread arenas swings RSS by tens of MiB from one
    # sample to the next; handing it back first leaves only memory that is still in use.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_five_hundred_encode_segment_cycles_keep_memory_flat(edgesam, pair):
    """After 100 cycles of warm-up, RSS may grow by at most 16 MiB over the next 400: a leaked
    embedding (4 MiB) per cycle would exceed it a hundred times over, a leak of 41 KB per cycle
    already would."""
    model = edgesam.SegmentAnything.from_files(str(pair[0]), str(pair[1]))  # a thread per core
    image = png_bytes(synthetic_rgb(160, 100))
    p = prompt(edgesam, points=[(80, 50, 1)])
    samples = {}
    for cycle in range(1, 501):
        emb = model.encode_image(image)
        result = model.segment(emb, p)
        assert result.mask.width() == 160
        del emb, result
        if cycle % 100 == 0:
            gc.collect()
            samples[cycle] = resident_mib()
    growth = max(samples.values()) - samples[100]
    assert growth < 16, f"RSS grew {growth:.1f} MiB after warm-up: {samples}"
