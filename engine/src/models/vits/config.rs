//! The sizes of a VITS model. Piper's `.onnx.json` does not carry them, so they are read off the weights'
//! shapes (and, for what shapes cannot tell, off the graph's attributes): a voice of any quality (x_low, low,
//! medium, high) loads without a table of presets.

use crate::{Error, Result};

/// The spline's range in the stochastic duration predictor: outside `[-5, 5]` it is the identity.
pub const SPLINE_TAIL_BOUND: f32 = 5.0;
/// The smallest bin width, height and derivative the spline allows.
pub const SPLINE_MIN: f32 = 1e-3;

/// HiFi-GAN's two residual block designs: "1" (two convolutions per dilation, Piper's high quality and MMS)
/// and "2" (one per dilation, Piper's x_low to medium).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResBlockKind {
    One,
    Two,
}

/// One transposed convolution of the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upsample {
    pub c_in: usize,
    pub c_out: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

/// Every size the model's layers need.
#[derive(Debug, Clone, PartialEq)]
pub struct VitsConfig {
    /// Phoneme (or character) vocabulary.
    pub vocab: usize,
    /// Text encoder width.
    pub hidden: usize,
    /// Text encoder feed-forward width and kernel.
    pub filter: usize,
    pub ffn_kernel: usize,
    pub heads: usize,
    pub layers: usize,
    /// Relative attention reaches `window` positions either way.
    pub window: usize,
    /// Latent channels (the prior's mean and log-std each have this many).
    pub latent: usize,
    /// Duration predictor width, kernel and DDSConv depth.
    pub dp_filter: usize,
    pub dp_kernel: usize,
    pub dp_layers: usize,
    /// The duration predictor's spline flows used at inference, in the order they run.
    pub dp_flows: Vec<usize>,
    pub spline_bins: usize,
    /// The flow's coupling layers, in the order they run (reverse), and their WaveNet sizes.
    pub couplings: Vec<usize>,
    pub wn_hidden: usize,
    pub wn_layers: usize,
    pub wn_kernel: usize,
    pub wn_dilation_rate: usize,
    /// Decoder.
    pub upsample_initial: usize,
    pub upsample: Vec<Upsample>,
    pub resblock: ResBlockKind,
    pub resblock_kernels: Vec<usize>,
    /// Per kernel: the dilations of its convolutions.
    pub resblock_dilations: Vec<Vec<usize>>,
    pub post_bias: bool,
    pub sample_rate: u32,
}

fn missing(what: &str) -> Error {
    Error::Malformed(format!("this VITS model has no {what}"))
}

/// Shape of a weight by name, or `None` when the file lacks it.
pub type ShapeOf<'a> = &'a dyn Fn(&str) -> Option<Vec<usize>>;

fn dims(shape_of: ShapeOf, name: &str, rank: usize) -> Result<Vec<usize>> {
    let d = shape_of(name).ok_or_else(|| Error::MissingWeight(name.to_string()))?;
    if d.len() != rank {
        return Err(Error::Malformed(format!(
            "`{name}` has shape {d:?}, expected rank {rank}"
        )));
    }
    Ok(d)
}

fn count(shape_of: ShapeOf, name: impl Fn(usize) -> String) -> usize {
    (0..).take_while(|&i| shape_of(&name(i)).is_some()).count()
}

impl VitsConfig {
    /// Sizes from PyTorch-named weights (Piper's layout). `upsample` is each transposed convolution's
    /// (stride, padding); `dilation_of` a convolution's dilation by module path, when the file records it.
    pub fn from_weights(
        shape_of: ShapeOf,
        upsample: Vec<(usize, usize)>,
        dilation_of: &dyn Fn(&str) -> Option<usize>,
        sample_rate: u32,
    ) -> Result<Self> {
        let emb = dims(shape_of, "enc_p.emb.weight", 2)?;
        let (vocab, hidden) = (emb[0], emb[1]);
        let layers = count(shape_of, |i| {
            format!("enc_p.encoder.attn_layers.{i}.conv_q.weight")
        });
        if layers == 0 {
            return Err(missing("text encoder layers"));
        }
        let rel = dims(shape_of, "enc_p.encoder.attn_layers.0.emb_rel_k", 3)?;
        let (window, head_dim) = (rel[1] / 2, rel[2]);
        if head_dim == 0 || hidden % head_dim != 0 || rel[1] % 2 == 0 {
            return Err(Error::Malformed(format!(
                "relative attention table {rel:?} does not fit width {hidden}"
            )));
        }
        let ffn = dims(shape_of, "enc_p.encoder.ffn_layers.0.conv_1.weight", 3)?;
        let proj = dims(shape_of, "enc_p.proj.weight", 3)?;
        let dp_pre = dims(shape_of, "dp.pre.weight", 3)?;
        let dp_sep = dims(shape_of, "dp.convs.convs_sep.0.weight", 3)?;
        let dp_layers = count(shape_of, |i| format!("dp.convs.convs_sep.{i}.weight"));
        // VITS drops the first spline flow (flows.1) at inference; the others run last to first.
        let mut dp_flows: Vec<usize> = (3..32)
            .step_by(2)
            .filter(|i| shape_of(&format!("dp.flows.{i}.proj.weight")).is_some())
            .collect();
        dp_flows.reverse();
        let first_flow = dp_flows.first().ok_or_else(|| missing("duration flows"))?;
        let spline_proj = dims(shape_of, &format!("dp.flows.{first_flow}.proj.weight"), 3)?;
        let spline_bins = (spline_proj[0] + 1) / 3;
        let mut couplings: Vec<usize> = (0..64)
            .step_by(2)
            .filter(|i| shape_of(&format!("flow.flows.{i}.pre.weight")).is_some())
            .collect();
        couplings.reverse();
        let last = *couplings.first().ok_or_else(|| missing("flow"))?;
        let wn = format!("flow.flows.{last}.enc");
        let wn_in = dims(shape_of, &format!("{wn}.in_layers.0.weight"), 3)?;
        let wn_layers = count(shape_of, |i| format!("{wn}.in_layers.{i}.weight"));
        let wn_dilation_rate = if wn_layers > 1 {
            dilation_of(&format!("{wn}.in_layers.1")).unwrap_or(1)
        } else {
            1
        };
        let pre = dims(shape_of, "dec.conv_pre.weight", 3)?;
        let mut ups = Vec::new();
        for (i, (stride, padding)) in upsample.into_iter().enumerate() {
            let w = dims(shape_of, &format!("dec.ups.{i}.weight"), 3)?;
            ups.push(Upsample {
                c_in: w[0],
                c_out: w[1],
                kernel: w[2],
                stride,
                padding,
            });
        }
        if ups.is_empty() {
            return Err(missing("decoder upsampling"));
        }
        let kind = if shape_of("dec.resblocks.0.convs1.0.weight").is_some() {
            ResBlockKind::One
        } else {
            ResBlockKind::Two
        };
        let conv_name = |r: usize, j: usize| match kind {
            ResBlockKind::One => format!("dec.resblocks.{r}.convs1.{j}"),
            ResBlockKind::Two => format!("dec.resblocks.{r}.convs.{j}"),
        };
        let blocks = count(shape_of, |r| format!("{}.weight", conv_name(r, 0)));
        if blocks == 0 || blocks % ups.len() != 0 {
            return Err(missing("complete set of decoder residual blocks"));
        }
        let per_stage = blocks / ups.len();
        let mut resblock_kernels = Vec::new();
        let mut resblock_dilations = Vec::new();
        for r in 0..per_stage {
            let w = dims(shape_of, &format!("{}.weight", conv_name(r, 0)), 3)?;
            resblock_kernels.push(w[2]);
            let n = count(shape_of, |j| format!("{}.weight", conv_name(r, j)));
            resblock_dilations.push(
                (0..n)
                    .map(|j| dilation_of(&conv_name(r, j)).unwrap_or(1))
                    .collect(),
            );
        }
        Ok(VitsConfig {
            vocab,
            hidden,
            filter: ffn[0],
            ffn_kernel: ffn[2],
            heads: hidden / head_dim,
            layers,
            window,
            latent: proj[0] / 2,
            dp_filter: dp_pre[0],
            dp_kernel: dp_sep[2],
            dp_layers,
            dp_flows,
            spline_bins,
            couplings,
            wn_hidden: wn_in[0] / 2,
            wn_layers,
            wn_kernel: wn_in[2],
            wn_dilation_rate,
            upsample_initial: pre[0],
            upsample: ups,
            resblock: kind,
            resblock_kernels,
            resblock_dilations,
            post_bias: shape_of("dec.conv_post.bias").is_some(),
            sample_rate,
        })
    }

    /// Output samples per latent frame (the product of the upsampling strides: 256 for Piper voices).
    pub fn hop(&self) -> usize {
        self.upsample.iter().map(|u| u.stride).product()
    }
}
