//! `edgesam info`: what a model file is.

use std::path::PathBuf;
use std::process::ExitCode;

use edgesam::contract::{official_file_name, to_hex};

/// Prints each file's interface and verdicts; fails when a file meets neither contract.
pub fn run(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut all_usable = true;
    for path in files {
        let report = edgesam::inspect_model(path)?;
        println!("{}", path.display());
        println!("  sha256: {}", to_hex(&report.sha256));
        if let Some(name) = official_file_name(&report.sha256) {
            println!("  official file: {name}");
        }
        match &report.interface {
            Some(interface) => {
                for (name, fact) in &interface.inputs {
                    println!("  input  {name}: {fact}");
                }
                for (name, fact) in &interface.outputs {
                    println!("  output {name}: {fact} (as declared)");
                }
            }
            None => println!("  not a readable ONNX model"),
        }
        for (role, check) in [
            ("encoder", &report.encoder_check),
            ("decoder", &report.decoder_check),
        ] {
            match check {
                Ok(()) => println!("  meets the EdgeSAM {role} contract"),
                Err(e) => println!("  not an EdgeSAM {role}: {e}"),
            }
        }
        all_usable &= report.encoder_check.is_ok() || report.decoder_check.is_ok();
    }
    Ok(if all_usable {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
