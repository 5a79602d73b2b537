//! The library's graph rewrites, plain functions applied by the loaders of `encoder` and
//! `decoder`: each leaves the numbers as they were and the work smaller or faster.

pub(crate) mod decoder_split;
pub(crate) mod layer_norm;
pub(crate) mod pad;
pub(crate) mod repvit_fold;
pub(crate) mod residual_add;
pub(crate) mod softmax;
#[cfg(test)]
pub(crate) mod test_graphs;
