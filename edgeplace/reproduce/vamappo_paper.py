"""The numbers the VAMAPPO paper reports (spec: papers/vamappo.md, section h), for side-by-side tables.

Rates are fractions; None where the paper gives no number. Values in the S4 comparison marked
"authors' result files" in the spec are included with that caveat in the report.
"""

from __future__ import annotations

#: Table IV (test split, 200 episodes): SLA, utility, its std, comm overhead (s), nodes used (count, %).
TABLE_IV = {
    "S1": {"sla": 0.980, "utility": 32.22, "utility_std": 1.39, "comm_s": 1.41, "nodes": "9 (36%)"},
    "S2": {"sla": 0.975, "utility": 32.48, "utility_std": 1.42, "comm_s": 1.31, "nodes": "18 (35%)"},
    "S3": {"sla": 1.000, "utility": 32.64, "utility_std": 1.21, "comm_s": 1.35, "nodes": "31 (31%)"},
}

#: Table V (S4 zero-shot): utility mean +- std, SLA mean +- std, "latency" mean +- std (s).
TABLE_V = {
    "M1": {"utility": (32.20, 1.35), "sla": (0.970, 0.015), "latency_s": (0.020, 0.005)},
    "M2": {"utility": (32.06, 1.42), "sla": (0.955, 0.021), "latency_s": (0.030, 0.008)},
    "M3": {"utility": (32.29, 1.21), "sla": (0.980, 0.010), "latency_s": (0.030, 0.006)},
}

#: Fig. 10 (S4): SLA, latency (s), comm relative to VAMAPPO, node-usage CV; latency of the heuristics
#: is given as VAMAPPO's reduction relative to them. SLA of Greedy/Random: authors' result files.
S4_COMPARISON = {
    "vamappo": {"sla": 0.970, "latency_s": 0.257, "comm_vs_vamappo": 0.0, "cv": 1.071},
    "mappo": {"sla": 0.940, "latency_s": 0.275, "comm_vs_vamappo": 0.066, "cv": 0.801},
    "metappo": {"sla": 0.895, "latency_s": 0.270, "comm_vs_vamappo": 0.043, "cv": 1.440},
    "greedy": {"sla": 0.875, "latency_reduction": 0.189, "comm_vs_vamappo": 0.161, "cv": 0.771},
    "random": {"sla": 0.860, "latency_reduction": 0.242, "comm_vs_vamappo": 0.212, "cv": 0.709},
}

#: Fig. 9 ablation on S2: utility mean +- std, SLA; None where the paper has no number.
ABLATION = {
    "full": {"utility": (31.63, 5.63), "sla": 0.946},
    "no-enhancement": {"utility": None, "sla": None},
    "no-uncertainty": {"utility": (30.71, 6.40), "sla": 0.926},
    "no-attention": {"utility": (2.30, None), "sla": None},
    "minimal": {"utility": (2.30, None), "sla": None},
}
