//! The README's Rust example, word for word between the markers: `cargo build --all-targets`
//! compiles it and `core/tests/readme.rs` runs it on the stand-in models and checks that the
//! README still shows this text.

#[rustfmt::skip]
pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    // README example start
    use edgesam::{decode_image, Options, PromptPoint, SegmentAnything, SegmentPrompt};

    let model = SegmentAnything::from_files("models/edge_sam_3x_encoder.onnx",
                                    "models/edge_sam_3x_decoder.onnx", Options::default())?;
    let photo = decode_image(&std::fs::read("photo.jpg")?)?;      // EXIF orientation applied
    let embedding = model.encode(&photo)?;                           // once per photo
    let tap = SegmentPrompt { points: vec![PromptPoint::positive(812.0, 430.0),
                                          PromptPoint::negative(600.0, 300.0)],
                              r#box: None };
    let result = model.segment(&embedding, &tap, None)?;             // per tap
    // result.mask: width x height bytes, 255 inside; result.scores, result.mask_index,
    // result.mask.bounding_box(), result.mask.area()
    let cached: Vec<u8> = embedding.to_bytes();                      // keep it per photo
    // README example end
    println!(
        "{}x{} mask, candidate {}, {} pixels inside, {} embedding bytes",
        result.mask.width,
        result.mask.height,
        result.mask_index,
        result.mask.area(),
        cached.len()
    );
    Ok(())
}
