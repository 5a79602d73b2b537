//! The bad-input matrix of issue 5 through the core: every model file, image, prompt and call
//! order an app can get wrong gives its typed error or a defined result; decoding a huge or
//! bomb image stays inside the documented memory bound; one model shared by 8 threads answers
//! as it does serially; a cancelled encode stops promptly and leaves the model usable.

mod common;

use common::tiny;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use edgesam::MAX_IMAGE_PIXELS;
use edgesam::{
    decode_image, from_raw_pixels, Embedding, Error, ModelRole, Options, PixelFormat, PromptPoint,
    RgbImage, SegmentAnything, SegmentPrompt,
};

/// Counts the bytes allocated by the current thread, so that a test can bound what one call
/// allocates while other tests run on other threads.
struct ThreadCountingAllocator;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for ThreadCountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.with(|l| {
            l.set(l.get() + layout.size());
            l.get()
        });
        PEAK.with(|p| p.set(p.get().max(live)));
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Freed on another thread than it was allocated on: saturate rather than wrap.
        LIVE.with(|l| l.set(l.get().saturating_sub(layout.size())));
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: ThreadCountingAllocator = ThreadCountingAllocator;

/// `f`'s result and the most it had allocated at once on this thread, above what was live before.
fn peak_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let result = f();
    (result, PEAK.with(Cell::get) - before)
}

const MIB: usize = 1 << 20;
const W: u32 = 320;
const H: u32 = 200;

fn full() -> &'static SegmentAnything {
    static MODEL: OnceLock<SegmentAnything> = OnceLock::new();
    MODEL.get_or_init(|| {
        let (e, d) = common::standins("full");
        SegmentAnything::from_files(e, d, Options::default()).expect("full stand-ins load")
    })
}

fn photo(width: u32, height: u32) -> RgbImage {
    RgbImage::new(width, height, common::synthetic_rgb(width, height)).unwrap()
}

fn embedding() -> &'static Embedding {
    static EMBEDDING: OnceLock<Embedding> = OnceLock::new();
    EMBEDDING.get_or_init(|| tiny().encode(&photo(W, H)).unwrap())
}

fn misfit(name: &str) -> Vec<u8> {
    common::standins("tiny"); // generates the misfits too
    std::fs::read(
        common::repo_root()
            .join("models/generated/misfits")
            .join(name),
    )
    .unwrap()
}

fn tiny_bytes() -> (Vec<u8>, Vec<u8>) {
    let (e, d) = common::standins("tiny");
    (std::fs::read(e).unwrap(), std::fs::read(d).unwrap())
}

fn load(encoder: &[u8], decoder: &[u8]) -> Result<SegmentAnything, Error> {
    SegmentAnything::from_bytes(encoder, decoder, Options::default())
}

fn assert_not_a_model(result: Result<SegmentAnything, Error>, role: ModelRole, what: &str) {
    match result {
        Err(Error::NotAModel { role: r, .. }) if r == role => {}
        other => panic!("{what}: expected NotAModel for the {role}, got {other:?}"),
    }
}

fn assert_wrong_model(result: Result<SegmentAnything, Error>, role: ModelRole, what: &str) {
    match result {
        Err(Error::WrongModel { role: r, .. }) if r == role => {}
        other => panic!("{what}: expected WrongModel for the {role}, got {other:?}"),
    }
}

// Model files.

#[test]
fn model_files_truncated_anywhere_are_not_a_model() {
    let (enc, dec) = tiny_bytes();
    for (role, bytes) in [(ModelRole::Encoder, &enc), (ModelRole::Decoder, &dec)] {
        for cut in [1, 16, bytes.len() / 100, bytes.len() / 2, bytes.len() - 1] {
            let truncated = &bytes[..cut];
            let r = match role {
                ModelRole::Encoder => load(truncated, &dec),
                ModelRole::Decoder => load(&enc, truncated),
            };
            assert_not_a_model(r, role, &format!("{role} cut at {cut} of {}", bytes.len()));
        }
    }
}

#[test]
fn random_bytes_and_an_image_are_not_a_model() {
    let (enc, dec) = tiny_bytes();
    let random: Vec<u8> = (0..65536u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect();
    assert_not_a_model(load(&random, &dec), ModelRole::Encoder, "random");
    assert_not_a_model(load(&enc, &random), ModelRole::Decoder, "random");
    let mut png = Vec::new();
    image::RgbImage::new(8, 8)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert_not_a_model(load(&png, &dec), ModelRole::Encoder, "a PNG");
}

#[test]
fn another_network_swapped_files_and_wrong_dtypes_are_wrong_model() {
    let (enc, dec) = tiny_bytes();
    let other = misfit("another_model.onnx");
    assert_wrong_model(load(&other, &dec), ModelRole::Encoder, "another model");
    assert_wrong_model(load(&enc, &other), ModelRole::Decoder, "another model");
    assert_wrong_model(load(&dec, &enc), ModelRole::Encoder, "swapped");
    assert_wrong_model(load(&enc, &enc), ModelRole::Decoder, "encoder twice");
    let f64_encoder = misfit("encoder_f64.onnx");
    assert_wrong_model(load(&f64_encoder, &dec), ModelRole::Encoder, "f64 image");
    let int_labels = misfit("decoder_int64_labels.onnx");
    assert_wrong_model(load(&enc, &int_labels), ModelRole::Decoder, "int64 labels");
    // The same verdicts from the inspection behind `edgesam info`.
    let dir = common::repo_root().join("models/generated/misfits");
    let report = edgesam::inspect_model(dir.join("encoder_f64.onnx")).unwrap();
    assert!(matches!(
        report.encoder_check,
        Err(Error::WrongModel { .. })
    ));
}

#[test]
fn a_missing_or_unreadable_model_file_is_model_file() {
    let (_, d) = common::standins("tiny");
    for path in ["/no/such/encoder.onnx", "/"] {
        let r = SegmentAnything::from_files(path, &d, Options::default());
        assert!(matches!(r, Err(Error::ModelFile { .. })), "{path}: {r:?}");
    }
}

// Images.

fn png(image: impl Into<image::DynamicImage>) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .into()
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg(rgb: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(
            rgb.pixels(),
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn assert_bad_image<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    assert!(
        matches!(result, Err(Error::BadImage { .. })),
        "{what}: {result:?}"
    );
}

fn assert_unsupported_size<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    assert!(
        matches!(result, Err(Error::UnsupportedImageSize { .. })),
        "{what}: {result:?}"
    );
}

#[test]
fn truncated_jpegs_and_pngs_are_bad_images() {
    let source = photo(64, 40);
    for (format, bytes) in [
        ("JPEG", jpeg(&source)),
        (
            "PNG",
            png(image::RgbImage::from_raw(64, 40, source.pixels().to_vec()).unwrap()),
        ),
    ] {
        for cut in [0, 2, 8, 30, bytes.len() / 2, bytes.len() - 13] {
            assert_bad_image(
                decode_image(&bytes[..cut]),
                &format!("{format} cut at {cut}"),
            );
        }
    }
    // Defined results for a cut after the last pixel: a JPEG without its end-of-image marker is
    // refused (as Pillow does); a PNG missing only the tail of its empty IEND chunk has every
    // pixel and decodes to them.
    let jpeg = jpeg(&source);
    assert_bad_image(decode_image(&jpeg[..jpeg.len() - 1]), "JPEG without EOI");
    let png = png(image::RgbImage::from_raw(64, 40, source.pixels().to_vec()).unwrap());
    assert_eq!(
        decode_image(&png[..png.len() - 1]).unwrap(),
        decode_image(&png).unwrap()
    );
    assert_bad_image(decode_image(b"GIF89a not supported"), "GIF");
    assert_bad_image(decode_image(&[0u8; 100]), "zeros");
}

#[test]
fn degenerate_sizes_are_unsupported() {
    assert_unsupported_size(from_raw_pixels(&[], 0, 0, 0, PixelFormat::Rgba8), "0x0 raw");
    assert_unsupported_size(
        from_raw_pixels(&[0; 4], 1, 1, 4, PixelFormat::Rgba8),
        "1x1 raw",
    );
    assert_unsupported_size(decode_image(&png(image::RgbImage::new(1, 1))), "1x1 PNG");
    let tall = png(image::GrayImage::new(1, 20000));
    assert_unsupported_size(decode_image(&tall), "1x20000 PNG");
    let raw = vec![0u8; 20000 * 4];
    assert_unsupported_size(
        from_raw_pixels(&raw, 1, 20000, 4, PixelFormat::Rgba8),
        "1x20000 raw",
    );
    // 2 pixels wide and 20000 high still resizes to 0 columns: refused, not a 0-wide tensor.
    let raw = vec![0u8; 2 * 20000 * 3];
    assert_unsupported_size(
        from_raw_pixels(&raw, 2, 20000, 6, PixelFormat::Rgb8),
        "2x20000",
    );
}

#[test]
fn short_buffers_short_strides_and_overflowing_strides_are_bad_images() {
    let rgba = vec![7u8; 64 * 32 * 4];
    for (len, stride) in [(rgba.len() - 1, 256), (rgba.len(), 255), (rgba.len(), 0)] {
        assert_bad_image(
            from_raw_pixels(&rgba[..len], 64, 32, stride, PixelFormat::Rgba8),
            &format!("{len} bytes, stride {stride}"),
        );
    }
    // A stride whose product with the height does not fit in 32 bits (a phone's usize).
    assert_bad_image(
        from_raw_pixels(&rgba, 64, 32, 1 << 28, PixelFormat::Bgra8),
        "stride 2^28",
    );
    assert_bad_image(
        from_raw_pixels(&rgba, 64, 32, usize::MAX / 2, PixelFormat::Rgb8),
        "stride usize::MAX / 2",
    );
}

#[test]
fn grey_16_bit_and_cmyk_images_decode_to_rgb_and_encode() {
    let grey = image::GrayImage::from_fn(40, 30, |x, y| image::Luma([(x * 6 + y) as u8]));
    let grey16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(40, 30, |x, _| {
        image::Luma([x as u16 * 1600])
    });
    let rgb16 = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(40, 30, |x, y| {
        image::Rgb([x as u16 * 1600, y as u16 * 2000, 65535])
    });
    let cmyk = {
        let mut enc = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_CMYK);
        enc.set_size(40, 30);
        let mut started = enc.start_compress(Vec::new()).unwrap();
        started
            .write_scanlines(&[10, 20, 30, 40].repeat(40 * 30))
            .unwrap();
        started.finish().unwrap()
    };
    for (what, bytes) in [
        ("grey PNG", png(grey.clone())),
        ("16-bit grey PNG", png(grey16)),
        ("16-bit RGB PNG", png(rgb16)),
        ("CMYK JPEG", cmyk),
    ] {
        let image = decode_image(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!((image.width(), image.height()), (40, 30), "{what}");
        let embedding = tiny().encode(&image).unwrap();
        assert_eq!(embedding.image_size(), (40, 30));
    }
    // 16-bit samples are rounded to 8 bits: 1600 * 39 / 257 = 242.8.
    let image = decode_image(&png(image::ImageBuffer::<image::Luma<u16>, _>::from_fn(
        40,
        30,
        |x, _| image::Luma([x as u16 * 1600]),
    )))
    .unwrap();
    assert_eq!(&image.pixels()[39 * 3..40 * 3], &[243, 243, 243]);
    let grey_decoded = decode_image(&png(grey.clone())).unwrap();
    assert_eq!(grey_decoded.pixels()[3 * 5], grey.get_pixel(5, 0)[0]);
}

/// A PNG whose header claims `width` x `height` and whose data stream is cut after a few bytes.
fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(image::GrayImage::new(64, 64));
    // IHDR's width and height are bytes 16..24; its CRC (over type and data) follows at 29.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn pictures_above_the_pixel_limit_are_refused_before_allocating() {
    for (w, h) in [(20000, 20000), (11000, 11000), (65535, 2)] {
        let bytes = png_header_claiming(w, h);
        let (result, peak) = peak_allocation(|| decode_image(&bytes));
        assert!(w as u64 * h as u64 > MAX_IMAGE_PIXELS || w > 2 * 1024 * h);
        assert_unsupported_size(result, &format!("{w}x{h} PNG header"));
        assert!(
            peak < MIB,
            "{w}x{h}: {peak} bytes allocated before refusing"
        );
    }
}

#[test]
fn a_100_megapixel_decompression_bomb_decodes_within_the_memory_bound() {
    // 10000x10000 grey zeros: a 100 KB file that inflates to 100 MB of samples, 300 MB as RGB.
    let (w, h) = (10000u32, 10000u32);
    let bomb = png(image::GrayImage::new(w, h));
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let (image, peak) = peak_allocation(|| decode_image(&bomb));
    let image = image.unwrap();
    assert_eq!((image.width(), image.height()), (w, h));
    // Documented bound: the decoder's buffer (at most 1 GiB) plus the RGB copy (3 bytes a pixel).
    let rgb = (w * h) as usize * 3;
    assert!(
        peak <= rgb + (w * h) as usize + 16 * MIB,
        "peak {} MiB",
        peak / MIB
    );
    println!(
        "100-MP bomb PNG of {} KB: peak {} MiB while decoding",
        bomb.len() >> 10,
        peak / MIB
    );
    // The same bomb, cut short, is refused after the same bounded work.
    let (result, peak) = peak_allocation(|| decode_image(&bomb[..bomb.len() / 2]));
    assert_bad_image(result, "truncated bomb");
    assert!(
        peak <= rgb + (w * h) as usize + 16 * MIB,
        "peak {} MiB",
        peak / MIB
    );
}

// Prompts.

fn assert_bad_prompt(prompt: &SegmentPrompt, what: &str) {
    let r = tiny().segment(embedding(), prompt, None);
    assert!(matches!(r, Err(Error::BadPrompt { .. })), "{what}: {r:?}");
}

#[test]
fn impossible_prompts_are_bad_prompts() {
    assert_bad_prompt(&SegmentPrompt::default(), "empty");
    for (x, y) in [
        (f32::NAN, 1.0),
        (1.0, f32::NEG_INFINITY),
        (f32::INFINITY, f32::INFINITY),
        (1e30, 5.0),
        (-1e30, 5.0),
        (5.0, H as f32 + 0.5),
        (-0.001, 5.0),
    ] {
        assert_bad_prompt(&SegmentPrompt::point(x, y), &format!("point ({x}, {y})"));
    }
    assert_bad_prompt(
        &SegmentPrompt::with_box(0.0, 0.0, f32::NAN, 10.0),
        "NaN box",
    );
    assert_bad_prompt(
        &SegmentPrompt::with_box(0.0, 0.0, 1e9, 10.0),
        "box far outside",
    );
    let many = SegmentPrompt {
        points: (0..10_000)
            .map(|i| PromptPoint::positive((i % W) as f32, (i / W) as f32))
            .collect(),
        r#box: None,
    };
    let (r, peak) = peak_allocation(|| tiny().segment(embedding(), &many, None));
    assert!(matches!(r, Err(Error::BadPrompt { .. })), "{r:?}");
    assert!(
        peak < MIB,
        "10,000 points allocated {peak} bytes before refusing"
    );
}

#[test]
fn a_box_drawn_backwards_is_the_same_box() {
    let forwards = tiny()
        .segment(
            embedding(),
            &SegmentPrompt::with_box(60.0, 40.0, 250.0, 160.0),
            None,
        )
        .unwrap();
    for (x0, y0, x1, y1) in [
        (250.0, 160.0, 60.0, 40.0),
        (250.0, 40.0, 60.0, 160.0),
        (60.0, 160.0, 250.0, 40.0),
    ] {
        let backwards = tiny()
            .segment(embedding(), &SegmentPrompt::with_box(x0, y0, x1, y1), None)
            .unwrap();
        assert_eq!(backwards.low_res_logits, forwards.low_res_logits);
        assert_eq!(backwards.mask, forwards.mask);
    }
}

#[test]
fn points_on_the_border_and_a_zero_area_box_are_accepted() {
    for prompt in [
        SegmentPrompt::point(0.0, 0.0),
        SegmentPrompt::point(W as f32, H as f32),
        SegmentPrompt::with_box(100.0, 100.0, 100.0, 100.0),
    ] {
        let p = tiny().segment(embedding(), &prompt, None).unwrap();
        assert_eq!((p.mask.width, p.mask.height), (W, H), "{prompt:?}");
    }
}

// Call order.

#[test]
fn an_embedding_of_another_model_pair_is_a_bad_embedding() {
    let from_full = full().encode(&photo(64, 48)).unwrap();
    let r = tiny().segment(&from_full, &SegmentPrompt::point(10.0, 10.0), None);
    assert!(matches!(r, Err(Error::BadEmbedding { .. })), "{r:?}");
    // Through bytes, as an app's cache would hand it back.
    let restored = Embedding::from_bytes(&from_full.to_bytes()).unwrap();
    let r = tiny().segment(&restored, &SegmentPrompt::point(10.0, 10.0), None);
    assert!(matches!(r, Err(Error::BadEmbedding { .. })), "{r:?}");
}

#[test]
fn an_embedding_outlives_its_model() {
    let (e, d) = common::standins("tiny");
    let model = SegmentAnything::from_files(&e, &d, Options::default()).unwrap();
    let embedding = model.encode(&photo(W, H)).unwrap();
    let expected = model
        .segment(&embedding, &SegmentPrompt::point(50.0, 50.0), None)
        .unwrap();
    drop(model);
    let again = tiny()
        .segment(&embedding, &SegmentPrompt::point(50.0, 50.0), None)
        .unwrap();
    assert_eq!(again.mask, expected.mask);
}

#[test]
fn two_encodes_racing_on_one_model_give_the_serial_embeddings() {
    let photos = [photo(W, H), photo(200, 300)];
    let serial: Vec<Vec<f32>> = photos
        .iter()
        .map(|p| tiny().encode(p).unwrap().values().to_vec())
        .collect();
    for _ in 0..3 {
        let raced: Vec<Vec<f32>> = std::thread::scope(|scope| {
            let handles: Vec<_> = photos
                .iter()
                .map(|p| scope.spawn(move || tiny().encode(p).unwrap().values().to_vec()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            raced == serial,
            "a raced encode differs from the serial one"
        );
    }
}

// Concurrency.

#[test]
fn eight_threads_of_200_taps_on_one_model_equal_the_serial_answers() {
    const THREADS: usize = 8;
    const TAPS: usize = 200;
    let prompts: Vec<SegmentPrompt> = (0..10)
        .map(|i| {
            let mut p = SegmentPrompt::point(20.0 + 29.0 * i as f32, 15.0 + 17.0 * i as f32);
            if i % 3 == 0 {
                p.points
                    .push(PromptPoint::negative(300.0 - 25.0 * i as f32, 180.0));
            }
            if i % 4 == 1 {
                p.r#box = SegmentPrompt::with_box(10.0, 10.0, 200.0 + i as f32, 150.0).r#box;
            }
            p
        })
        .collect();
    let serial: Vec<_> = prompts
        .iter()
        .map(|p| tiny().segment(embedding(), p, None).unwrap())
        .collect();
    let started = Instant::now();
    let mismatches: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (prompts, serial) = (&prompts, &serial);
                scope.spawn(move || {
                    (0..TAPS)
                        .filter(|tap| {
                            let i = (t * 7 + tap) % prompts.len();
                            let p = tiny().segment(embedding(), &prompts[i], None).unwrap();
                            p.mask != serial[i].mask
                                || p.scores != serial[i].scores
                                || p.low_res_logits != serial[i].low_res_logits
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    println!(
        "{THREADS} threads x {TAPS} taps in {:?}, {mismatches} differing from serial",
        started.elapsed()
    );
    assert_eq!(mismatches, 0);
}

// Cancellation.

#[test]
fn an_encode_reports_each_node_and_stops_at_the_node_that_sees_the_cancel() {
    let model = full();
    let image = photo(640, 480);
    let reference = model.encode(&image).unwrap();

    // 0 of N, then each node before it runs, then N of N.
    let seen = Mutex::new(Vec::new());
    model
        .encode_with_progress(&image, &|p| {
            seen.lock().unwrap().push(p);
            true
        })
        .unwrap();
    let seen = seen.into_inner().unwrap();
    let total = seen[0].total;
    assert!(total > 100, "the full encoder has only {total} nodes");
    assert!(seen.iter().all(|p| p.total == total));
    let done: Vec<u32> = seen.iter().map(|p| p.done).collect();
    assert_eq!(done, (0..=total).collect::<Vec<_>>());

    // Cancelled halfway: the node told of it does not run, and nothing after it.
    let asked = AtomicUsize::new(0);
    let halfway = total / 2;
    let r = model.encode_with_progress(&image, &|p| {
        asked.fetch_add(1, Ordering::Relaxed);
        p.done < halfway
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert_eq!(asked.load(Ordering::Relaxed), halfway as usize + 1);
    // Cancelled before it starts: nothing runs.
    let r = model.encode_with_progress(&image, &|_| false);
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    // And the model encodes as before.
    let after = model.encode(&image).unwrap();
    assert_eq!(after.values(), reference.values());
}
