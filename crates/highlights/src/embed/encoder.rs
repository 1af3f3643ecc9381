//! The BERT encoder forward pass, written for sentence embeddings on a small CPU.
//!
//! Sentences are packed row after row with no padding: only attention mixes tokens, so
//! every dense layer runs on exactly the real tokens and attention runs per sentence. The
//! large matrix products go to candle (gemm, multithreaded); the cheap per-element work
//! (bias, GELU, layer norm, softmax) is done here in plain loops. This keeps two cores
//! busy with useful work instead of waking candle's element-wise thread pool hundreds of
//! times per batch, and gives the same numbers as the padded reference: padding there
//! receives zero attention weight and is left out of the mean.

use candle_core::{CpuStorage, Device, InplaceOp1, Layout, Storage, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config;

/// A dense layer `x Wᵀ + b`; candle computes the product, the bias is added while the
/// result is read.
struct Dense {
    /// `(in, out)`, laid out contiguously for the product.
    weight: Tensor,
    bias: Vec<f32>,
}

impl Dense {
    fn load(vb: &VarBuilder, inputs: usize, outputs: usize) -> candle_core::Result<Self> {
        Self::from_parts(
            vb.get((outputs, inputs), "weight")?,
            vb.get(outputs, "bias")?,
        )
    }

    fn from_parts(weight: Tensor, bias: Tensor) -> candle_core::Result<Self> {
        Ok(Self {
            weight: weight.t()?.contiguous()?,
            bias: bias.to_vec1()?,
        })
    }

    /// `x Wᵀ`, bias not yet added.
    fn product(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weight)
    }
}

/// A `rows`-row matrix as a tensor, taking over the buffer.
fn matrix(data: Vec<f32>, rows: usize) -> candle_core::Result<Tensor> {
    let cols = data.len() / rows.max(1);
    Tensor::from_vec(data, (rows, cols), &Device::Cpu)
}

/// The data of a contiguous CPU tensor, as held by `storage_and_layout`.
fn values<'a>(storage: &'a Storage, layout: &Layout) -> candle_core::Result<&'a [f32]> {
    let Storage::Cpu(cpu) = storage else {
        candle_core::bail!("the sentence encoder runs on the CPU only");
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("the sentence encoder needs contiguous products");
    };
    Ok(&cpu.as_slice::<f32>()?[start..end])
}

/// `norm(x Wᵀ + b + residual)` where `product` is `x Wᵀ`: the closing step of both halves
/// of a transformer block.
fn close(
    product: &Tensor,
    bias: &[f32],
    residual: &[f32],
    norm: &Norm,
) -> candle_core::Result<Vec<f32>> {
    let (storage, layout) = product.storage_and_layout();
    let y = values(&storage, layout)?;
    let mut out: Vec<f32> = y.iter().zip(residual).map(|(y, r)| y + r).collect();
    for row in out.chunks_exact_mut(bias.len()) {
        add(row, bias);
    }
    norm.apply(&mut out);
    Ok(out)
}

/// Adds the bias and applies GELU in place, so the feed-forward inner layer (the largest
/// tensor) is never copied.
struct BiasGelu<'a>(&'a [f32]);

impl InplaceOp1 for BiasGelu<'_> {
    fn name(&self) -> &'static str {
        "bias-gelu"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let (CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("bias-gelu needs a contiguous f32 tensor");
        };
        for row in data[start..end].chunks_exact_mut(self.0.len()) {
            for (v, b) in row.iter_mut().zip(self.0) {
                *v = gelu(*v + b);
            }
        }
        Ok(())
    }
}

/// Layer normalisation over the last dimension.
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

impl Norm {
    fn load(vb: &VarBuilder, size: usize, eps: f32) -> candle_core::Result<Self> {
        Ok(Self {
            gamma: vb.get(size, "weight")?.to_vec1()?,
            beta: vb.get(size, "bias")?.to_vec1()?,
            eps,
        })
    }

    fn apply(&self, x: &mut [f32]) {
        let n = self.gamma.len() as f32;
        for row in x.chunks_exact_mut(self.gamma.len()) {
            let mean = lane_sum(row, |v| v) / n;
            let var = lane_sum(row, |v| (v - mean) * (v - mean)) / n;
            let inv = 1.0 / (var + self.eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

/// One transformer block: self-attention, then the feed-forward part, each followed by a
/// residual connection and layer normalisation.
struct Layer {
    /// Query, key and value projections stacked into one product.
    qkv: Dense,
    attention_out: Dense,
    attention_norm: Norm,
    up: Dense,
    down: Dense,
    output_norm: Norm,
}

impl Layer {
    fn load(vb: &VarBuilder, config: &Config) -> candle_core::Result<Self> {
        let (h, eps) = (config.hidden_size, config.layer_norm_eps as f32);
        let att = vb.pp("attention");
        let projection = att.pp("self");
        let weight = |name: &str| projection.pp(name).get((h, h), "weight");
        let bias = |name: &str| projection.pp(name).get(h, "bias");
        let qkv = Dense::from_parts(
            Tensor::cat(&[weight("query")?, weight("key")?, weight("value")?], 0)?,
            Tensor::cat(&[bias("query")?, bias("key")?, bias("value")?], 0)?,
        )?;
        Ok(Self {
            qkv,
            attention_out: Dense::load(&att.pp("output").pp("dense"), h, h)?,
            attention_norm: Norm::load(&att.pp("output").pp("LayerNorm"), h, eps)?,
            up: Dense::load(
                &vb.pp("intermediate").pp("dense"),
                h,
                config.intermediate_size,
            )?,
            down: Dense::load(&vb.pp("output").pp("dense"), config.intermediate_size, h)?,
            output_norm: Norm::load(&vb.pp("output").pp("LayerNorm"), h, eps)?,
        })
    }

    fn forward(&self, x: Vec<f32>, lens: &[usize], heads: usize) -> candle_core::Result<Vec<f32>> {
        let rows: usize = lens.iter().sum();
        let x = matrix(x, rows)?;
        let context = {
            let qkv = self.qkv.product(&x)?;
            let (storage, layout) = qkv.storage_and_layout();
            attention(values(&storage, layout)?, &self.qkv.bias, lens, heads)
        };
        let attended = {
            let product = self.attention_out.product(&matrix(context, rows)?)?;
            let (storage, layout) = x.storage_and_layout();
            let x = values(&storage, layout)?;
            close(&product, &self.attention_out.bias, x, &self.attention_norm)?
        };
        let inner = self
            .up
            .product(&Tensor::from_slice(&attended, x.dims(), &Device::Cpu)?)?;
        inner.inplace_op1(&BiasGelu(&self.up.bias))?;
        let product = self.down.product(&inner)?;
        close(&product, &self.down.bias, &attended, &self.output_norm)
    }
}

/// A BERT encoder: token ids in, one hidden vector per token out.
pub(crate) struct Encoder {
    hidden: usize,
    heads: usize,
    /// Rows of the word, position and (first) token-type embedding tables.
    words: Vec<f32>,
    positions: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

impl Encoder {
    /// Reads the weights of a BERT checkpoint (with or without a `bert.` prefix).
    pub(crate) fn load(vb: VarBuilder, config: &Config) -> candle_core::Result<Self> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let h = config.hidden_size;
        if config.num_attention_heads == 0 || !h.is_multiple_of(config.num_attention_heads) {
            candle_core::bail!(
                "hidden_size {h} is not a multiple of num_attention_heads {}",
                config.num_attention_heads
            );
        }
        let emb = vb.pp("embeddings");
        let table = |name: &str, rows: usize| -> candle_core::Result<Vec<f32>> {
            emb.pp(name)
                .get((rows, h), "weight")?
                .flatten_all()?
                .to_vec1()
        };
        // Single sentences are all of token type 0.
        let mut token_type = table("token_type_embeddings", config.type_vocab_size)?;
        if token_type.len() < h {
            candle_core::bail!("the model has no token-type embedding");
        }
        token_type.truncate(h);
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(&vb.pp(format!("encoder.layer.{i}")), config))
            .collect::<candle_core::Result<_>>()?;
        Ok(Self {
            hidden: h,
            heads: config.num_attention_heads,
            words: table("word_embeddings", config.vocab_size)?,
            positions: table("position_embeddings", config.max_position_embeddings)?,
            token_type,
            embedding_norm: Norm::load(&emb.pp("LayerNorm"), h, config.layer_norm_eps as f32)?,
            layers,
        })
    }

    /// Mean of the last hidden states of each sentence, L2-normalised. Every id must be
    /// below the vocabulary size and no sentence longer than the position table.
    pub(crate) fn embed(&self, sentences: &[&[u32]]) -> candle_core::Result<Vec<Vec<f32>>> {
        let h = self.hidden;
        let lens: Vec<usize> = sentences.iter().map(|s| s.len()).collect();
        let rows: usize = lens.iter().sum();
        let mut x = Vec::with_capacity(rows * h);
        for ids in sentences {
            for (position, &id) in ids.iter().enumerate() {
                let word = self.words.get(id as usize * h..(id as usize + 1) * h);
                let place = self.positions.get(position * h..(position + 1) * h);
                let (Some(word), Some(place)) = (word, place) else {
                    candle_core::bail!("token {id} at position {position} is outside the model");
                };
                x.extend(
                    word.iter()
                        .zip(place)
                        .zip(&self.token_type)
                        .map(|((w, p), t)| w + p + t),
                );
            }
        }
        self.embedding_norm.apply(&mut x);
        for layer in &self.layers {
            x = layer.forward(x, &lens, self.heads)?;
        }

        let mut out = Vec::with_capacity(sentences.len());
        let mut start = 0;
        for &len in &lens {
            let mut mean = vec![0f32; h];
            for row in x[start * h..(start + len) * h].chunks_exact(h) {
                add(&mut mean, row);
            }
            let count = len.max(1) as f32;
            mean.iter_mut().for_each(|v| *v /= count);
            let norm = dot(&mean, &mean).sqrt().max(1e-12);
            mean.iter_mut().for_each(|v| *v /= norm);
            out.push(mean);
            start += len;
        }
        Ok(out)
    }
}

/// Multi-head self-attention of each sentence over itself. `qkv` holds, per token, the
/// queries, keys and values of all heads side by side, still without `bias`; the result
/// is the per-token context with the heads side by side.
fn attention(qkv: &[f32], bias: &[f32], lens: &[usize], heads: usize) -> Vec<f32> {
    let width = bias.len();
    let h = width / 3;
    let d = h / heads;
    let scale = 1.0 / (d as f32).sqrt();
    let mut context = vec![0f32; qkv.len() / 3];
    let mut scores = Vec::new();
    let mut start = 0;
    for &len in lens {
        // This sentence's rows with the bias added: queries pre-scaled, keys, values.
        let mut own: Vec<f32> = qkv[start * width..(start + len) * width].to_vec();
        for row in own.chunks_exact_mut(width) {
            add(row, bias);
            row[..h].iter_mut().for_each(|q| *q *= scale);
        }
        let token = |i: usize| &own[i * width..(i + 1) * width];
        for head in 0..heads {
            let (q_at, k_at, v_at) = (head * d, h + head * d, 2 * h + head * d);
            for i in 0..len {
                let q = &token(i)[q_at..q_at + d];
                scores.clear();
                scores.extend((0..len).map(|j| dot(q, &token(j)[k_at..k_at + d])));
                softmax(&mut scores);
                let out = &mut context[(start + i) * h + head * d..][..d];
                for (j, &p) in scores.iter().enumerate() {
                    for (o, v) in out.iter_mut().zip(&token(j)[v_at..v_at + d]) {
                        *o += p * v;
                    }
                }
            }
        }
        start += len;
    }
    context
}

/// Dot product with eight running sums, which the compiler can keep in vector registers
/// (a single running sum would make every addition wait for the one before).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// Sum of `f` over `xs`, with eight running sums as in [`dot`].
#[inline]
fn lane_sum(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut sums = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for chunk in chunks {
        for lane in 0..8 {
            sums[lane] += f(chunk[lane]);
        }
    }
    sums.iter().sum::<f32>() + tail
}

fn softmax(xs: &mut [f32]) {
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in xs.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    xs.iter_mut().for_each(|x| *x /= sum);
}

fn add(into: &mut [f32], other: &[f32]) {
    for (a, b) in into.iter_mut().zip(other) {
        *a += b;
    }
}

/// GELU with the exact error function, as the model was trained
/// (`x/2 · (1 + erf(x/√2))`).
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// The error function to within 3e-7 (Abramowitz and Stegun, formula 7.1.28): only
/// multiplications, additions and one division, so loops over it vectorise.
fn erf(x: f32) -> f32 {
    const A: [f32; 6] = [
        0.070_523_08,
        0.042_282_01,
        0.009_270_527,
        0.000_152_014_3,
        0.000_276_567_2,
        0.000_043_063_8,
    ];
    let t = x.abs();
    let poly = 1.0 + t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * (A[4] + t * A[5])))));
    let p2 = poly * poly;
    let p4 = p2 * p2;
    let p8 = p4 * p4;
    let p16 = p8 * p8;
    (1.0 - 1.0 / p16).copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        // erf at a few points, from tables.
        let known = [
            (0.0, 0.0),
            (0.1, 0.112_462_92),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (2.0, 0.995_322_3),
            (3.5, 0.999_999_3),
            (10.0, 1.0),
            (1e30, 1.0),
        ];
        for (x, want) in known {
            assert!((erf(x) - want).abs() < 5e-7, "erf({x}) = {}", erf(x));
            assert!((erf(-x) + want).abs() < 5e-7, "erf(-{x}) = {}", erf(-x));
        }
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((gelu(-3.0) + 0.004_049_6).abs() < 1e-6);
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut xs = [1.0, 3.0, 2.0, -1e30];
        softmax(&mut xs);
        assert!((xs.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(xs[1] > xs[2] && xs[2] > xs[0] && xs[3] == 0.0);
    }

    #[test]
    fn dot_covers_the_tail() {
        let a: Vec<f32> = (0..13).map(|i| i as f32).collect();
        assert_eq!(dot(&a, &a), (0..13).map(|i| (i * i) as f32).sum::<f32>());
    }

    #[test]
    fn layer_norm_centres_and_scales() {
        let norm = Norm {
            gamma: vec![1.0; 4],
            beta: vec![0.5; 4],
            eps: 1e-12,
        };
        let mut x = [1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0];
        norm.apply(&mut x);
        let first = &x[..4];
        assert!((first.iter().sum::<f32>() / 4.0 - 0.5).abs() < 1e-6);
        assert!((first[3] - (0.5 + 1.5 / 1.25f32.sqrt())).abs() < 1e-5);
        assert_eq!(&x[4..], &[0.5; 4]);
    }
}
