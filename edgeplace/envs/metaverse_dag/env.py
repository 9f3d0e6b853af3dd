"""The metaverse-dag Dec-POMDP (papers/llm-mappo.md, section c): agents ``ec_0 .. ec_{K-1}`` place the
replicas of their region's microservices and split DAG traffic over paths, all at once, every 10 s for
60 steps from a random hour; the fluid model (:mod:`.fluid`) scores each step.

Each episode draws from ``self.rng`` only, in order: the start hour, the DAG templates, the arrival
process (hotspots, bursts), the failed ES; then per step the sampled requests, the model's replica
choices and failures, and the arrival process's advance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgeplace.envs.base import Observation
from edgeplace.envs.metaverse_dag.autoscaler import scaled_counts
from edgeplace.envs.metaverse_dag.config import MetaverseDagConfig
from edgeplace.envs.metaverse_dag.encode import DELAY_REF_S, LiveState, edge_slot_index
from edgeplace.envs.metaverse_dag.fluid import Deployment, StepOutcome, evaluate
from edgeplace.envs.metaverse_dag.kpis import KpiLog
from edgeplace.envs.metaverse_dag.layout import SlotLayout
from edgeplace.envs.metaverse_dag.metrics import (
    LATENCY_REF_S,
    OMEGA,
    PHI0,
    StepMetrics,
    local_reward,
    potential,
    step_metrics,
)
from edgeplace.envs.metaverse_dag.network import load_network
from edgeplace.envs.metaverse_dag.observation import (
    GLOBAL_DIM,
    NodeCol,
    SlotCol,
    action_space,
    observation_space,
)
from edgeplace.envs.metaverse_dag.options import NONE, RegionOptions
from edgeplace.envs.metaverse_dag.planning import PlanningLoop, StepRecord
from edgeplace.envs.metaverse_dag.state_view import (
    KPI_DIM,
    DagObserver,
    DagWorkload,
    PlannerInputs,
    RegionSignals,
)
from edgeplace.envs.simultaneous import SimultaneousEnv
from edgeplace.planners.soft_plans import (
    TELEMETRY_SERIES,
    TELEMETRY_STEPS,
    PlanContext,
    PlanEvent,
    Tier,
    make_planner,
)
from edgeplace.topology.generators import CellZone
from edgeplace.workloads.metaverse_dag import (
    CLASS_SHARES,
    ArrivalProcess,
    base_rates,
    cross_region_shares,
    demand_tiers,
    failed_servers,
    sample_requests,
    sample_templates,
)

AGENT_PREFIX = "ec"
_RATE_REF = 400.0


def agent_ids(regions: int) -> list[str]:
    """``ec_0 .. ec_{K-1}``."""
    return [f"{AGENT_PREFIX}_{k}" for k in range(regions)]


class MetaverseDagEnv(SimultaneousEnv):
    """K edge controllers placing microservice replicas and routing DAG traffic (section c).

    Actions: MultiDiscrete, ``place[s]`` (an option per slot) then ``route[e]`` (a split pattern per DAG
    edge). Rewards: r^k of Eq. 20. KPIs at episode end: :data:`~.kpis.EPISODE_KPIS`.

    The baselines' options (section f): ``autoscaler`` keeps ``replica_count`` (K, C, M) and masks the
    slots beyond it to NONE; ``potential_shaping`` adds gamma Phi(s') - Phi(s) with Phi = ``potential``
    (K,) of the last step; ``reward_scope`` ``local`` drops r_g from Eq. 20.
    """

    def __init__(self, env_config: Mapping[str, Any] | MetaverseDagConfig | None = None) -> None:
        self.cfg = MetaverseDagConfig.from_env_config(env_config)
        self.net = load_network(self.cfg)
        self.layout = SlotLayout.of(self.cfg.max_ms, self.cfg.r_max)
        self.options = RegionOptions.of(self.net, self.cfg.max_region_es)
        self.observer = DagObserver(self.net, self.options, self.layout)
        k, s, e = self.net.num_regions, self.layout.num_slots, self.layout.num_edges
        self.possible_agents = agent_ids(k)
        self.agents = list(self.possible_agents)
        obs_space = observation_space(s, self.options.num_options, e, self.options.link_ids.shape[1])
        self.observation_spaces = dict.fromkeys(self.possible_agents, obs_space)
        self.action_spaces = dict.fromkeys(self.possible_agents, action_space(s, self.options.num_options, e))
        super().__init__(self.cfg.horizon)
        es = slice(0, self.net.num_es)
        self.base_rate = base_rates(
            np.random.default_rng(self.cfg.network_seed), self.net.zone[es], self.cfg.spec_preset.rate_scale
        )
        self.cross = cross_region_shares(self.net.xy_km[self.net.num_es : self.net.num_es + k])
        self.served_share = self.cross[self.net.region[es]]  # (n, K)
        self.dense_es = self.net.zone[es] == CellZone.DENSE
        self._next_hour: float | None = None
        self.planning = PlanningLoop(
            make_planner(self.cfg.planner, seed=self.cfg.network_seed, options=self.cfg.planner_options),
            k,
            s,
            self.options.num_options,
            step_s=self.cfg.step_s,
            period_s=self.cfg.plan_period_s,
            trust_alpha=self.cfg.trust_alpha,
            kappa_max=self.cfg.kappa_max,
            shaping=self.cfg.shaping,
        )
        hosts = np.maximum(self.options.option_node, 0)
        real = self.options.option_node != NONE
        self.option_tier = np.where(real, self.net.kind[hosts], Tier.NONE)
        self.option_zone = np.where(real, self.net.zone[hosts], -1)
        self.option_capacity = np.where(
            real[..., None], np.stack([self.net.vcpu[hosts], self.net.ram_gb[hosts]], axis=-1), 0.0
        )

    # --- episode -----------------------------------------------------------------------------
    def _begin_episode(self) -> None:
        cfg, net, k = self.cfg, self.net, self.net.num_regions
        carried = cfg.carry_over and self._next_hour is not None
        if carried:
            start_hour = self._next_hour
        else:
            start_hour = float(self.rng.uniform(0.0, 24.0)) if cfg.start_hour is None else cfg.start_hour
            self.templates = sample_templates(self.rng, cfg.ms_counts, self.layout.padded_ms)
        self._next_hour = (start_hour + cfg.horizon * cfg.step_s / 3600.0) % 24.0
        es = slice(0, net.num_es)
        self.arrivals = ArrivalProcess(
            self.rng,
            self.base_rate,
            net.xy_km[es],
            net.region[es],
            start_hour=start_hour,
            disc_km=net.disc_km,
            load=cfg.load,
        )
        self.failing = np.concatenate(
            [failed_servers(self.rng, net.num_es, cfg.fail_fraction), np.zeros(k + 1, bool)]
        )
        self.node_up = np.ones(net.num_nodes, bool)
        self.workload = DagWorkload.of(net, self.layout, self.templates)
        self.slot_valid, self.edges = self.workload.slot_valid, self.workload.edges
        if not carried:
            self.choice = np.where(
                (self.layout.slot_rep == 0) & self.slot_valid,
                self.options.ec_option,
                self.options.none_option,
            )[None, :].repeat(k, axis=0)
            self.pattern = np.zeros((k, self.layout.num_edges), np.int64)
            self.replica_count = np.ones((k, *self.templates.cpu.shape), np.int64)  # (K, C, M)
        self.potential = np.zeros(k)
        self.regions: np.ndarray | None = None
        self.previous_regions: np.ndarray | None = None
        """The region vectors the current observation's ``neighbour_regions`` come from (K, 19)."""
        self.last: StepOutcome | None = None
        self.last_metrics: StepMetrics | None = None
        self.log = KpiLog(cfg.disturbance_step, cfg.step_s)
        self.telemetry = np.zeros((k, TELEMETRY_STEPS, len(TELEMETRY_SERIES)))
        self.planning.begin_episode()

    def _episode_kpis(self) -> dict[str, float]:
        return self.log.kpis()

    # --- dynamics ----------------------------------------------------------------------------
    def _apply(self, actions: Sequence[Any]) -> tuple[dict[str, float], dict[str, dict]]:
        joint = np.stack([np.asarray(a, np.int64) for a in actions])  # (K, S + E)
        self.previous_regions = self.regions
        s = self.layout.num_slots
        previous = self.options.nodes(self.choice)
        self.choice, self.pattern = joint[:, :s], joint[:, s:]
        node = self.options.nodes(self.choice)
        moved = (previous >= 0) & (node >= 0) & (previous != node)
        if self.cfg.fail_fraction > 0 and self.t == self.cfg.fail_step:
            self.node_up &= ~self.failing
        rates = self._rates()
        served = rates[:, None] * self.served_share  # (n, K)
        requests = sample_requests(self.rng, served, self.cfg.num_samples)
        deployment = Deployment(
            node=self.layout.dense(node, -1),
            migrated=self.layout.dense(moved, False),
            pattern=self.pattern,
            edge_class=self.layout.edge_class,
            edge_src=self.edges[0],
            edge_dst=self.edges[1],
            edge_valid=self.edges[2],
        )
        class_rate = served.sum(axis=0)[:, None] * CLASS_SHARES[None, :]
        self.last = evaluate(
            self.net, self.layout, self.templates, deployment, class_rate, self.node_up, requests, self.rng
        )
        self.last_metrics = step_metrics(self.net, self.templates, self.last, requests)
        self.log.add(self.last_metrics, self.last, int(moved.sum()))
        self.arrivals.advance(self.rng, self.cfg.step_s)
        reward = self._rewards()
        if self.cfg.autoscaler:
            self.replica_count = scaled_counts(self.replica_count, self.last, self.layout.r_max)
        self._record_step(rates)
        rewards = dict(zip(self.possible_agents, reward.tolist(), strict=True))
        return rewards, {}

    def _rewards(self) -> np.ndarray:
        """Every agent's reward of the step just evaluated: Eq. 20 (or the planner-shaped r-hat), local
        with ``reward_scope`` ``local``, plus gamma Phi(s') - Phi(s) with ``potential_shaping``.
        Shapes: -> (K,)."""
        m, cfg = self.last_metrics, self.cfg
        reward = local_reward(m) if cfg.reward_scope == "local" else self.planning.rewards(m, self.guidance)
        if cfg.potential_shaping:
            after = potential(self.last, m.region_violations)
            reward = reward + cfg.shaping_gamma * after - self.potential
            self.potential = after
        return reward

    def _rates(self) -> np.ndarray:
        """Every ES's arrival rate at step ``t``, with Fig. 7b's surge on the dense zone. Shapes: (n,)."""
        rates = self.arrivals.rates(self.t * self.cfg.step_s)
        cfg = self.cfg
        if cfg.surge_factor > 1 and cfg.surge_step <= self.t < cfg.surge_step + cfg.surge_steps:
            rates = np.where(self.dense_es, rates * cfg.surge_factor, rates)
        return rates

    def _record_step(self, rates: np.ndarray) -> None:
        """Roll the step into the telemetry the planner reads and hand it to the planning loop."""
        net, m, out, k = self.net, self.last_metrics, self.last, self.net.num_regions
        es_region = net.region[: net.num_es]
        count = np.maximum(np.bincount(es_region, minlength=k), 1)
        cpu_util = np.bincount(es_region, out.cpu_reserved[: net.num_es] / net.vcpu[: net.num_es], k) / count
        region_rate = np.bincount(es_region, rates, minlength=k)
        latency = m.region_latency_s / LATENCY_REF_S
        row = np.column_stack(
            [region_rate / (_RATE_REF * count), cpu_util, latency, m.region_violations, m.utility]
        )
        self.telemetry = np.concatenate([self.telemetry[:, 1:], row[:, None, :]], axis=1)
        self.planning.record_step(
            StepRecord(
                utility=m.utility,
                kpis=np.column_stack([latency, m.region_violations, cpu_util]),
                slot_rho=self.layout.per_slot(out.rho),
                slot_sojourn_s=self.layout.per_slot(out.sojourn_s),
                choice=self.choice,
                region_rate=region_rate,
                region_up_count=np.bincount(net.region[net.region >= 0], self.node_up[net.region >= 0], k),
            ),
        )

    # --- planner -----------------------------------------------------------------------------
    def _plan_context(
        self,
        event: PlanEvent,
        agents: np.ndarray,
        nodes: np.ndarray,
        links: np.ndarray,
        slots: np.ndarray,
        place: np.ndarray,
    ) -> PlanContext:
        """The planner's view of the current state. Shapes: nodes (K, O, 14), links (K, L, 6), slots
        (K, S, 12) features, place (K, S, O) masks."""
        layout, tpl, cap = self.layout, self.templates, self.option_capacity
        c, m = layout.slot_class, layout.slot_ms
        last_rho = np.zeros((self.net.num_regions, layout.num_slots)) if self.last is None else None
        if last_rho is None:
            per_ms = self.last.rho.sum(axis=-1)  # (K, C, M)
            last_rho = per_ms[:, c, m]
        src, dst = edge_slot_index(layout, self.edges)
        return PlanContext(
            event=event,
            seed=int(np.random.SeedSequence([self.seed, self.episode_index, self.t]).generate_state(1)[0]),
            hour=float(self.arrivals.hour(self.t * self.cfg.step_s)),
            time_s=self.t * self.cfg.step_s,
            agents=agents,
            option_tier=self.option_tier,
            option_zone=self.option_zone,
            capacity=cap,
            free=np.stack([nodes[..., NodeCol.FREE_CPU], nodes[..., NodeCol.FREE_RAM]], axis=-1) * cap,
            util=nodes[..., NodeCol.CPU_UTIL].astype(np.float64),
            up=nodes[..., NodeCol.UP] > 0,
            centroid_delay_s=nodes[..., NodeCol.CENTROID_DELAY] * DELAY_REF_S,
            link_index=self.options.link_index,
            link_valid=self.options.link_ids >= 0,
            link_feats=links,
            place_mask=place,
            telemetry=self.telemetry.copy(),
            slot_class=c,
            slot_ms=m,
            slot_rep=layout.slot_rep,
            slot_valid=self.slot_valid,
            slot_cpu=tpl.cpu[c, m],
            slot_ram_gb=tpl.ram_gb[c, m],
            slot_quantile=slots[0, :, SlotCol.QUANTILE].astype(np.float64),
            slot_load=last_rho,
            edge_src=src,
            edge_dst=dst,
            edge_valid=self.edges[2],
            parents=tpl.parents,
            num_ms=tpl.num_ms,
            demand_tier=demand_tiers(tpl.cpu),
            deadline_s=tpl.deadline_s,
            choice=self.choice.copy(),
            r_max=layout.r_max,
            static_weights=OMEGA.copy(),
            static_phi=PHI0,
        )

    # --- observation -------------------------------------------------------------------------
    def _live(self) -> LiveState:
        k, s = self.choice.shape
        last = self.last
        return LiveState(
            slot_node=self.options.nodes(self.choice),
            choice=self.choice,
            pattern=self.pattern,
            node_up=self.node_up,
            es_rate=self._rates(),
            slot_rho=np.zeros((k, s)) if last is None else self.layout.per_slot(last.rho),
            slot_sojourn_s=np.zeros((k, s)) if last is None else self.layout.per_slot(last.sojourn_s),
            link_rho=np.zeros_like(self.net.slice_bw_mbps) if last is None else last.link_rho,
            replica_limit=self._replica_limit(),
        )

    def _replica_limit(self) -> np.ndarray | None:
        """The autoscaler's count of every slot's microservice (None without it). Shapes: -> (K, S)."""
        if not self.cfg.autoscaler:
            return None
        return self.replica_count[:, self.layout.slot_class, self.layout.slot_ms]

    def _signals(self) -> RegionSignals:
        """The last step's KPIs, the bursts and the clock, as the region vectors read them."""
        m, k = self.last_metrics, self.net.num_regions
        if m is None:
            kpis, global_kpis, r_g = np.zeros((k, KPI_DIM)), np.zeros(GLOBAL_DIM), 0.0
        else:
            kpis = np.column_stack(
                [
                    m.region_latency_s / LATENCY_REF_S,
                    m.region_violations,
                    m.region_success,
                    m.region_lb,
                    m.region_r_tot_ratio,
                ]
            )
            r_g = m.r_g
            global_kpis = np.array(
                [m.latency_s / LATENCY_REF_S, m.violations, m.success, m.lb, m.r_tot_ratio, m.sigma_r]
            )
        return RegionSignals(
            kpis=kpis,
            global_kpis=global_kpis,
            r_g=r_g,
            burst=self.arrivals.bursts.on,
            hour=self.arrivals.hour(self.t * self.cfg.step_s),
            progress=self.t / self.cfg.horizon,
        )

    def _observe(self) -> dict[str, Observation]:
        live = self._live()
        features = self.observer.features(self.workload, live)
        if self.t >= self.horizon:
            self.planning.finish_episode()
        else:
            self.planning.refresh(
                self.t,
                lambda event, agents: self._plan_context(
                    event, agents, features.nodes, features.links, features.slots, features.place
                ),
            )
        self.guidance = self.planning.guidance()
        planner = PlannerInputs(
            self.guidance, self.planning.r_hat, self.planning.z_plan, self.planning.prior(features.place)
        )
        regions, global_kpis = self.observer.region_vectors(live, self._signals(), planner)
        observations = self.observer.observations(
            features, regions, global_kpis, planner, previous_regions=self.previous_regions
        )
        self.regions = regions
        return dict(zip(self.possible_agents, observations, strict=True))
