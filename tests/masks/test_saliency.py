import torch

from theorylab.masks import saliency


def _mlp_loss(X, y):
    def loss(ws):
        h = torch.tanh(X @ ws[0].T)
        return torch.nn.functional.cross_entropy(h @ ws[1].T, y)

    return loss


def _problem():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(12, 5, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (12,), generator=gen)
    ws = [
        torch.randn(4, 5, generator=gen, dtype=torch.float64),
        torch.randn(3, 4, generator=gen, dtype=torch.float64),
    ]
    return _mlp_loss(X, y), ws


def test_snip_equals_weight_times_autograd_gradient():
    loss, ws = _problem()
    params = [w.clone().requires_grad_(True) for w in ws]
    grads = torch.autograd.grad(loss(params), params)
    for s, w, g in zip(saliency.snip(loss, ws), ws, grads, strict=True):
        torch.testing.assert_close(s, (w * g).abs(), rtol=1e-12, atol=1e-14)


def test_grasp_hessian_gradient_product_matches_a_dense_hessian():
    loss, ws = _problem()
    flat = torch.cat([w.reshape(-1) for w in ws])
    sizes = [w.numel() for w in ws]

    def flat_loss(v):
        parts = torch.split(v, sizes)
        return loss([p.reshape(w.shape) for p, w in zip(parts, ws, strict=True)])

    H = torch.autograd.functional.hessian(flat_loss, flat)
    g = torch.autograd.functional.jacobian(flat_loss, flat)
    expected = flat * (H @ g)
    got = torch.cat([s.reshape(-1) for s in saliency.grasp(loss, ws)])
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_saliencies_batch_over_seeds_with_vmap():
    loss, ws = _problem()
    stacked = [torch.stack([w, 2 * w]) for w in ws]
    batched = torch.func.vmap(lambda a, b: saliency.snip(loss, [a, b]))(*stacked)
    second = saliency.snip(loss, [2 * w for w in ws])
    for b, s in zip(batched, second, strict=True):
        torch.testing.assert_close(b[1], s, rtol=1e-12, atol=1e-14)
