"""AWD-LSTM: the language model and text classifier of ULMFiT (lesson 4, the IMDB part).

ULMFiT in three steps:
  1. a language model learns to predict the next word of Wikipedia (the pretrained weights);
  2. it is fine-tuned on the texts of the task (IMDB reviews): `get_language_model`, its
     embedding refitted to their vocab first (`match_embeds` in l4tui/train/transfer.py);
  3. its encoder becomes the body of a classifier, trained with discriminative learning rates and
     gradual unfreezing: `get_text_classifier`, `layer_groups`, `freeze_to`.

"AWD" is for ASGD Weight-Dropped LSTM (Merity et al., 2017). It is an ordinary stack of LSTMs
with dropout in five places, each one named as fastai names it:
  embed_p   EmbeddingDropout: drop whole words (rows of the embedding matrix)
  input_p   RNNDropout on the embeddings fed to the first LSTM
  weight_p  WeightDropout on each LSTM's hidden-to-hidden weights
  hidden_p  RNNDropout between the LSTMs
  output_p  RNNDropout before the decoder (language model) or in the head (classifier)
`drop_mult` scales all five at once.

Token ids follow fastai's vocab: 0 is xxunk (unknown word), 1 is xxpad (padding).
The attribute names match fastai's, so fastai's saved weights (the Wikipedia-pretrained language
model's included) load into these modules.
"""

import torch
import torch.nn.functional as F
from torch import nn

UNK_IDX, PAD_IDX = 0, 1  # xxunk, xxpad

# fastai's defaults (awd_lstm_lm_config and awd_lstm_clas_config), before drop_mult.
LM_DROPOUTS = dict(output_p=0.1, hidden_p=0.15, input_p=0.25, embed_p=0.02, weight_p=0.2)
CLAS_DROPOUTS = dict(output_p=0.4, hidden_p=0.3, input_p=0.4, embed_p=0.05, weight_p=0.5)


def dropout_mask(x, size, p):
    """A mask of 0s (probability p) and 1/(1-p)s, so the expected value is unchanged."""
    return x.new_empty(*size).bernoulli_(1 - p).div_(1 - p)


class RNNDropout(nn.Module):
    """Dropout with one mask for the whole sequence: the same units are dropped at every time step.

    (batch, seq_len, n) -> (batch, seq_len, n)
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return x * dropout_mask(x, (x.size(0), 1, *x.shape[2:]), self.p)

    def extra_repr(self):
        return f"p={self.p}"


class WeightDropout(nn.Module):
    """DropConnect on an LSTM's hidden-to-hidden weights: *weights* are dropped, anew each batch.

    The real weight lives here as `weight_hh_l0_raw`; before each forward pass the wrapped LSTM
    gets a dropped-out copy of it. Same inputs and outputs as the wrapped LSTM.
    """

    def __init__(self, module, weight_p, layer_names=("weight_hh_l0",)):
        super().__init__()
        self.module, self.weight_p, self.layer_names = module, weight_p, list(layer_names)
        for layer in self.layer_names:
            weight = getattr(self.module, layer)
            # The LSTM keeps a plain tensor under the old name, set anew before each forward.
            del self.module._parameters[layer]
            self.register_parameter(f"{layer}_raw", nn.Parameter(weight.data))
            setattr(self.module, layer, weight.data.clone())
        # The dropped weights are new tensors each time: cuDNN's flattened copy would be stale.
        self.module.flatten_parameters = lambda: None

    def _set_weights(self):
        for layer in self.layer_names:
            raw = getattr(self, f"{layer}_raw")
            # Always a new tensor computed from the raw weight (so gradients reach it), never the
            # Parameter itself, which the LSTM would take as a parameter of its own.
            if self.training and self.weight_p > 0:
                weight = F.dropout(raw, p=self.weight_p)
            else:
                weight = raw.clone()
            setattr(self.module, layer, weight)

    def forward(self, *args):
        self._set_weights()
        return self.module(*args)

    def reset(self):
        for layer in self.layer_names:
            setattr(self.module, layer, getattr(self, f"{layer}_raw").clone())

    def extra_repr(self):
        return f"weight_p={self.weight_p}"


class EmbeddingDropout(nn.Module):
    """Drops whole rows of the embedding matrix: a dropped word is dropped everywhere in the batch.

    (batch, seq_len) token ids -> (batch, seq_len, emb_sz)
    """

    def __init__(self, emb, embed_p):
        super().__init__()
        self.emb, self.embed_p = emb, embed_p

    def forward(self, words):
        weight = self.emb.weight
        if self.training and self.embed_p != 0:
            weight = weight * dropout_mask(weight, (weight.size(0), 1), self.embed_p)
        padding_idx = self.emb.padding_idx if self.emb.padding_idx is not None else -1
        return F.embedding(words, weight, padding_idx)

    def extra_repr(self):
        return f"embed_p={self.embed_p}"


class AWD_LSTM(nn.Module):
    """The encoder: an embedding, then `n_layers` LSTMs, emb_sz -> n_hid -> ... -> n_hid -> emb_sz.

    Input:  (batch, seq_len) token ids.
    Output: (batch, seq_len, emb_sz), the last LSTM's outputs.
    The hidden state is carried from one batch to the next (detached, so gradients stop at the
    batch boundary): consecutive batches continue the same texts. `reset()` starts afresh.
    """

    initrange = 0.1

    def __init__(self, vocab_sz, emb_sz=400, n_hid=1152, n_layers=3, pad_token=PAD_IDX,
                 hidden_p=0.2, input_p=0.6, embed_p=0.1, weight_p=0.5):
        super().__init__()
        self.emb_sz, self.n_hid, self.n_layers, self.pad_token = emb_sz, n_hid, n_layers, pad_token
        self.encoder = nn.Embedding(vocab_sz, emb_sz, padding_idx=pad_token)
        self.encoder_dp = EmbeddingDropout(self.encoder, embed_p)
        lstms = [nn.LSTM(self._n_in(layer), self._n_out(layer), 1, batch_first=True)
                 for layer in range(n_layers)]
        self.rnns = nn.ModuleList([WeightDropout(lstm, weight_p) for lstm in lstms])
        self.encoder.weight.data.uniform_(-self.initrange, self.initrange)
        self.input_dp = RNNDropout(input_p)
        self.hidden_dps = nn.ModuleList([RNNDropout(hidden_p) for _ in range(n_layers)])
        self.reset()

    def _n_in(self, layer):
        return self.emb_sz if layer == 0 else self.n_hid

    def _n_out(self, layer):
        return self.emb_sz if layer == self.n_layers - 1 else self.n_hid

    def forward(self, tokens):
        bs = tokens.size(0)
        if bs != self.bs:
            self._change_batch_size(bs)
        output = self.input_dp(self.encoder_dp(tokens))  # (bs, seq_len, emb_sz)
        new_hidden = []
        for layer, (rnn, hidden_dp) in enumerate(zip(self.rnns, self.hidden_dps)):
            output, hidden = rnn(output, self.hidden[layer])  # (bs, seq_len, n_out)
            new_hidden.append(hidden)
            if layer != self.n_layers - 1:
                output = hidden_dp(output)
        self.hidden = [(h.detach(), c.detach()) for h, c in new_hidden]
        return output

    def _zero_hidden(self, layer, bs):
        weight = self.encoder.weight
        zeros = weight.new_zeros(1, bs, self._n_out(layer))
        return (zeros, zeros.clone())

    def _change_batch_size(self, bs):
        """Keep the state of the first rows when the batch shrinks; new rows start from zeros."""
        hidden = []
        for layer, (h, c) in enumerate(self.hidden):
            if bs < self.bs:
                hidden.append((h[:, :bs], c[:, :bs]))
            else:
                extra_h, extra_c = self._zero_hidden(layer, bs - self.bs)
                hidden.append((torch.cat([h, extra_h], 1), torch.cat([c, extra_c], 1)))
        self.hidden, self.bs = hidden, bs

    def reset(self):
        """Forget the hidden state: the next batch starts new texts."""
        for rnn in self.rnns:
            rnn.reset()
        self.bs = 1
        self.hidden = [self._zero_hidden(layer, 1) for layer in range(self.n_layers)]


class LinearDecoder(nn.Module):
    """From the encoder's outputs to a score for every word of the vocab.

    Input:  (batch, seq_len, emb_sz).
    Output: (batch, seq_len, vocab_sz) scores of the next word at each position.
    With `tie_encoder`, the decoder's weight *is* the embedding matrix (weight tying): the word
    vectors are used both to read words and to predict them.
    """

    initrange = 0.1

    def __init__(self, n_out, n_hid, output_p=0.1, tie_encoder=None, bias=True):
        super().__init__()
        self.decoder = nn.Linear(n_hid, n_out, bias=bias)
        self.decoder.weight.data.uniform_(-self.initrange, self.initrange)
        self.output_dp = RNNDropout(output_p)
        if bias:
            self.decoder.bias.data.zero_()
        if tie_encoder is not None:
            self.decoder.weight = tie_encoder.weight

    def forward(self, x):
        return self.decoder(self.output_dp(x))


class SequentialRNN(nn.Sequential):
    """A Sequential whose `reset()` resets every part that has a state."""

    def reset(self):
        for child in self.children():
            if hasattr(child, "reset"):
                child.reset()

    def freeze_to(self, n):
        """Train only the layer groups from `n` on: freeze_to(-1) trains the last group only."""
        freeze_to(self.layer_groups(), n)


class LanguageModel(SequentialRNN):
    """AWD_LSTM + LinearDecoder: (batch, seq_len) ids -> (batch, seq_len, vocab_sz) scores."""

    def layer_groups(self):
        # fastai's awd_lstm_lm_split: each LSTM (with its dropout), then the embedding *with* the
        # decoder, because they share one weight matrix.
        encoder, decoder = self[0], self[1]
        groups = [[rnn, dp] for rnn, dp in zip(encoder.rnns, encoder.hidden_dps)]
        return groups + [[encoder.encoder, encoder.encoder_dp, decoder]]


def get_language_model(vocab_sz, emb_sz=400, n_hid=1152, n_layers=3, drop_mult=1.0,
                       pad_token=PAD_IDX, tie_weights=True, out_bias=True):
    """The ULMFiT language model with fastai's LM dropouts scaled by `drop_mult`."""
    p = {name: value * drop_mult for name, value in LM_DROPOUTS.items()}
    encoder = AWD_LSTM(vocab_sz, emb_sz, n_hid, n_layers, pad_token, p["hidden_p"], p["input_p"],
                       p["embed_p"], p["weight_p"])
    decoder = LinearDecoder(vocab_sz, emb_sz, p["output_p"],
                            tie_encoder=encoder.encoder if tie_weights else None, bias=out_bias)
    return LanguageModel(encoder, decoder)


class SentenceEncoder(nn.Module):
    """Runs the AWD_LSTM over whole documents, `bptt` tokens at a time.

    Input:  (batch, seq_len) ids, each document padded at the end with xxpad.
    Output: outputs (batch, kept_len, emb_sz) and mask (batch, kept_len), True where there is no
            token to pool: padding, or a token older than each document's last `max_len`.
    Only the chunks that hold some document's last `max_len` tokens are kept (fastai keeps the
    last max_len tokens too), so memory stays bounded on long reviews.
    """

    def __init__(self, bptt, module, pad_idx=PAD_IDX, max_len=None):
        super().__init__()
        self.bptt, self.module, self.pad_idx, self.max_len = bptt, module, pad_idx, max_len

    def reset(self):
        self.module.reset()

    def forward(self, tokens):
        bs, seq_len = tokens.shape
        self.reset()  # every batch is new documents
        lengths = (tokens != self.pad_idx).sum(1)  # (bs,)
        keep_from = torch.zeros_like(lengths)  # each document's first position to pool
        if self.max_len:
            keep_from = (lengths - self.max_len).clamp(min=0)
        outputs, masks = [], []
        for start in range(0, seq_len, self.bptt):
            chunk = tokens[:, start:start + self.bptt]
            output = self.module(chunk)  # (bs, chunk_len, emb_sz)
            if start + chunk.size(1) > int(keep_from.min()):  # someone's kept tokens are in here
                positions = torch.arange(start, start + chunk.size(1), device=tokens.device)
                outputs.append(output)
                padding = positions[None] >= lengths[:, None]
                too_old = positions[None] < keep_from[:, None]
                masks.append(padding | too_old)
        return torch.cat(outputs, 1), torch.cat(masks, 1)


def masked_concat_pool(output, mask):
    """[last, max, mean] of each document's outputs, ignoring masked positions.

    (batch, seq_len, n), (batch, seq_len) -> (batch, 3 * n)
    """
    kept = ~mask
    lengths = kept.sum(1, keepdim=True)  # (bs, 1)
    last_index = kept.size(1) - 1 - kept.flip(1).int().argmax(1)  # the last unmasked position
    last = output[torch.arange(output.size(0)), last_index]
    max_pool = output.masked_fill(mask[:, :, None], -float("inf")).max(1)[0]
    avg_pool = output.masked_fill(mask[:, :, None], 0).sum(1) / lengths
    return torch.cat([last, max_pool, avg_pool], 1)


class PoolingLinearClassifier(nn.Module):
    """The head: concat pooling, then blocks of BatchNorm, Dropout, Linear (and ReLU between).

    Input:  (outputs, mask) from SentenceEncoder.  Output: (batch, n_classes) scores.
    dims=[1200, 50, 2] gives two blocks: BatchNorm(1200), Dropout, Linear(1200, 50), ReLU, then
    BatchNorm(50), Dropout, Linear(50, 2). The Linears have no bias: the BatchNorms have one.
    (fastai's LinBnDrop blocks with lin_first=False, so fastai's weights load here too.)
    """

    def __init__(self, dims, ps):
        super().__init__()
        if len(ps) != len(dims) - 1:
            raise ValueError("need one dropout probability per linear layer")
        blocks = []
        for i, (n_in, n_out, p) in enumerate(zip(dims[:-1], dims[1:], ps)):
            block = [nn.BatchNorm1d(n_in), nn.Dropout(p), nn.Linear(n_in, n_out, bias=False)]
            if i < len(ps) - 1:
                block.append(nn.ReLU(inplace=True))
            blocks.append(nn.Sequential(*block))
        self.layers = nn.Sequential(*blocks)

    def forward(self, encoded):
        output, mask = encoded
        return self.layers(masked_concat_pool(output, mask))


class TextClassifier(SequentialRNN):
    """SentenceEncoder + PoolingLinearClassifier: (batch, seq_len) ids -> (batch, n_classes)."""

    def layer_groups(self):
        # fastai's awd_lstm_clas_split: the embedding, each LSTM, the head.
        encoder = self[0].module
        groups = [[encoder.encoder, encoder.encoder_dp]]
        groups += [[rnn, dp] for rnn, dp in zip(encoder.rnns, encoder.hidden_dps)]
        return groups + [[self[1]]]


def get_text_classifier(vocab_sz, n_class, bptt=72, max_len=72 * 20, emb_sz=400, n_hid=1152,
                        n_layers=3, drop_mult=1.0, lin_ftrs=(50,), ps=(0.1,), pad_token=PAD_IDX):
    """The ULMFiT classifier with fastai's classifier dropouts scaled by `drop_mult`."""
    p = {name: value * drop_mult for name, value in CLAS_DROPOUTS.items()}
    encoder = AWD_LSTM(vocab_sz, emb_sz, n_hid, n_layers, pad_token, p["hidden_p"], p["input_p"],
                       p["embed_p"], p["weight_p"])
    dims = [emb_sz * 3, *lin_ftrs, n_class]  # 3 * emb_sz: last, max and mean pooled
    head = PoolingLinearClassifier(dims, [p["output_p"], *ps])
    return TextClassifier(SentenceEncoder(bptt, encoder, pad_token, max_len), head)


def freeze_to(groups, n):
    """Freeze the layer groups before `n`, train those from `n` on (as in fastai, n may be < 0).

    freeze_to(groups, -1): only the last group trains (the head, in the classifier).
    freeze_to(groups, -2): the last two, and so on; freeze_to(groups, 0) trains everything.
    """
    first_trainable = len(groups) + n if n < 0 else n
    for index, group in enumerate(groups):
        trainable = index >= first_trainable
        for module in group:
            for param in module.parameters():
                param.requires_grad_(trainable)
