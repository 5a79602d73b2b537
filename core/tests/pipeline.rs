//! The whole pipeline on the `tiny` stand-ins: loading checks, prompts, choices, embeddings,
//! decoder planning and threading.

mod common;

use common::tiny;

use std::sync::OnceLock;

use edgesam::{
    decode_image, from_raw_pixels, DecoderPlanning, Embedding, Error, ModelRole, Options,
    PixelFormat, PromptPoint, RgbImage, SegmentAnything, SegmentPrompt,
};

const W: u32 = 320;
const H: u32 = 200;

fn photo() -> RgbImage {
    RgbImage::new(W, H, common::synthetic_rgb(W, H)).unwrap()
}

fn embedding() -> &'static Embedding {
    static EMBEDDING: OnceLock<Embedding> = OnceLock::new();
    EMBEDDING.get_or_init(|| tiny().encode(&photo()).unwrap())
}

fn load_bytes(encoder: &[u8], decoder: &[u8]) -> Result<SegmentAnything, Error> {
    SegmentAnything::from_bytes(encoder, decoder, Options::default())
}

#[test]
fn wrong_model_files_fail_at_load_with_typed_errors() {
    let (e, d) = common::standins("tiny");
    let (enc, dec) = (std::fs::read(&e).unwrap(), std::fs::read(&d).unwrap());

    let missing = SegmentAnything::from_files("/no/such/encoder.onnx", &d, Options::default());
    assert!(
        matches!(missing, Err(Error::ModelFile { .. })),
        "{missing:?}"
    );

    for (what, bytes) in [
        ("empty", Vec::new()),
        ("text", b"this is not a model".to_vec()),
        (
            "random",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect(),
        ),
        ("truncated", enc[..enc.len() / 3].to_vec()),
    ] {
        let r = load_bytes(&bytes, &dec);
        assert!(
            matches!(
                r,
                Err(Error::NotAModel {
                    role: ModelRole::Encoder,
                    ..
                })
            ),
            "{what}: {r:?}"
        );
    }
    let r = load_bytes(&enc, &dec[..dec.len() - 1000]);
    assert!(
        matches!(
            r,
            Err(Error::NotAModel {
                role: ModelRole::Decoder,
                ..
            })
        ),
        "{r:?}"
    );

    let Err(swapped) = load_bytes(&dec, &enc) else {
        panic!("swapped files loaded")
    };
    match &swapped {
        Error::WrongModel {
            role,
            expected,
            found,
        } => {
            assert_eq!(*role, ModelRole::Encoder);
            assert!(
                expected.contains("`image` f32 [1,3,1024,1024]"),
                "{expected}"
            );
            assert!(found.contains("point_coords"), "{found}");
        }
        other => panic!("expected WrongModel, got {other:?}"),
    }
    let r = load_bytes(&enc, &enc);
    assert!(
        matches!(
            r,
            Err(Error::WrongModel {
                role: ModelRole::Decoder,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn a_point_gives_a_photo_sized_mask_chosen_by_best_score() {
    let p = tiny()
        .segment(embedding(), &SegmentPrompt::point(200.0, 80.0), None)
        .unwrap();
    assert_eq!((p.mask.width, p.mask.height), (W, H));
    assert_eq!(p.mask.data.len(), (W * H) as usize);
    assert!(p.mask.data.iter().all(|&v| v == 0 || v == 255));
    let best = (0..4).fold(0, |b, i| if p.scores[i] > p.scores[b] { i } else { b });
    assert_eq!(p.mask_index, best);
    assert_eq!(p.score(), p.scores[best]);
    assert_eq!(p.low_res_logits.len(), 4 * 256 * 256);
    // The official decoder's scores are the stability scores of the low-res logits.
    for i in 0..4 {
        assert!(
            (p.stability_score(i) - p.scores[i]).abs() < 1e-4,
            "candidate {i}"
        );
    }
    let area = p.mask.area();
    match p.mask.bounding_box() {
        Some(b) => assert!(area > 0 && b.x + b.width <= W && b.y + b.height <= H),
        None => assert_eq!(area, 0),
    }
}

#[test]
fn a_box_alone_takes_candidate_zero_and_an_explicit_index_is_honoured() {
    let boxed = SegmentPrompt::with_box(150.0, 30.0, 260.0, 130.0);
    let p = tiny().segment(embedding(), &boxed, None).unwrap();
    assert_eq!(p.mask_index, 0);
    let p2 = tiny().segment(embedding(), &boxed, Some(2)).unwrap();
    assert_eq!(p2.mask_index, 2);
    assert_eq!(p2.scores, p.scores);
    let r = tiny().segment(embedding(), &boxed, Some(4));
    assert!(
        matches!(r, Err(Error::MaskIndexOutOfRange { index: 4 })),
        "{r:?}"
    );
}

#[test]
fn masks_follow_the_prompt() {
    let a = tiny()
        .segment(embedding(), &SegmentPrompt::point(40.0, 30.0), Some(1))
        .unwrap();
    let b = tiny()
        .segment(embedding(), &SegmentPrompt::point(280.0, 170.0), Some(1))
        .unwrap();
    let differing = a
        .mask
        .data
        .iter()
        .zip(&b.mask.data)
        .filter(|(x, y)| x != y)
        .count();
    assert!(
        differing > (W * H) as usize / 100,
        "only {differing} pixels differ"
    );
    let mut with_negative = SegmentPrompt::point(40.0, 30.0);
    with_negative.points.push(PromptPoint::negative(60.0, 40.0));
    let c = tiny()
        .segment(embedding(), &with_negative, Some(1))
        .unwrap();
    assert_ne!(a.low_res_logits, c.low_res_logits);
}

#[test]
fn bad_prompts_are_typed_errors() {
    for prompt in [
        SegmentPrompt::default(),
        SegmentPrompt::point(f32::NAN, 3.0),
        SegmentPrompt::point(W as f32 + 50.0, 3.0),
        SegmentPrompt::with_box(0.0, 0.0, f32::INFINITY, 3.0),
    ] {
        let r = tiny().segment(embedding(), &prompt, None);
        assert!(
            matches!(r, Err(Error::BadPrompt { .. })),
            "{prompt:?}: {r:?}"
        );
    }
}

#[test]
fn a_saved_embedding_segments_the_same_and_another_encoders_is_refused() {
    let bytes = embedding().to_bytes();
    let restored = Embedding::from_bytes(&bytes).unwrap();
    let prompt = SegmentPrompt::point(100.0, 100.0);
    let a = tiny().segment(embedding(), &prompt, None).unwrap();
    let b = tiny().segment(&restored, &prompt, None).unwrap();
    assert_eq!(a.low_res_logits, b.low_res_logits);
    assert_eq!(a.mask, b.mask);

    let mut foreign = bytes.clone();
    foreign[20] ^= 0xff; // first byte of the encoder's SHA-256
    let foreign = Embedding::from_bytes(&foreign).unwrap();
    let r = tiny().segment(&foreign, &prompt, None);
    assert!(matches!(r, Err(Error::BadEmbedding { .. })), "{r:?}");
}

#[test]
fn raw_rgba_bgra_and_png_give_the_same_embedding() {
    let rgb = common::synthetic_rgb(W, H);
    let stride = W as usize * 4 + 16;
    let mut rgba = vec![0u8; stride * H as usize];
    let mut bgra = rgba.clone();
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        let at = (i / W as usize) * stride + (i % W as usize) * 4;
        rgba[at..at + 4].copy_from_slice(&[px[0], px[1], px[2], 255]);
        bgra[at..at + 4].copy_from_slice(&[px[2], px[1], px[0], 255]);
    }
    let mut png = Vec::new();
    image::RgbImage::from_raw(W, H, rgb.clone())
        .unwrap()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let from_png = decode_image(&png).unwrap();
    let from_rgba = from_raw_pixels(&rgba, W, H, stride, PixelFormat::Rgba8).unwrap();
    let from_bgra = from_raw_pixels(&bgra, W, H, stride, PixelFormat::Bgra8).unwrap();
    assert_eq!(from_png, from_rgba);
    assert_eq!(from_png, from_bgra);
    assert_eq!(from_png.pixels(), &rgb[..]);
}

#[test]
fn symbolic_and_per_point_count_plans_agree_as_the_count_changes() {
    let (e, d) = common::standins("tiny");
    let per_count = SegmentAnything::from_files(
        &e,
        &d,
        Options {
            decoder_planning: DecoderPlanning::PerPointCount,
            ..Options::default()
        },
    )
    .unwrap();
    let embedding = embedding();
    for n in [1usize, 2, 5, 1, 2] {
        let prompt = common::diagonal_points(n);
        let a = tiny().segment(embedding, &prompt, None).unwrap();
        let b = per_count.segment(embedding, &prompt, None).unwrap();
        let range = a.low_res_logits.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = a
            .low_res_logits
            .iter()
            .zip(&b.low_res_logits)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(worst <= 1e-4 * range, "{n} points: {worst} of {range}");
    }
}

#[test]
fn two_threads_give_the_answers_of_one() {
    let (e, d) = common::standins("tiny");
    let threaded = SegmentAnything::from_files(
        &e,
        &d,
        Options {
            threads: 2,
            ..Options::default()
        },
    )
    .unwrap();
    let emb = threaded.encode(&photo()).unwrap();
    let reference = embedding().values();
    let range = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = emb
        .values()
        .iter()
        .zip(reference)
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(worst <= 1e-4 * range, "{worst} of {range}");
    let prompt = SegmentPrompt::point(160.0, 90.0);
    let a = threaded.segment(&emb, &prompt, Some(0)).unwrap();
    let b = tiny().segment(embedding(), &prompt, Some(0)).unwrap();
    let differing = a
        .mask
        .data
        .iter()
        .zip(&b.mask.data)
        .filter(|(x, y)| x != y)
        .count();
    assert!(
        differing <= (W * H) as usize / 1000,
        "{differing} pixels differ"
    );
}

#[test]
fn the_plain_export_with_an_iou_head_loads_and_segments() {
    let (e, d) = common::standins("tiny-iou");
    let model = SegmentAnything::from_files(e, d, Options::default()).unwrap();
    let emb = model.encode(&photo()).unwrap();
    let p = model
        .segment(&emb, &SegmentPrompt::point(200.0, 80.0), None)
        .unwrap();
    assert_eq!((p.mask.width, p.mask.height), (W, H));
    assert!(p.scores.iter().all(|s| s.is_finite()));
}

#[test]
fn photos_of_unusual_shapes_are_encoded() {
    for (w, h) in [(17, 9), (9, 17), (2, 2), (1025, 3)] {
        let img = RgbImage::new(w, h, common::synthetic_rgb(w, h)).unwrap();
        let emb = tiny().encode(&img).unwrap();
        assert_eq!(emb.image_size(), (w, h));
        let p = tiny()
            .segment(
                &emb,
                &SegmentPrompt::point(w as f32 / 2.0, h as f32 / 2.0),
                None,
            )
            .unwrap();
        assert_eq!(p.mask.data.len(), (w * h) as usize);
    }
}

#[test]
fn a_benchmark_reports_every_step_and_stops_where_it_is_cancelled() {
    use edgesam::benchmark::{run_benchmark, BenchmarkOptions};
    let (encoder, decoder) = common::standins("tiny");
    let options = BenchmarkOptions {
        model: Options::default(),
        runs: 2,
        points: 2,
        profile: true,
    };
    let seen = std::sync::Mutex::new(Vec::new());
    let report = run_benchmark(&encoder, &decoder, &photo(), options.clone(), &|p| {
        seen.lock().unwrap().push(p);
        true
    })
    .unwrap();
    assert_eq!(report.encode.runs, 2);
    // The profile covers every node of each graph.
    let profile = report.profile.expect("asked for");
    let encoder_nodes: usize = profile.encoder.iter().map(|t| t.nodes).sum();
    assert!(encoder_nodes > 10, "{:?}", profile.encoder);
    assert!(!profile.decoder_per_tap.is_empty());
    let ops = |times: &[edgesam::benchmark::OpTime]| times.iter().any(|t| t.op.contains("MatMul"));
    assert!(
        ops(&profile.encoder) || ops(&profile.decoder_per_tap),
        "{profile:?}"
    );
    let seen = seen.into_inner().unwrap();
    // The load, the first encode, the first tap, four timed steps of a warm-up and 2 runs, and
    // the profile's three graphs.
    let total = 3 + 4 * 3 + 3;
    assert!(seen.iter().all(|p| p.total == total), "{seen:?}");
    let done: Vec<u32> = seen.iter().map(|p| p.done).collect();
    assert_eq!(done, (0..=total).collect::<Vec<_>>());

    // Cancelled once the model is loaded: the next step is not taken.
    let asked = std::sync::atomic::AtomicU32::new(0);
    let r = run_benchmark(&encoder, &decoder, &photo(), options, &|p| {
        asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        p.done < 1
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert_eq!(asked.into_inner(), 2);
}
