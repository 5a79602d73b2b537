//! What the two EdgeSAM graphs must look like: their inputs, outputs, shapes and the constants
//! derived from them. The one place the rest of the crate takes these figures from; another model
//! family would be described by contracts of its own beside these.

use crate::error::ModelRole;

/// Side of the square the encoder sees.
pub const ENCODER_SIDE: usize = 1024;
/// Shape of the image embedding that links the two graphs.
pub const EMBEDDING_SHAPE: [usize; 4] = [1, 256, 64, 64];
/// Values in one embedding.
pub(crate) const EMBEDDING_VALUES: usize =
    EMBEDDING_SHAPE[0] * EMBEDDING_SHAPE[1] * EMBEDDING_SHAPE[2] * EMBEDDING_SHAPE[3];
/// Number of candidate masks the decoder returns.
pub const CANDIDATES: usize = 4;
/// Side of the decoder's low-resolution masks.
pub const LOW_RES_SIDE: usize = 256;

/// The decoder input carrying the image embedding.
pub(crate) const DECODER_IMAGE_INPUT: &str = "image_embeddings";

/// Width and height of a photo scaled so that its longest side fills the encoder's square:
/// `int(side * scale + 0.5)`.
///
/// Computed in f64 like the Python reference so that sides ending in .5 round the same way.
pub(crate) fn resized_size(width: u32, height: u32) -> (u32, u32) {
    let scale = ENCODER_SIDE as f64 / width.max(height) as f64;
    let round = |side: u32| (side as f64 * scale + 0.5) as u32;
    (round(width), round(height))
}

/// One dimension of a contract: a fixed size or the decoder's dynamic point count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Dim {
    Fixed(i64),
    Dynamic,
}

use Dim::{Dynamic, Fixed};

/// An input or output a graph must have: its name and f32 shape.
pub(crate) struct TensorContract {
    pub name: &'static str,
    pub shape: &'static [Dim],
}

impl std::fmt::Display for TensorContract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dims: Vec<String> = self
            .shape
            .iter()
            .map(|d| match d {
                Fixed(n) => n.to_string(),
                Dynamic => "N".into(),
            })
            .collect();
        write!(f, "`{}` f32 [{}]", self.name, dims.join(","))
    }
}

/// A graph's whole interface. Inputs are matched by name and shape, in any order; outputs by
/// shape alone (the ONNX reader names an output by the node producing it).
pub(crate) struct GraphContract {
    pub role: ModelRole,
    pub inputs: &'static [TensorContract],
    pub outputs: &'static [TensorContract],
}

impl std::fmt::Display for GraphContract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |c: &[TensorContract]| {
            c.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "inputs {} and outputs {}",
            list(self.inputs),
            list(self.outputs)
        )
    }
}

const EMBEDDING_DIMS: &[Dim] = &[
    Fixed(EMBEDDING_SHAPE[0] as i64),
    Fixed(EMBEDDING_SHAPE[1] as i64),
    Fixed(EMBEDDING_SHAPE[2] as i64),
    Fixed(EMBEDDING_SHAPE[3] as i64),
];

/// EdgeSAM's image encoder: a pre-processed photo in, its embedding out.
pub(crate) const ENCODER: GraphContract = GraphContract {
    role: ModelRole::Encoder,
    inputs: &[TensorContract {
        name: "image",
        shape: &[
            Fixed(1),
            Fixed(3),
            Fixed(ENCODER_SIDE as i64),
            Fixed(ENCODER_SIDE as i64),
        ],
    }],
    outputs: &[TensorContract {
        name: "image_embeddings",
        shape: EMBEDDING_DIMS,
    }],
};

/// SAM's prompt encoder and mask decoder as EdgeSAM exports them: the embedding and N labelled
/// points in, four candidates' scores and low-resolution logits out.
pub(crate) const DECODER: GraphContract = GraphContract {
    role: ModelRole::Decoder,
    inputs: &[
        TensorContract {
            name: DECODER_IMAGE_INPUT,
            shape: EMBEDDING_DIMS,
        },
        TensorContract {
            name: "point_coords",
            shape: &[Fixed(1), Dynamic, Fixed(2)],
        },
        TensorContract {
            name: "point_labels",
            shape: &[Fixed(1), Dynamic],
        },
    ],
    outputs: &[
        TensorContract {
            name: "scores",
            shape: &[Fixed(1), Fixed(CANDIDATES as i64)],
        },
        TensorContract {
            name: "masks",
            shape: &[
                Fixed(1),
                Fixed(CANDIDATES as i64),
                Fixed(LOW_RES_SIDE as i64),
                Fixed(LOW_RES_SIDE as i64),
            ],
        },
    ],
};

/// SHA-256 of the published files, so logs and `edgesam info` can say which one was loaded.
const OFFICIAL_FILES: [(&str, &str); 4] = [
    (
        "edge_sam_encoder.onnx",
        "c051e69a2a16ca8f5e09583ca18420ef0e75a67387dd90228ac9438f7f01357a",
    ),
    (
        "edge_sam_decoder.onnx",
        "e820af76837271db87478851603c6ce855906ca96baae2238217c2d5a38e0926",
    ),
    (
        "edge_sam_3x_encoder.onnx",
        "719a498cf5b3fe9be9f01ee513e13d3915f9028aa4f23dfd30eaaa0a17143159",
    ),
    (
        "edge_sam_3x_decoder.onnx",
        "83a2174d54571596913dcb7455d021e713623c3dca30a31c8c41ab98c9fb0863",
    ),
];

/// The name of the official file with this SHA-256, if it is one.
pub fn official_file_name(sha256: &[u8; 32]) -> Option<&'static str> {
    let hex = to_hex(sha256);
    OFFICIAL_FILES
        .iter()
        .find(|(_, hash)| *hash == hex)
        .map(|(name, _)| *name)
}

/// Lower-case hex of a hash, as `sha256sum` prints it.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resized_size_rounds_half_up_like_the_reference() {
        assert_eq!(resized_size(4000, 3000), (1024, 768));
        assert_eq!(resized_size(3000, 4000), (768, 1024));
        assert_eq!(resized_size(1024, 1024), (1024, 1024));
        // 17x9: scale 1024/17 = 60.235..., 9 * 60.235 = 542.1 -> 542
        assert_eq!(resized_size(17, 9), (1024, 542));
        // 640x427: 427 * 1.6 = 683.2 -> 683
        assert_eq!(resized_size(640, 427), (1024, 683));
        // 2048x1023: 1023 * 0.5 = 511.5 -> 512 (half rounds up)
        assert_eq!(resized_size(2048, 1023), (1024, 512));
        // 2048x1021: 510.5 -> 511
        assert_eq!(resized_size(2048, 1021), (1024, 511));
    }
}
