"""Flash attention in float64 torch, with explicit masks and a differentiable RoPE: the
independent reference of the flash gradient tests (docs/spec.md, tucker.flash)."""

import torch


def torch_rope(x, rope, positions):
    """x [B, H, N, D] rotated at positions [B, N] (float64, differentiable)."""
    theta, offset, width, repeat, style = rope
    half = width // 2
    freq = theta ** (-2.0 * torch.arange(half, dtype=torch.float64, device=x.device) / width)
    angle = positions.to(torch.float64)[:, None, :, None] * freq  # [B, 1, N, half]
    cos, sin = torch.cos(angle), torch.sin(angle)
    out = x.clone()
    for block in range(repeat):
        start = offset + block * width
        if style == "half":
            first = torch.arange(start, start + half)
            second = first + half
        else:
            first = torch.arange(start, start + width, 2)
            second = first + 1
        a, b = x[..., first], x[..., second]
        out[..., first] = a * cos - b * sin
        out[..., second] = b * cos + a * sin
    return out


def torch_flash(q, k, v, scale, causal, rope, lengths):
    """(o, lse) of tucker.flash (docs/spec.md) with explicit [B, Nq, Nk] masks, in the dtype and
    on the device of q."""
    B, Hq, Nq, D = q.shape
    Hkv, Nk = k.shape[1], k.shape[2]
    dev = q.device
    length = (torch.full((B,), Nk, device=dev) if lengths is None
              else torch.as_tensor(lengths, device=dev).clamp(0, Nk))
    query_pos = torch.arange(Nq, device=dev)[None, :] + length[:, None] - Nq  # [B, Nq]
    key = torch.arange(Nk, device=dev)
    mask = (key[None, None, :] < length[:, None, None]).expand(B, Nq, Nk)
    if causal:
        mask = mask & (key[None, None, :] <= query_pos[:, :, None])
    if rope is not None:
        q = torch_rope(q, rope, query_pos)
        k = torch_rope(k, rope, key[None, :].expand(B, Nk))
    k = k.repeat_interleave(Hq // Hkv, dim=1)
    v = v.repeat_interleave(Hq // Hkv, dim=1)
    seen = mask[:, None]  # [B, 1, Nq, Nk]
    scores = torch.where(seen, scale * (q @ k.transpose(-1, -2)), torch.tensor(float("-inf"), dtype=q.dtype, device=dev))
    lse = torch.logsumexp(scores, dim=-1)
    any_key = seen.any(-1, keepdim=True)
    shift = torch.where(any_key, scores.amax(-1, keepdim=True), torch.zeros((), device=dev))
    weights = torch.exp(scores - shift)
    total = weights.sum(-1, keepdim=True)
    weights = weights / torch.where(total == 0, torch.ones((), device=dev), total)
    # Keys a row does not see contribute nothing, whatever their values.
    seen_v = torch.where(seen[..., None], v[:, :, None], torch.zeros((), device=dev))
    return torch.einsum("bhmn,bhmnd->bhmd", weights, seen_v), lse
