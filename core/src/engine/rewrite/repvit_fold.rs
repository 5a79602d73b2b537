//! Folds RepViT's training-time token mixer, `dw3x3(x) + dw1x1(x) + x`, into one depthwise 3x3
//! convolution, in the encoder's ONNX graph before tract reads it.
//!
//! The official export keeps the three branches apart (23 blocks), so every block pays for a
//! second depthwise convolution and two full-size additions. Convolution is linear, so the sum
//! is one 3x3 kernel: the 1x1 weight and the identity (1.0) added to the kernel's centre tap,
//! the two biases added. This is RepViT's own `fuse()`; the result differs from the unfused graph
//! only by float rounding. Anything that is not exactly that pattern is left as it is.

use std::collections::{HashMap, HashSet};

use prost::Message;
use tract_onnx::pb;

/// ONNX `TensorProto.DataType.FLOAT`.
const ONNX_FLOAT: i32 = 1;

/// The encoder bytes with every foldable token mixer folded, and how many were; `None` when the
/// graph has none (the caller then keeps the original bytes).
pub fn fold_token_mixers(onnx_bytes: &[u8]) -> anyhow::Result<Option<(Vec<u8>, usize)>> {
    let mut model = pb::ModelProto::decode(onnx_bytes)?;
    let Some(graph) = model.graph.as_mut() else {
        return Ok(None);
    };
    let folded = fold_graph(graph)?;
    if folded == 0 {
        return Ok(None);
    }
    Ok(Some((model.encode_to_vec(), folded)))
}

/// One match: the nodes to drop and the 3x3 conv that takes over, with its new kernel and bias.
struct Fold {
    conv3: usize,
    drop: [usize; 3],
    output: String,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

fn fold_graph(graph: &mut pb::GraphProto) -> anyhow::Result<usize> {
    let producer: HashMap<&str, usize> = graph
        .node
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.output.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let mut consumers: HashMap<&str, usize> = HashMap::new();
    for name in graph.node.iter().flat_map(|n| n.input.iter()) {
        *consumers.entry(name.as_str()).or_default() += 1;
    }
    for out in &graph.output {
        *consumers.entry(out.name.as_str()).or_default() += 1;
    }
    let initializer: HashMap<&str, &pb::TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let view = GraphView {
        graph,
        producer,
        consumers,
        initializer,
    };
    let folds: Vec<Fold> = (0..view.graph.node.len())
        .filter_map(|i| view.match_at(i).transpose())
        .collect::<anyhow::Result<_>>()?;
    apply(graph, &folds);
    Ok(folds.len())
}

struct GraphView<'a> {
    graph: &'a pb::GraphProto,
    producer: HashMap<&'a str, usize>,
    consumers: HashMap<&'a str, usize>,
    initializer: HashMap<&'a str, &'a pb::TensorProto>,
}

impl GraphView<'_> {
    /// The node producing `value` when it is an `op` whose output nothing else reads.
    fn sole_use_producer(&self, value: &str, op: &str) -> Option<usize> {
        let i = *self.producer.get(value)?;
        let node = &self.graph.node[i];
        (node.op_type == op && node.output.len() == 1 && self.consumers.get(value) == Some(&1))
            .then_some(i)
    }

    /// Matches `Add(Add(dw3x3(x), dw1x1(x)), x)` ending at node `add_outer`, in any operand order.
    fn match_at(&self, add_outer: usize) -> anyhow::Result<Option<Fold>> {
        let outer = &self.graph.node[add_outer];
        if outer.op_type != "Add" || outer.input.len() != 2 || outer.output.len() != 1 {
            return Ok(None);
        }
        for (sum, x) in [(0, 1), (1, 0)] {
            let Some(add_inner) = self.sole_use_producer(&outer.input[sum], "Add") else {
                continue;
            };
            let inner = &self.graph.node[add_inner];
            if inner.input.len() != 2 {
                continue;
            }
            let x = &outer.input[x];
            for (a, b) in [(0, 1), (1, 0)] {
                let (Some(conv3), Some(conv1)) = (
                    self.sole_use_producer(&inner.input[a], "Conv"),
                    self.sole_use_producer(&inner.input[b], "Conv"),
                ) else {
                    continue;
                };
                let (Some(k3), Some(k1)) = (
                    self.depthwise(conv3, x, 3, 1),
                    self.depthwise(conv1, x, 1, 0),
                ) else {
                    continue;
                };
                if k3.channels != k1.channels {
                    continue;
                }
                return Ok(Some(fold_kernels(
                    k3,
                    k1,
                    conv3,
                    [conv1, add_inner, add_outer],
                    &outer.output[0],
                )?));
            }
        }
        Ok(None)
    }

    /// The kernel of a stride-1, dilation-1 depthwise `side`x`side` Conv of `x` padded by `pad`
    /// on every side, with its weight (and bias, if any) stored as f32 initializers.
    fn depthwise(&self, node: usize, x: &str, side: i64, pad: i64) -> Option<Kernel<'_>> {
        let conv = &self.graph.node[node];
        if conv.input.first().map(String::as_str) != Some(x) || conv.input.len() < 2 {
            return None;
        }
        let weight = *self.initializer.get(conv.input[1].as_str())?;
        let channels = match weight.dims.as_slice() {
            &[c, 1, h, w] if h == side && w == side && weight.data_type == ONNX_FLOAT => c,
            _ => return None,
        };
        let ints = |name: &str| {
            conv.attribute
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.ints.clone())
        };
        let int = |name: &str| conv.attribute.iter().find(|a| a.name == name).map(|a| a.i);
        let all = |v: Option<Vec<i64>>, n: usize, want: i64, default_ok: bool| match v {
            None => default_ok,
            Some(v) => v.len() == n && v.iter().all(|&e| e == want),
        };
        let auto_pad_ok = conv
            .attribute
            .iter()
            .find(|a| a.name == "auto_pad")
            .is_none_or(|a| a.s.is_empty() || a.s == b"NOTSET");
        let geometry_ok = int("group") == Some(channels)
            && all(ints("kernel_shape"), 2, side, true)
            && all(ints("strides"), 2, 1, true)
            && all(ints("dilations"), 2, 1, true)
            && all(ints("pads"), 4, pad, pad == 0)
            && auto_pad_ok;
        let bias = match conv.input.get(2).filter(|b| !b.is_empty()) {
            None => None,
            Some(name) => {
                let b = *self.initializer.get(name.as_str())?;
                if b.dims != [channels] || b.data_type != ONNX_FLOAT {
                    return None;
                }
                Some(b)
            }
        };
        (geometry_ok && conv.input.len() <= 3).then_some(Kernel {
            channels: channels as usize,
            weight,
            bias,
        })
    }
}

struct Kernel<'a> {
    channels: usize,
    weight: &'a pb::TensorProto,
    bias: Option<&'a pb::TensorProto>,
}

fn floats(t: &pb::TensorProto) -> anyhow::Result<Vec<f32>> {
    if !t.raw_data.is_empty() {
        anyhow::ensure!(
            t.raw_data.len().is_multiple_of(4),
            "initializer {} is cut short",
            t.name
        );
        Ok(t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    } else {
        Ok(t.float_data.clone())
    }
}

/// The folded kernel: centre tap += 1x1 weight + 1 (the identity); bias = sum of both biases.
fn fold_kernels(
    k3: Kernel,
    k1: Kernel,
    conv3: usize,
    drop: [usize; 3],
    output: &str,
) -> anyhow::Result<Fold> {
    let c = k3.channels;
    let mut weight = floats(k3.weight)?;
    let w1 = floats(k1.weight)?;
    anyhow::ensure!(
        weight.len() == c * 9 && w1.len() == c,
        "depthwise weights of unexpected size"
    );
    let bias_of = |b: Option<&pb::TensorProto>| -> anyhow::Result<Vec<f32>> {
        let v = b.map(floats).transpose()?.unwrap_or_else(|| vec![0.0; c]);
        anyhow::ensure!(v.len() == c, "bias of unexpected size");
        Ok(v)
    };
    let bias: Vec<f32> = bias_of(k3.bias)?
        .iter()
        .zip(bias_of(k1.bias)?)
        .map(|(a, b)| a + b)
        .collect();
    for (ch, w) in w1.iter().enumerate() {
        weight[ch * 9 + 4] += w + 1.0;
    }
    Ok(Fold {
        conv3,
        drop,
        output: output.to_string(),
        weight,
        bias,
    })
}

fn f32_initializer(name: String, dims: Vec<i64>, values: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        name,
        dims,
        data_type: ONNX_FLOAT,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn apply(graph: &mut pb::GraphProto, folds: &[Fold]) {
    let mut dropped_values = HashSet::new();
    for (k, fold) in folds.iter().enumerate() {
        let c = fold.bias.len() as i64;
        let weight_name = format!("edgesam.folded_token_mixer.{k}.weight");
        let bias_name = format!("edgesam.folded_token_mixer.{k}.bias");
        graph.initializer.push(f32_initializer(
            weight_name.clone(),
            vec![c, 1, 3, 3],
            &fold.weight,
        ));
        graph
            .initializer
            .push(f32_initializer(bias_name.clone(), vec![c], &fold.bias));
        let conv = &mut graph.node[fold.conv3];
        dropped_values.insert(std::mem::replace(&mut conv.output[0], fold.output.clone()));
        conv.input.truncate(1);
        conv.input.extend([weight_name, bias_name]);
        for &d in &fold.drop[..2] {
            dropped_values.extend(graph.node[d].output.iter().cloned());
        }
    }
    let dropped_nodes: HashSet<usize> = folds.iter().flat_map(|f| f.drop).collect();
    let mut index = 0;
    graph.node.retain(|_| {
        index += 1;
        !dropped_nodes.contains(&(index - 1))
    });
    graph
        .value_info
        .retain(|v| !dropped_values.contains(&v.name));
    let used: HashSet<&str> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().map(String::as_str))
        .collect();
    let used: HashSet<String> = used.into_iter().map(str::to_string).collect();
    graph.initializer.retain(|t| used.contains(&t.name));
}

#[cfg(test)]
mod tests {
    use super::super::test_graphs::pseudo_random;
    use super::*;
    use tract_onnx::prelude::*;

    fn attr_ints(name: &str, ints: &[i64]) -> pb::AttributeProto {
        pb::AttributeProto {
            name: name.into(),
            r#type: 7, // INTS
            ints: ints.to_vec(),
            ..Default::default()
        }
    }

    fn attr_int(name: &str, i: i64) -> pb::AttributeProto {
        pb::AttributeProto {
            name: name.into(),
            r#type: 2, // INT
            i,
            ..Default::default()
        }
    }

    fn conv(x: &str, out: &str, w: &str, b: &str, side: i64, stride: i64, c: i64) -> pb::NodeProto {
        let pad = side / 2;
        pb::NodeProto {
            op_type: "Conv".into(),
            name: out.into(),
            input: vec![x.into(), w.into(), b.into()],
            output: vec![out.into()],
            attribute: vec![
                attr_int("group", c),
                attr_ints("kernel_shape", &[side, side]),
                attr_ints("pads", &[pad; 4]),
                attr_ints("strides", &[stride, stride]),
                attr_ints("dilations", &[1, 1]),
            ],
            ..Default::default()
        }
    }

    fn add(a: &str, b: &str, out: &str) -> pb::NodeProto {
        pb::NodeProto {
            op_type: "Add".into(),
            name: out.into(),
            input: vec![a.into(), b.into()],
            output: vec![out.into()],
            ..Default::default()
        }
    }

    fn value(name: &str, c: i64, side: i64) -> pb::ValueInfoProto {
        use pb::tensor_shape_proto::{dimension::Value, Dimension};
        let dims = [1, c, side, side].map(|d| Dimension {
            value: Some(Value::DimValue(d)),
            ..Default::default()
        });
        pb::ValueInfoProto {
            name: name.into(),
            r#type: Some(pb::TypeProto {
                value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                    elem_type: ONNX_FLOAT,
                    shape: Some(pb::TensorShapeProto { dim: dims.to_vec() }),
                })),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// x -> [token mixer] -> Relu -> [token mixer, operands swapped] -> y, 4 channels, 6x6; with
    /// `stride2` the first 3x3 conv has stride 2, which must not fold.
    fn two_mixer_model(stride2: bool) -> Vec<u8> {
        let c = 4;
        let mut init = vec![];
        for (k, seed) in [(0, 1), (1, 2)] {
            init.push(f32_initializer(
                format!("w3_{k}"),
                vec![c, 1, 3, 3],
                &pseudo_random(36, seed, -0.5, 0.5),
            ));
            init.push(f32_initializer(
                format!("b3_{k}"),
                vec![c],
                &pseudo_random(4, seed + 10, -0.5, 0.5),
            ));
            init.push(f32_initializer(
                format!("w1_{k}"),
                vec![c, 1, 1, 1],
                &pseudo_random(4, seed + 20, -0.5, 0.5),
            ));
            init.push(f32_initializer(
                format!("b1_{k}"),
                vec![c],
                &pseudo_random(4, seed + 30, -0.5, 0.5),
            ));
        }
        let s = if stride2 { 2 } else { 1 };
        let mut nodes = vec![
            conv("x", "c3_0", "w3_0", "b3_0", 3, s, c),
            conv("x", "c1_0", "w1_0", "b1_0", 1, s, c),
            add("c3_0", "c1_0", "s_0"),
            add("s_0", "x", "m_0"),
            pb::NodeProto {
                op_type: "Relu".into(),
                input: vec!["m_0".into()],
                output: vec!["r".into()],
                ..Default::default()
            },
            conv("r", "c1_1", "w1_1", "b1_1", 1, 1, c),
            conv("r", "c3_1", "w3_1", "b3_1", 3, 1, c),
            add("c1_1", "c3_1", "s_1"),
            add("r", "s_1", "y"),
        ];
        if stride2 {
            // Shapes only line up with stride 1; with stride 2 keep the graph valid by
            // pooling the identity branch the same way.
            nodes[3] = pb::NodeProto {
                op_type: "Add".into(),
                input: vec!["s_0".into(), "xs".into()],
                output: vec!["m_0".into()],
                ..Default::default()
            };
            nodes.insert(
                0,
                pb::NodeProto {
                    op_type: "MaxPool".into(),
                    input: vec!["x".into()],
                    output: vec!["xs".into()],
                    attribute: vec![
                        attr_ints("kernel_shape", &[1, 1]),
                        attr_ints("strides", &[2, 2]),
                    ],
                    ..Default::default()
                },
            );
        }
        let out_side = if stride2 { 3 } else { 6 };
        let model = pb::ModelProto {
            ir_version: 7,
            opset_import: vec![pb::OperatorSetIdProto {
                domain: String::new(),
                version: 11,
            }],
            graph: Some(pb::GraphProto {
                name: "mixers".into(),
                node: nodes,
                initializer: init,
                input: vec![value("x", c, 6)],
                output: vec![value("y", c, out_side)],
                ..Default::default()
            }),
            ..Default::default()
        };
        model.encode_to_vec()
    }

    fn run(bytes: &[u8]) -> Vec<f32> {
        let plan = tract_onnx::onnx()
            .model_for_read(&mut &*bytes)
            .and_then(|model| model.into_optimized())
            .and_then(|model| model.into_runnable())
            .unwrap();
        let x = Tensor::from_shape(&[1, 4, 6, 6], &pseudo_random(144, 99, -0.5, 0.5)).unwrap();
        let out = plan.run(tvec![x.into_tvalue()]).unwrap();
        out[0]
            .try_as_plain_ram()
            .and_then(|view| view.as_slice::<f32>().map(<[f32]>::to_vec))
            .unwrap()
    }

    #[test]
    fn folds_both_mixers_whatever_the_operand_order_and_keeps_the_output() {
        let original = two_mixer_model(false);
        let (folded, count) = fold_token_mixers(&original).unwrap().expect("a fold");
        assert_eq!(count, 2);
        let graph = pb::ModelProto::decode(folded.as_slice())
            .unwrap()
            .graph
            .unwrap();
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Conv", "Relu", "Conv"]);
        assert_eq!(graph.initializer.len(), 4, "the unfolded weights are gone");
        let (a, b) = (run(&original), run(&folded));
        assert_eq!(a.len(), 144);
        let worst = a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-5, "folded output differs by {worst}");
    }

    #[test]
    fn leaves_a_strided_mixer_alone() {
        let original = two_mixer_model(true);
        let (folded, count) = fold_token_mixers(&original).unwrap().expect("a fold");
        assert_eq!(count, 1, "only the stride-1 mixer folds");
        let graph = pb::ModelProto::decode(folded.as_slice())
            .unwrap()
            .graph
            .unwrap();
        assert_eq!(graph.node.iter().filter(|n| n.op_type == "Conv").count(), 3);
    }

    #[test]
    fn a_graph_without_the_pattern_is_not_rewritten() {
        let model = pb::ModelProto {
            graph: Some(pb::GraphProto {
                node: vec![add("x", "x", "y")],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(fold_token_mixers(&model.encode_to_vec()).unwrap().is_none());
    }
}
