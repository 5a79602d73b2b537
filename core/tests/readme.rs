//! The README's Rust example is `core/examples/readme.rs`: its text is the README's, and it runs
//! on the stand-in models.

mod common;

#[path = "../examples/readme.rs"]
mod readme;

use std::path::Path;

/// The example's lines between its markers, without the function body's indentation.
fn example_text(source: &str) -> String {
    let start = source
        .find("// README example start\n")
        .expect("start marker")
        + 24;
    let end = source
        .find("    // README example end")
        .expect("end marker");
    source[start..end]
        .lines()
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The README's first Rust code block.
fn readme_rust_block(readme: &str) -> &str {
    let start = readme
        .find("```rust\n")
        .expect("a Rust block in the README")
        + 8;
    let len = readme[start..].find("```").expect("the block's end");
    readme[start..start + len].trim_end()
}

#[test]
fn the_readme_shows_the_example_and_the_example_runs() {
    let root = common::repo_root();
    let source = std::fs::read_to_string(root.join("core/examples/readme.rs")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert_eq!(readme_rust_block(&readme), example_text(&source).trim_end());

    // The example's relative paths, filled with the tiny stand-ins and a 1000x600 JPEG (its taps
    // at 812,430 and 600,300 fall inside).
    let dir = std::env::temp_dir().join(format!("edgesam-readme-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("models")).unwrap();
    let (encoder, decoder) = common::standins("tiny");
    std::fs::copy(encoder, dir.join("models/edge_sam_3x_encoder.onnx")).unwrap();
    std::fs::copy(decoder, dir.join("models/edge_sam_3x_decoder.onnx")).unwrap();
    write_jpeg(&dir.join("photo.jpg"), 1000, 600);
    // This binary's only test, so changing the working directory disturbs no other.
    std::env::set_current_dir(&dir).unwrap();
    let ran = readme::main();
    std::env::set_current_dir(&root).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    ran.unwrap();
}

fn write_jpeg(path: &Path, width: u32, height: u32) {
    let rgb =
        image::RgbImage::from_raw(width, height, common::synthetic_rgb(width, height)).unwrap();
    rgb.save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}
