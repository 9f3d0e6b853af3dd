"""TopoRAG scorer (edgeplace.models.toporag): shapes, masking, permutation invariance, pi, gradients."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from edgeplace.models.toporag import (
    ContextEncoder,
    ContextInputs,
    TopoRagArgs,
    TopoRagScorer,
    TraceInputs,
    TraceScorer,
    fusion_weights,
)

# B queries, J traces, S slots, G edges, OPT options, L links, C classes, M microservices per class.
B, J, S, G, OPT, L, C, M = 4, 8, 54, 80, 17, 40, 3, 6
ARGS = TopoRagArgs()


def prefix(counts: torch.Tensor, size: int) -> torch.Tensor:
    """Valid-prefix masks. Shapes: counts (*) -> (*, size) bool."""
    return torch.arange(size) < counts.unsqueeze(-1)


def make_context(gen: torch.Generator, batch: int = B) -> ContextInputs:
    """Random regions: a valid prefix of options and links (padding links at (0, 0)), DAGs whose parents are
    lower-numbered valid microservices."""
    node_valid = prefix(torch.randint(2, OPT + 1, (batch,), generator=gen), OPT)
    link_valid = prefix(torch.randint(1, L + 1, (batch,), generator=gen), L)
    real = node_valid.sum(-1, keepdim=True)  # (B, 1)
    ends = (torch.rand(batch, 2, L, generator=gen) * real.unsqueeze(1)).long()  # (B, 2, L) < real count
    dag_valid = prefix(torch.randint(1, M + 1, (batch, C), generator=gen), M)
    lower = torch.ones(M, M).tril(-1).bool()  # [j, i]: i < j
    parents = (torch.rand(batch, C, M, M, generator=gen) < 0.4) & lower
    parents &= dag_valid.unsqueeze(-1) & dag_valid.unsqueeze(-2)
    return ContextInputs(
        telemetry=torch.randn(batch, ARGS.telemetry_dim, generator=gen),
        node_feats=torch.randn(batch, OPT, ARGS.node_dim, generator=gen) * node_valid.unsqueeze(-1),
        node_valid=node_valid,
        link_index=ends * link_valid.unsqueeze(1),
        link_valid=link_valid,
        dag_feats=torch.randn(batch, C, M, ARGS.dag_feat_dim, generator=gen) * dag_valid.unsqueeze(-1),
        dag_parents=parents,
        dag_valid=dag_valid,
        class_mix=torch.softmax(torch.randn(batch, C, generator=gen), -1),
        policy_id=torch.randint(0, 3, (batch,), generator=gen).float(),
    )


def make_traces(gen: torch.Generator, batch: int = B, traces: int = J, slots: int = S, edges: int = G):
    """Random traces (TraceInputs, trace_kpis): query 0 has only 2 valid traces, the last query none."""
    trace_valid = torch.rand(batch, traces, generator=gen) < 0.8
    trace_valid[0] = torch.arange(traces) < 2
    trace_valid[-1] = False
    slot_valid = prefix(torch.randint(1, slots + 1, (batch, traces), generator=gen), slots)
    edge_valid = prefix(torch.randint(1, edges + 1, (batch,), generator=gen), edges)
    index = torch.randint(0, slots, (batch, 2, edges), generator=gen) * edge_valid.unsqueeze(1)
    inputs = TraceInputs(
        slot_feats=torch.randn(batch, traces, slots, ARGS.slot_dim, generator=gen),
        slot_valid=slot_valid,
        edge_index=index,
        edge_valid=edge_valid,
        edge_feats=torch.randn(batch, traces, edges, ARGS.edge_dim, generator=gen),
        current_edge_feats=torch.randn(batch, edges, ARGS.edge_dim, generator=gen),
        age=torch.rand(batch, traces, generator=gen),
        s_j=torch.rand(batch, traces, generator=gen),
        trace_valid=trace_valid,
    )
    return inputs, torch.rand(batch, traces, ARGS.num_kpis, generator=gen)


@pytest.fixture
def batch():
    gen = torch.Generator().manual_seed(0)
    context = make_context(gen)
    traces, trace_kpis = make_traces(gen)
    return context, traces, torch.randn(B, ARGS.z_plan_dim, generator=gen), trace_kpis


@pytest.fixture
def model() -> TopoRagScorer:
    torch.manual_seed(0)
    return TopoRagScorer().eval()


def test_shapes(model, batch):
    out = model(*batch)
    assert out.q_ctx.shape == (B, ARGS.q_dim)
    assert out.scores.shape == out.pi.shape == (B, J)
    assert out.alpha_v.shape == (B, J, S) and out.alpha_e.shape == (B, J, G)
    assert out.r_hat.shape == (B,) and out.kpis.shape == (B, ARGS.num_kpis)
    assert ((out.r_hat > 0) & (out.r_hat < 1)).all()
    for value in (out.q_ctx, out.pi, out.alpha_v, out.alpha_e, out.r_hat, out.kpis):
        assert torch.isfinite(value).all()


def test_from_mapping_reads_numpy_by_key(batch):
    context = batch[0]
    arrays = {f.name: getattr(context, f.name).double().numpy() for f in dataclasses.fields(context)}
    arrays["node_valid"], arrays["link_index"] = context.node_valid.numpy(), context.link_index.int().numpy()
    read = ContextInputs.from_mapping(arrays)
    assert read.telemetry.dtype == torch.float32 and read.link_index.dtype == torch.int64
    assert read.node_valid.dtype == torch.bool
    with pytest.raises(KeyError, match="class_mix"):
        ContextInputs.from_mapping({k: v for k, v in arrays.items() if k != "class_mix"})


def garbage_like(x: torch.Tensor, where: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """``x`` with its entries at ``where`` (broadcast over trailing feature axes) replaced: NaN for floats,
    random values for bools."""
    while where.dim() < x.dim():
        where = where.unsqueeze(-1)
    where = where.expand_as(x)
    if x.dtype == torch.bool:
        return torch.where(where, torch.rand(x.shape, generator=gen) < 0.5, x)
    return x.masked_fill(where, torch.nan)


def test_padding_does_not_change_outputs(model, batch):
    context, traces, z_plan, trace_kpis = batch
    gen = torch.Generator().manual_seed(1)
    links_pad = ~context.link_valid
    edges_pad = ~traces.edge_valid
    trace_pad = ~traces.trace_valid
    slot_pad = ~traces.slot_valid | trace_pad.unsqueeze(-1)
    padded_context = dataclasses.replace(
        context,
        node_feats=garbage_like(context.node_feats, ~context.node_valid, gen),
        link_index=torch.where(
            links_pad.unsqueeze(1), torch.randint(0, OPT, (B, 2, L), generator=gen), context.link_index
        ),
        dag_feats=garbage_like(context.dag_feats, ~context.dag_valid, gen),
        dag_parents=garbage_like(context.dag_parents, ~context.dag_valid, gen),
    )
    padded_traces = dataclasses.replace(
        traces,
        slot_feats=garbage_like(traces.slot_feats, slot_pad, gen),
        edge_index=torch.where(
            edges_pad.unsqueeze(1), torch.randint(0, S, (B, 2, G), generator=gen), traces.edge_index
        ),
        edge_feats=garbage_like(traces.edge_feats, edges_pad.unsqueeze(1) | trace_pad.unsqueeze(-1), gen),
        current_edge_feats=garbage_like(traces.current_edge_feats, edges_pad, gen),
        age=garbage_like(traces.age, trace_pad, gen),
        s_j=garbage_like(traces.s_j, trace_pad, gen),
    )
    padded_kpis = garbage_like(trace_kpis, trace_pad, gen)
    ref, out = model(*batch), model(padded_context, padded_traces, z_plan, padded_kpis)
    for field in dataclasses.fields(ref):
        torch.testing.assert_close(getattr(out, field.name), getattr(ref, field.name), rtol=1e-6, atol=1e-6)
    assert (out.alpha_v[slot_pad] == 0).all() and (
        out.alpha_e[edges_pad.unsqueeze(1).expand(-1, J, -1)] == 0
    ).all()


def test_option_permutation_leaves_q_ctx_unchanged(batch):
    torch.manual_seed(0)
    encoder = ContextEncoder().eval()
    context = batch[0]
    perm = torch.randperm(
        OPT, generator=torch.Generator().manual_seed(2)
    )  # new position k holds option perm[k]
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(OPT)
    permuted = dataclasses.replace(
        context,
        node_feats=context.node_feats[:, perm],
        node_valid=context.node_valid[:, perm],
        link_index=inverse[context.link_index],
    )
    torch.testing.assert_close(encoder(permuted), encoder(context), rtol=1e-5, atol=1e-5)


def test_links_are_undirected(batch):
    torch.manual_seed(0)
    encoder = ContextEncoder().eval()
    context = batch[0]
    flipped = dataclasses.replace(context, link_index=context.link_index.flip(1))
    torch.testing.assert_close(encoder(flipped), encoder(context))


def test_alphas_in_open_unit_interval_and_zero_when_masked(model, batch):
    out = model(*batch)
    traces = batch[1]
    slot_ok = traces.slot_valid & traces.trace_valid.unsqueeze(-1)
    edge_ok = traces.edge_valid.unsqueeze(1) & traces.trace_valid.unsqueeze(-1)
    assert ((out.alpha_v[slot_ok] > 0) & (out.alpha_v[slot_ok] < 1)).all()
    assert ((out.alpha_e[edge_ok] > 0) & (out.alpha_e[edge_ok] < 1)).all()
    assert (out.alpha_v[~slot_ok] == 0).all() and (out.alpha_e[~edge_ok] == 0).all()


def test_invalid_traces_get_minus_inf_and_zero_pi(model, batch):
    out = model(*batch)
    valid = batch[1].trace_valid
    assert torch.isneginf(out.scores[~valid]).all() and torch.isfinite(out.scores[valid]).all()
    assert (out.pi[~valid] == 0).all()
    assert (out.pi[-1] == 0).all()  # no valid trace at all: zeros, not NaN


def test_pi_is_softmax_over_top_three():
    scores = torch.tensor(
        [
            [0.5, 2.0, -torch.inf, 1.0, 3.0, 0.1],
            [1.0, -torch.inf, -torch.inf, 0.2, -torch.inf, -torch.inf],
            [-torch.inf] * 6,
        ],
        requires_grad=True,
    )
    pi = fusion_weights(scores, top=3)
    expected = torch.zeros(3, 6)
    expected[0, [4, 1, 3]] = torch.softmax(torch.tensor([3.0, 2.0, 1.0]), 0)
    expected[1, [0, 3]] = torch.softmax(torch.tensor([1.0, 0.2]), 0)
    torch.testing.assert_close(pi.detach(), expected)
    torch.testing.assert_close(pi.sum(-1).detach(), torch.tensor([1.0, 1.0, 0.0]))
    (pi * torch.arange(6.0)).sum().backward()
    assert torch.isfinite(scores.grad).all()


def test_kpis_are_pi_weighted_mean_plus_residual(model, batch):
    out = model(*batch)
    z_plan, trace_kpis = batch[2], batch[3]
    fused = (out.pi.unsqueeze(-1) * trace_kpis).sum(1)
    torch.testing.assert_close(out.kpis, fused + model.plan.kpi_residual(out.q_ctx, z_plan))


def reference_scores(scorer: TraceScorer, x: TraceInputs, q_ctx: torch.Tensor) -> torch.Tensor:
    """Eq. 2 with explicit loops over queries, traces, slots and edges (a second implementation)."""
    scores = torch.full(x.s_j.shape, -torch.inf)
    for b in range(x.s_j.shape[0]):
        for j in range(x.s_j.shape[1]):
            if not x.trace_valid[b, j]:
                continue
            ok = x.slot_valid[b, j]
            z, a_v = scorer.prune_slots(
                x.slot_feats[b, j][None, None], x.age[b, j].view(1, 1), q_ctx[b][None]
            )
            z, a_v = z[0, 0], a_v[0, 0] * ok
            a_e = scorer.prune_edges(
                x.edge_feats[b, j][None, None], x.current_edge_feats[b][None], x.age[b, j].view(1, 1)
            )
            a_e = a_e[0, 0] * x.edge_valid[b]
            h = z * ok.unsqueeze(-1)
            for layer, conv in enumerate(scorer.convs):
                h = h.relu() if layer else h
                num, den = torch.zeros_like(h), torch.zeros(h.shape[0])
                for g in range(x.edge_index.shape[-1]):
                    if not x.edge_valid[b, g]:
                        continue
                    u, v = x.edge_index[b, :, g].tolist()
                    pairs = [(u, v)] if u == v else [(u, v), (v, u)]
                    for src, dst in pairs:  # message src -> dst
                        if ok[src] and ok[dst]:
                            weight = a_v[src] * a_e[g]
                            num[dst] += weight * h[src]
                            den[dst] += weight
                agg = torch.where(den.unsqueeze(-1) > 0, num / den.clamp_min(1e-30).unsqueeze(-1), 0.0)
                h = (conv.lin_rel(agg) + conv.lin_root(h)) * ok.unsqueeze(-1)
            relevance = h @ q_ctx[b] / math.sqrt(h.shape[-1])
            scores[b, j] = (a_v * relevance).sum() / a_v.sum() + x.s_j[b, j]
    return scores


def test_trace_scores_match_loop_reference():
    gen = torch.Generator().manual_seed(3)
    traces, _ = make_traces(gen, batch=2, traces=3, slots=5, edges=6)
    traces = dataclasses.replace(traces, trace_valid=torch.tensor([[True, True, False], [True, False, True]]))
    q_ctx = torch.randn(2, ARGS.q_dim, generator=gen)
    torch.manual_seed(0)
    scorer = TraceScorer().eval()
    with torch.no_grad():
        torch.testing.assert_close(scorer(traces, q_ctx).scores, reference_scores(scorer, traces, q_ctx))


def test_gradients_reach_every_parameter(model, batch):
    out = model.train()(*batch)
    gen = torch.Generator().manual_seed(4)
    utility, realised = torch.rand(B, generator=gen), torch.rand(B, ARGS.num_kpis, generator=gen)
    loss = (out.r_hat - utility).pow(2).mean() + 0.5 * (out.kpis - realised).pow(2).mean()
    loss.backward()
    encoder, heads = list(model.encoder_parameters()), list(model.head_parameters())
    assert {id(p) for p in encoder}.isdisjoint(id(p) for p in heads)
    assert len(encoder) + len(heads) == len(list(model.parameters()))
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_deterministic_under_manual_seed(batch):
    outputs = []
    for _ in range(2):
        torch.manual_seed(7)
        outputs.append(TopoRagScorer()(*batch))
    for field in dataclasses.fields(outputs[0]):
        assert torch.equal(getattr(outputs[0], field.name), getattr(outputs[1], field.name)), field.name


def test_args_reject_non_positive_sizes():
    with pytest.raises(ValueError, match="fusion_top"):
        TopoRagArgs(fusion_top=0)
