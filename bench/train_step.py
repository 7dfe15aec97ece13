#!/usr/bin/env python
"""Training-step cost of same-shape IMLS, LIF-T4 and ANN encoders (CPU, or CUDA with --device).

Builds three encoders with :func:`spikespeech.encoder.build_encoder` from one shape:

* ``imls``: :class:`SpikingEncoder`, IMLS neurons, ``time_steps=1``, ``levels=4``, HD-RepSSA
* ``lif``:  :class:`SpikingEncoder`, binary LIF neurons, ``time_steps=4``, HD-RepSSA
* ``ann``:  :class:`ANNEncoder` (softmax attention, LayerNorm, ReLU FFN)

and measures, in one process:

* time: median wall time of one full training step (``zero_grad``, forward,
  ``loss = out.square().mean()``, backward), models interleaved in a rotating order;
* peak memory: the peak of the running sum of the CPU allocator's allocation/free events
  recorded by ``torch.profiler`` (``profile_memory=True``) during one forward+backward,
  above the baseline at step start (activations + gradients + temporaries); with
  ``--device cuda`` instead ``torch.cuda.max_memory_allocated`` (reset per model) above
  ``torch.cuda.memory_allocated`` at step start;
* saved-for-backward bytes: unique storages packed by
  ``torch.autograd.graph.saved_tensors_hooks`` during the forward (parameters and buffers
  excluded), a deterministic proxy for activation memory.

Run ``python bench/train_step.py --help``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import warnings
import weakref

import torch
from torch.autograd.graph import saved_tensors_hooks
from torch.profiler import ProfilerActivity, profile

from spikespeech.config import from_dict
from spikespeech.encoder import EncoderConfig, build_encoder

MIB = float(2**20)
MODELS = ("imls", "lif", "ann")
LABELS = {"imls": "IMLS (T=1, D=4)", "lif": "LIF-T4", "ann": "ANN"}
# (json key, upper bound, human description)
TARGETS = (
    ("imls_vs_ann_time", 1.25, "IMLS / ANN step time"),
    ("imls_vs_lif_time", 0.35, "IMLS / LIF-T4 step time"),
    ("imls_vs_lif_memory", 0.35, "IMLS / LIF-T4 peak memory"),
)


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---- models --------------------------------------------------------------------------------
def make_config(args: argparse.Namespace, model: str) -> EncoderConfig:
    data = {
        "layers": args.layers,
        "d_model": args.d_model,
        "ffn_dim": args.ffn_dim,
        "ffn_kernels": list(args.ffn_kernels),
        "dropout": args.dropout,
        "attention": {"type": "hd_repssa", "heads": args.heads},
    }
    if model == "lif":
        data.update(time_steps=4, neuron={"type": "lif"})
    else:  # imls; the ANN ignores neuron/attention-type fields
        data.update(time_steps=1, neuron={"type": "imls", "levels": 4})
    return from_dict(EncoderConfig, data, where=f"bench[{model}]")


def build(args: argparse.Namespace, model: str) -> torch.nn.Module:
    torch.manual_seed(args.seed)  # initialised on the CPU, so every device gets the same weights
    net = build_encoder(make_config(args, model), "ann" if model == "ann" else "spiking")
    return net.to(args.device).train()


def resolve_device(name: str) -> torch.device:
    """``torch.device(name)``, checked to be usable; ValueError with a one-line reason if not."""
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"--device {name}: not a torch device ({exc})") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {name}: CUDA is not available (torch {torch.__version__}, "
                             f"built for CUDA {torch.version.cuda or 'none'}, no usable GPU)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise ValueError(f"--device {name}: only cpu and cuda are supported")
    return device


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued kernels (a no-op on the CPU), so wall time covers them."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_inputs(args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(args.seed)
    B, L = args.batch, args.frames
    x = torch.randn(B, L, args.d_model, generator=gen)
    if args.ragged:
        lengths = torch.randint(max(2, L // 2), L + 1, (B,), generator=gen)
        lengths[0] = L  # the batch's longest sequence fills the padded length
    else:
        lengths = torch.full((B,), L, dtype=torch.long)
    return x.to(args.device), lengths.to(args.device)


def forward_backward(net: torch.nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> None:
    loss = net(x, lengths).square().mean()
    loss.backward()


def train_step(net: torch.nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> None:
    net.zero_grad(set_to_none=True)
    forward_backward(net, x, lengths)


def timed_step(net: torch.nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> float:
    """Seconds of one :func:`train_step`, with the device's queue drained before and after."""
    synchronize(x.device)
    t0 = time.perf_counter()
    train_step(net, x, lengths)
    synchronize(x.device)
    return time.perf_counter() - t0


def cpu_busy_snapshot() -> tuple[float, float] | None:
    """(machine busy CPU seconds from /proc/stat, this process's CPU seconds); Linux only."""
    try:
        with open("/proc/stat") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    busy = (sum(fields[:8]) - idle) / hz  # user..steal, without guest (already in user)
    own = os.times()
    return busy, own.user + own.system


def foreign_cpu_cores(before, after, wall: float) -> float | None:
    """Average number of cores other processes kept busy between two snapshots."""
    if before is None or after is None or wall <= 0:
        return None
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / wall)


# ---- memory --------------------------------------------------------------------------------
def profiled_peak_bytes(fn) -> tuple[int, int]:
    """Run ``fn`` under the profiler; return (peak, net) bytes of the CPU allocator's
    running allocation sum, relative to the moment ``fn`` starts.

    ``prof.events()`` folds allocations into the op that made them (only allocations outside
    any op keep a ``[memory]`` row), so we read the raw Kineto event stream instead: every
    allocation and free is one ``[memory]`` event with a signed ``nbytes`` and a timestamp.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            fn()
    results = getattr(prof.profiler, "kineto_results", None)
    if results is None:
        raise RuntimeError("torch.profiler: no kineto results (memory events unavailable)")
    events = [
        (i, e.start_ns(), e.nbytes())
        for i, e in enumerate(results.events())
        if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU
    ]
    events.sort(key=lambda t: (t[1], t[0]))  # time order; stable for equal stamps
    running = peak = 0
    for _, _, nbytes in events:
        running += nbytes
        peak = max(peak, running)
    return peak, running


def calibrate_profiler(size_mib: int = 100) -> float:
    """Peak (MiB) the method reports for a known ``size_mib`` allocation (should match)."""

    def alloc():
        t = torch.empty(size_mib * 2**20, dtype=torch.uint8)
        t.fill_(1)
        del t
        u = torch.ones(size_mib * 2**20 // 8, dtype=torch.float32)  # size/2 MiB, after the free
        del u

    peak, net = profiled_peak_bytes(alloc)
    if net != 0:
        log(f"warning: profiler calibration leaked {net} bytes")
    return peak / MIB


def cuda_peak_bytes(fn, device: torch.device) -> tuple[int, int]:
    """Run ``fn``; return (peak, net) bytes of the CUDA caching allocator's allocated memory
    relative to the moment ``fn`` starts (``max_memory_allocated``, reset just before)."""
    synchronize(device)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - base,
            torch.cuda.memory_allocated(device) - base)


def calibrate_cuda(device: torch.device, size_mib: int = 100) -> float:
    """Peak (MiB) :func:`cuda_peak_bytes` reports for a known ``size_mib`` allocation."""

    def alloc():
        t = torch.empty(size_mib * 2**20, dtype=torch.uint8, device=device)
        t.fill_(1)
        del t
        u = torch.ones(size_mib * 2**20 // 8, dtype=torch.float32, device=device)
        del u

    peak, net = cuda_peak_bytes(alloc, device)
    if net != 0:
        log(f"warning: CUDA memory calibration leaked {net} bytes")
    return peak / MIB


def peak_memory(net, x, lengths) -> tuple[float, float]:
    """(peak MiB above the step-start baseline, MiB still held afterwards = gradients)."""
    net.zero_grad(set_to_none=True)  # baseline holds no grads; they count in the peak
    gc.collect()
    step = lambda: forward_backward(net, x, lengths)  # noqa: E731
    if x.device.type == "cuda":
        peak, held = cuda_peak_bytes(step, x.device)
    else:
        peak, held = profiled_peak_bytes(step)
    return peak / MIB, held / MIB


def saved_for_backward(net, x, lengths) -> tuple[float, int]:
    """MiB of unique storages saved for backward and still alive when the forward ends
    (parameters and buffers excluded), and how many tensors were packed.

    Saved tensors of graph branches that the forward drops again (e.g. the LIF neuron's
    final membrane update, which nothing reads) are freed before backward, so only the
    packed tensors that are still alive at the end of the forward are counted.
    """
    skip = {t.untyped_storage().data_ptr() for t in (*net.parameters(), *net.buffers())}
    packed: list[tuple[weakref.ref, int, int]] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        packed.append((weakref.ref(t), st.data_ptr(), st.nbytes()))
        return t  # the graph holds this very object, so the weakref lives as long as it

    net.zero_grad(set_to_none=True)
    gc.collect()
    with saved_tensors_hooks(pack, lambda t: t):
        loss = net(x, lengths).square().mean()
    gc.collect()
    alive: dict[int, int] = {}
    for ref, ptr, nbytes in packed:
        if ref() is not None and ptr not in skip:
            alive[ptr] = max(alive.get(ptr, 0), nbytes)
    loss.backward()
    return sum(alive.values()) / MIB, len(packed)


# ---- profile mode --------------------------------------------------------------------------
class ModuleLabels:
    """Wrap every submodule's forward in a ``record_function("mod:<path>")`` range, so a
    profile can charge each op to the innermost module that ran it (layer indices folded
    to ``*``). Cheap (two profiler calls per module call). Python stack recording
    (``with_stack=True``) does not help for the backward: the autograd engine runs those
    ops outside Python, and the profiler gives them the last (stale) forward stack.
    """

    PREFIX = "mod:"

    def __init__(self, net: torch.nn.Module) -> None:
        self.handles = []
        for path, module in net.named_modules():
            if not path:
                continue
            generic = ".".join("*" if part.isdigit() else part for part in path.split("."))
            name = f"{self.PREFIX}{generic} ({type(module).__name__})"
            self.handles.append(module.register_forward_pre_hook(self._enter(name)))
            self.handles.append(module.register_forward_hook(self._exit, always_call=True))
        self.open: list = []

    def _enter(self, name: str):
        def hook(module, inputs):
            rf = torch.autograd.profiler.record_function(name)
            rf.__enter__()
            self.open.append(rf)
        return hook

    def _exit(self, module, inputs, output):
        self.open.pop().__exit__(None, None, None)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def time_by_module(prof) -> list[tuple[str, float, int]]:
    """Self CPU time (us) per labelled module path, forward and backward separately.

    Forward ops are charged to their innermost ``mod:`` range. Backward ops run in the
    autograd engine outside any module; each is charged to the module whose forward op
    created its autograd node (same ``sequence_nr``), tagged ``[bwd]``.
    """
    events = [e for e in prof.events() if not e.name.startswith("[memory]")]

    def ancestors(e):
        p = e.cpu_parent
        while p is not None:
            yield p
            p = p.cpu_parent

    def module_of(e) -> str | None:
        for p in ancestors(e):
            if p.name.startswith(ModuleLabels.PREFIX):
                return p.name[len(ModuleLabels.PREFIX):]
        return None

    def in_backward(e) -> bool:
        return any(p.name.startswith("autograd::engine::") for p in ancestors(e)) or \
            e.name.startswith("autograd::engine::")

    # Ops that create no autograd node still report the thread's current sequence number,
    # which the next node-creating op then takes; so the *last* forward op with a number
    # is the one that created the node.
    seq_module: dict[int, str] = {}
    for e in sorted(events, key=lambda e: e.time_range.start):
        if e.sequence_nr >= 0 and not in_backward(e):
            mod = module_of(e)
            if mod is not None:
                seq_module[e.sequence_nr] = mod
    totals: dict[str, list] = {}
    for e in events:
        if e.name.startswith(ModuleLabels.PREFIX):
            key = None  # the range itself: its self time is Python/hook overhead
        elif in_backward(e):
            node = e if e.sequence_nr >= 0 and not e.name.startswith("autograd::") else None
            if node is None:
                node = next((p for p in ancestors(e) if p.sequence_nr >= 0
                             and not p.name.startswith("autograd::")), None)
            if node is None or "AccumulateGrad" in e.name or (
                    node is not None and "AccumulateGrad" in node.name):
                key = "(parameter gradient accumulation) [bwd]"
            else:
                key = f"{seq_module.get(node.sequence_nr, '(loss/unlabelled ' + node.name + ')')} [bwd]"
        else:
            key = module_of(e) or "(outside modules: input/loss)"
        key = key or "(module-hook overhead)"
        slot = totals.setdefault(key, [0.0, 0])
        slot[0] += e.self_cpu_time_total
        slot[1] += 1
    return sorted(((k, v[0], v[1]) for k, v in totals.items()), key=lambda t: -t[1])


def run_profile(args, nets, x, lengths) -> None:
    net = nets[args.profile]
    labels = ModuleLabels(net) if args.by_module else None
    for _ in range(max(args.warmup, 1)):
        train_step(net, x, lengths)
    on_cuda = x.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with profile(activities=activities, record_shapes=args.profile_shapes) as prof:
            train_step(net, x, lengths)
            synchronize(x.device)
    if labels is not None:
        labels.remove()
    # on CUDA the kernels' own time is what counts; CPU time there is mostly launch overhead
    sort_by = "self_device_time_total" if on_cuda else "self_cpu_time_total"
    table = prof.key_averages(group_by_input_shape=args.profile_shapes).table(
        sort_by=sort_by, row_limit=args.profile_rows, max_name_column_width=60,
    )
    print(f"# {LABELS[args.profile]}: one training step, top {args.profile_rows} by "
          f"{'self CUDA' if on_cuda else 'self CPU'} time "
          f"(device={x.device}, threads={torch.get_num_threads()}, shape B={args.batch} "
          f"L={args.frames} C={args.d_model} layers={args.layers})")
    print(table)
    if args.by_module:
        rows = time_by_module(prof)
        total = sum(r[1] for r in rows) or 1.0
        print(f"\n# self CPU time by module (summed over layers; [bwd] = backward of the "
              f"autograd nodes that module's forward created), top {args.profile_rows}"
              + (" (on CUDA: host-side time, i.e. kernel launches)" if on_cuda else ""))
        print(f"{'ms':>9} {'share':>7} {'ops':>6}  module")
        for key, us, n in rows[: args.profile_rows]:
            print(f"{us / 1e3:>9.1f} {100 * us / total:>6.1f}% {n:>6}  {key}")
        print(f"{total / 1e3:>9.1f} {100.0:>6.1f}%         total")
        by_class: dict[str, float] = {}
        for key, us, _ in rows:
            cls = key[key.rfind("(") + 1: key.rfind(")")] if key.startswith(("layers", "out_")) \
                else key.replace(" [bwd]", "")
            by_class[cls] = by_class.get(cls, 0.0) + us
        print("\n# the same, forward + backward, by module class")
        for cls, us in sorted(by_class.items(), key=lambda t: -t[1]):
            print(f"{us / 1e3:>9.1f} {100 * us / total:>6.1f}%  {cls}")
    if args.trace:
        prof.export_chrome_trace(args.trace)
        log(f"chrome trace written to {args.trace}")


# ---- main ----------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn-dim", type=int, default=1024)
    p.add_argument("--ffn-kernels", type=int, nargs=2, default=(1, 1), metavar=("K1", "K2"))
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--frames", type=int, default=300, help="sequence length L")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--ragged", action="store_true",
                   help="random lengths in [L/2, L] (first = L) instead of all L")
    p.add_argument("--repeats", type=int, default=5, help="timed steps per model")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per model first")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads (default: torch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu",
                   help="torch device: cpu, cuda or cuda:N (on CUDA steps are timed with "
                        "torch.cuda.synchronize and peak memory is torch.cuda.max_memory_allocated)")
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS),
                   help="subset to run (ratios need the models they compare)")
    p.add_argument("--json", action="store_true",
                   help="print exactly one JSON object on stdout (progress goes to stderr)")
    p.add_argument("--check", action="store_true", help="exit 1 if a target fails")
    p.add_argument("--profile", choices=MODELS, default=None,
                   help="instead of benchmarking, print torch.profiler's key_averages table "
                        "for one training step of this model")
    p.add_argument("--profile-rows", type=int, default=25)
    p.add_argument("--by-module", action="store_true",
                   help="with --profile: also sum self CPU time per module path, backward ops "
                        "charged to the module whose forward created their autograd node")
    p.add_argument("--profile-shapes", action="store_true",
                   help="with --profile: group rows by input shape")
    p.add_argument("--trace", default=None, help="with --profile: write a chrome trace here")
    return p.parse_args(argv)


def describe_device(device: torch.device) -> str:
    """``cpu`` or the GPU's name, e.g. ``cuda:0 (NVIDIA H200)``."""
    if device.type != "cuda":
        return str(device)
    return f"cuda:{torch.cuda.current_device() if device.index is None else device.index} " \
        f"({torch.cuda.get_device_name(device)})"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        args.device = resolve_device(args.device)
    except ValueError as exc:
        print(f"train_step.py: {exc}", file=sys.stderr)
        return 2
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    x, lengths = make_inputs(args)
    models = [args.profile] if args.profile else list(dict.fromkeys(args.models))
    nets = {m: build(args, m) for m in models}

    if args.profile:
        run_profile(args, nets, x, lengths)
        return 0

    load_before = os.getloadavg()[0]
    log(f"torch {torch.__version__}, device {describe_device(args.device)}, "
        f"threads {torch.get_num_threads()}, "
        f"B={args.batch} L={args.frames} C={args.d_model} layers={args.layers} "
        f"heads={args.heads} F={args.ffn_dim} ragged={args.ragged}")

    # 1) time: warm up, then interleave the models in a rotating order
    for w in range(args.warmup):
        for m in models:
            log(f"warmup {w + 1}/{args.warmup} {m}: {1e3 * timed_step(nets[m], x, lengths):.0f} ms")
    times: dict[str, list[float]] = {m: [] for m in models}
    busy0, wall0 = cpu_busy_snapshot(), time.perf_counter()
    for r in range(args.repeats):
        order = models[r % len(models):] + models[: r % len(models)]
        for m in order:
            times[m].append(timed_step(nets[m], x, lengths))
        log(f"repeat {r + 1}/{args.repeats}: "
            + ", ".join(f"{m} {1e3 * times[m][-1]:.0f} ms" for m in models))

    foreign_cores = foreign_cpu_cores(busy0, cpu_busy_snapshot(), time.perf_counter() - wall0)
    if foreign_cores is not None and foreign_cores > 0.1 and args.device.type == "cpu":
        log(f"warning: other processes used {foreign_cores:.2f} cores on average while timing; "
            f"with {torch.get_num_threads()} intra-op threads on {os.cpu_count()} cores the "
            f"timings are distorted (re-run on a quiet machine)")

    # 2) memory: profiler (CPU) or CUDA allocator peak, calibrated against a known
    #    allocation, and saved tensors
    on_cuda = args.device.type == "cuda"
    check_mib = calibrate_cuda(args.device, 100) if on_cuda else calibrate_profiler(100)
    log(f"{'CUDA allocator' if on_cuda else 'profiler'} calibration: 100 MiB allocation -> "
        f"{check_mib:.2f} MiB peak")
    if abs(check_mib - 100.0) > 1.0:
        log("warning: measured memory peak does not match the known allocation")
    results: dict[str, dict] = {}
    for m in models:
        net = nets[m]
        peak, held = peak_memory(net, x, lengths)
        saved, packs = saved_for_backward(net, x, lengths)
        n_params = sum(p.numel() for p in net.parameters())
        results[m] = {
            "label": LABELS[m],
            "median_step_s": statistics.median(times[m]) if times[m] else None,
            "min_step_s": min(times[m]) if times[m] else None,
            "step_s": times[m],
            "peak_mib": peak,
            "grad_mib": held,
            "saved_mib": saved,
            "saved_tensor_packs": packs,
            "params": n_params,
            "param_mib": 4 * n_params / MIB,
        }
        log(f"memory {m}: peak {peak:.1f} MiB (grads {held:.1f}), saved {saved:.1f} MiB")

    def get(m, key):
        return results.get(m, {}).get(key)

    report = {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "device": str(args.device),
        "device_name": describe_device(args.device),
        "torch_cuda_build": torch.version.cuda,
        "loadavg_1min_before": load_before,
        "loadavg_1min_after": os.getloadavg()[0],
        "foreign_cpu_cores_while_timing": foreign_cores,
        "shape": {
            "layers": args.layers, "d_model": args.d_model, "heads": args.heads,
            "ffn_dim": args.ffn_dim, "ffn_kernels": list(args.ffn_kernels),
            "dropout": args.dropout, "frames": args.frames, "batch": args.batch,
            "ragged": args.ragged, "lengths": lengths.tolist(),
        },
        "repeats": args.repeats,
        "warmup": args.warmup,
        "seed": args.seed,
        "memory_method": (
            "torch.cuda.max_memory_allocated (reset per model) during forward+backward, above "
            "torch.cuda.memory_allocated at step start" if on_cuda else
            "torch.profiler profile_memory: peak of running sum of CPU allocator "
            "[memory] events (kineto) during forward+backward, above step start"),
        "profiler_check_mib": None if on_cuda else check_mib,
        "memory_check_mib": check_mib,
        "models": results,
        "imls_vs_ann_time": ratio(get("imls", "median_step_s"), get("ann", "median_step_s")),
        "imls_vs_lif_time": ratio(get("imls", "median_step_s"), get("lif", "median_step_s")),
        "imls_vs_lif_memory": ratio(get("imls", "peak_mib"), get("lif", "peak_mib")),
        "imls_vs_ann_memory": ratio(get("imls", "peak_mib"), get("ann", "peak_mib")),
        "imls_vs_lif_saved": ratio(get("imls", "saved_mib"), get("lif", "saved_mib")),
        "imls_vs_ann_saved": ratio(get("imls", "saved_mib"), get("ann", "saved_mib")),
    }
    targets = {}
    for key, bound, _ in TARGETS:
        value = report[key]
        targets[key] = {"value": value, "max": bound,
                        "pass": None if value is None else bool(value <= bound)}
    report["targets"] = targets
    report["all_pass"] = all(t["pass"] is True for t in targets.values())

    if args.json:
        print(json.dumps(report))
    else:
        print_human(report, models)
    return 1 if args.check and not report["all_pass"] else 0


def print_human(report: dict, models: list[str]) -> None:
    s = report["shape"]
    print(f"train step: layers={s['layers']} d_model={s['d_model']} heads={s['heads']} "
          f"ffn={s['ffn_dim']} k={tuple(s['ffn_kernels'])} L={s['frames']} B={s['batch']} "
          f"ragged={s['ragged']} | torch {report['torch']}, {report['device_name']}, "
          f"{report['threads']} threads, {report['repeats']} repeats")
    print()
    print(f"{'model':<18}{'median ms':>11}{'min ms':>9}{'peak MiB':>10}{'saved MiB':>11}"
          f"{'grads MiB':>11}")
    for m in models:
        r = report["models"][m]
        print(f"{r['label']:<18}{1e3 * r['median_step_s']:>11.1f}{1e3 * r['min_step_s']:>9.1f}"
              f"{r['peak_mib']:>10.1f}{r['saved_mib']:>11.1f}{r['grad_mib']:>11.1f}")
    print()
    for key, bound, desc in TARGETS:
        t = report["targets"][key]
        if t["value"] is None:
            print(f"{desc:<28} {'n/a':>6}   (target <= {bound:.2f})  SKIP")
        else:
            verdict = "PASS" if t["pass"] else "FAIL"
            print(f"{desc:<28} {t['value']:>6.3f}   (target <= {bound:.2f})  {verdict}")
    extra = [("IMLS / ANN peak memory", report["imls_vs_ann_memory"]),
             ("IMLS / LIF-T4 saved bytes", report["imls_vs_lif_saved"]),
             ("IMLS / ANN saved bytes", report["imls_vs_ann_saved"])]
    for desc, value in extra:
        if value is not None:
            print(f"{desc:<28} {value:>6.3f}   (info)")
    fc = report["foreign_cpu_cores_while_timing"]
    if fc is not None and report["device"] == "cpu":
        note = "  <- timings distorted, re-run on a quiet machine" if fc > 0.1 else ""
        print(f"\nother processes kept {fc:.2f} cores busy on average while timing{note}")
    method = "profiler" if report["device"] == "cpu" else "CUDA allocator"
    print(f"{method} memory check: 100 MiB allocation measured as "
          f"{report['memory_check_mib']:.2f} MiB; 1-min load average before/after: "
          f"{report['loadavg_1min_before']:.2f}/{report['loadavg_1min_after']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
