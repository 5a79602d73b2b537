//! The matrix-product kernels tract runs on this machine, printed (run with `--nocapture` to see
//! them) and checked to be the ones written for the architecture this test was built for: NEON
//! (or SVE) on arm64, NEON on armv7, AVX/FMA/AVX-512 on x86-64. A build whose hand-written
//! kernels were not compiled in, or whose CPU detection failed, falls back to tract's portable
//! Rust kernels and still answers correctly, only slowly: this test is what notices.

use tract_linalg::isa::Arch;
use tract_linalg::mmm::{MmmDispatch, Query};
use tract_onnx::tract_core::prelude::DatumType;

/// The architecture of this build, as tract names it, and the name prefixes of its f32 kernels.
fn native() -> (Arch, &'static [&'static str]) {
    if cfg!(target_arch = "aarch64") {
        // NEON, or SVE on the CPUs that have it (qemu's default CPU does; iPhones do not).
        (Arch::Aarch64, &["arm64simd_", "sve_"])
    } else if cfg!(target_arch = "arm") {
        (Arch::Arm, &["armv7neon_"])
    } else if cfg!(target_arch = "x86_64") {
        (Arch::X86_64, &["fma_", "avx512_", "avx_"])
    } else {
        panic!("no kernel expectations for this architecture")
    }
}

/// Products of the sizes EdgeSAM's networks run: (what, m, k, n) of an f32 matrix product.
const PRODUCTS: [(&str, usize, usize, usize); 4] = [
    (
        "1x1 convolution 48->96 channels on 256x256",
        96,
        48,
        256 * 256,
    ),
    (
        "3x3 convolution (im2col) 192 channels on 64x64",
        192,
        9 * 192,
        64 * 64,
    ),
    ("decoder projection of 7 tokens", 256, 256, 7),
    ("matrix-vector product", 256, 256, 1),
];

#[test]
fn tract_runs_the_kernels_written_for_this_architecture() {
    let (arch, prefixes) = native();
    let dispatch = MmmDispatch::native();
    let runnable: Vec<&str> = dispatch.runnable().iter().map(|k| k.name()).collect();
    println!(
        "tract kernels on {arch:?} (CPU features {:?}), runnable: {}",
        tract_linalg::isa::native(),
        runnable.join(" ")
    );
    let is_native = |name: &str| prefixes.iter().any(|p| name.starts_with(p));
    assert!(
        runnable.iter().any(|name| is_native(name)),
        "none of {prefixes:?} among the runnable kernels"
    );
    for (what, m, k, n) in PRODUCTS {
        let query = Query::plain(DatumType::F32, Some(m), Some(k), Some(n));
        let (kernel, _, _) = dispatch.pick(&query).expect("an f32 kernel");
        println!(
            "tract kernel for {what} (m={m} k={k} n={n}): {}",
            kernel.name()
        );
        assert_eq!(kernel.arch(), Some(arch), "{what}: {}", kernel.name());
        assert!(is_native(kernel.name()), "{what}: {}", kernel.name());
    }
}
