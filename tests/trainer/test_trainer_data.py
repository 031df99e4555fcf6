"""The packed loader: deterministic, world-size invariant, resumable."""
import pytest

# The `trainer` extra (torch, tokenizers, transformers) is needed; say so
# in the summary rather than failing collection.
for _mod in ("torch", "tokenizers", "transformers"):
    pytest.importorskip(_mod)

import numpy as np
import torch

from trainer.data import PackedLoader, TokenStream


def _loader(path, rank=0, world=1, micro=2, seed=42):
    return PackedLoader(str(path), seq_len=64, global_batch=8, micro_batch=micro,
                        dp_rank=rank, dp_size=world, seed=seed)


def _global_step(path, world, micro):
    """All rows of the next step over all ranks, in global order."""
    loaders = [_loader(path, r, world, micro) for r in range(world)]
    steps = [ld.next_step() for ld in loaders]
    rows = []
    for m in range(loaders[0].accum_steps):
        for r in range(world):
            rows.append(steps[r][m][0])
    return torch.cat(rows), loaders[0]


def test_windows_are_contiguous_token_spans(tokens_dir):
    ld = _loader(tokens_dir)
    stream = TokenStream(str(tokens_dir))
    (inp, lab), *_ = ld.next_step()
    assert inp.shape == (2, 64) and inp.dtype == torch.int64
    torch.testing.assert_close(inp[:, 1:], lab[:, :-1])
    j = int(ld._permutation(0)[0])
    np.testing.assert_array_equal(inp[0].numpy(), stream.slice(j * 64, 64))


def test_slice_crosses_shard_boundary(tokens_dir):
    stream = TokenStream(str(tokens_dir))
    b = int(stream.starts[1])
    got = stream.slice(b - 3, 6)
    want = np.concatenate([np.asarray(stream.shards[0].tokens[-3:]), np.asarray(stream.shards[1].tokens[:3])])
    np.testing.assert_array_equal(got, want)


def test_same_global_batch_for_any_world_size(tokens_dir):
    ref, _ = _global_step(tokens_dir, 1, 2)
    for world, micro in ((2, 2), (4, 1), (2, 4), (1, 8)):
        got, ld = _global_step(tokens_dir, world, micro)
        assert ld.accum_steps == 8 // (world * micro)
        torch.testing.assert_close(got, ref, rtol=0, atol=0)


def test_state_roundtrip_and_seed(tokens_dir):
    a = _loader(tokens_dir)
    a.next_step()
    sd = a.state_dict()
    nxt = a.next_step()
    b = _loader(tokens_dir)
    b.load_state_dict(sd)
    for (x, _), (y, _) in zip(nxt, b.next_step()):
        assert torch.equal(x, y)
    other = _loader(tokens_dir, seed=7)
    assert not torch.equal(other.next_step()[0][0], _loader(tokens_dir).next_step()[0][0])
    with pytest.raises(ValueError):
        other.load_state_dict(sd)


def test_epochs_reshuffle(tokens_dir):
    ld = _loader(tokens_dir)
    n = ld.num_samples
    assert sorted(ld._permutation(0)) == list(range(n))
    assert not np.array_equal(ld._permutation(0), ld._permutation(1))
    ld.state.consumed = n - 4  # the step straddles the epoch boundary
    ld.next_step()
    assert ld.state.consumed == n + 4


def test_bad_batch_split_is_refused(tokens_dir):
    with pytest.raises(ValueError, match="multiple"):
        PackedLoader(str(tokens_dir), 64, 8, 3, 0, 1, 0)
