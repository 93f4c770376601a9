"""How far LSTM Lab's training is from this CPU's compute limit, and where the rest of the time goes.

Why it exists: bench/training_speed.py shows the default experiment trains in about 2 s; this
script asks whether that is near what the hardware allows. It counts the floating-point work of
one training epoch of the default LSTM (air passengers, window 12, 1 x 32 units, batch 16),
measures the FLOP/s this CPU reaches on a float32 matrix product (big and at the LSTM's own tiny
shapes) and the measured time per epoch of LSTM Lab's compiled loop, and prints the ratio. It then
repeats the per-epoch measurement for batch sizes 16, 32, 64 and 128 (same epochs) to show the
trade-off between per-step overhead and compute.

FLOP count (1 multiply-add = 2 FLOPs), per training window, for an LSTM layer with ``u`` units,
``d`` inputs per step and a window of ``w`` steps, and the Dense head with ``h`` outputs:

    LSTM forward, per step  = 2 * 4u * (d + u)   the four gates' matmuls on [x_t, h_{t-1}]
                            + 4u                 gate biases
                            + 10u                3 sigmoids, 2 tanh, c = f*c + i*g, h = o*tanh(c)
                                                 (each transcendental counted as 1 FLOP)
    LSTM forward, window    = w * (per step)            (stacked layers: d = u above the first)
    Dense forward           = 2 * u * h + h
    training, per window    = 3 * forward               backward ~ 2x forward (two matmuls per
                                                        forward matmul: input and weight grads)
    epoch                   = n_fit * 3 * forward       (the training windows)
                            + n_val * forward           (validation loss on the held-out windows)
                            + n_batches * 12 * params   (Adam update, ~12 FLOPs per weight)

The compute limit of an epoch is that count divided by the best float32 matmul FLOP/s
(``tf.linalg.matmul`` at 1024 and 2048 squared, warm, best of several; the higher of the two). The per-epoch time of the app's loop is
measured by differencing: the app's own forecaster (``training.make_forecasters``) fit with E1
and E2 epochs (patience 0, so no early stopping), (t(E2) - t(E1)) / (E2 - E1) with the best of
the repeats at each length -- which cancels model building and tracing. Window counts are read
from the fitted forecaster.

Usage (from the repository root):
    .venv/bin/python bench/compute_limit.py [--quick] [--repeats 3] [--json PATH]

No assertions: it prints a table. The measurements run in one process, one after another.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,I001  (puts the repository root on sys.path)

from lstm_lab.experiments.config import ExperimentConfig  # noqa: E402
from lstm_lab.data.datasets import load_air_passengers  # noqa: E402
from lstm_lab.models.networks import lstm_params, mlp_params  # noqa: E402
from lstm_lab.experiments.training import make_forecasters  # noqa: E402
from lstm_lab.data.windows import split_by_time  # noqa: E402

BATCH_SIZES = (16, 32, 64, 128)
ADAM_FLOPS_PER_WEIGHT = 12


# --- counting ----------------------------------------------------------------------------------

def lstm_forward_flops(window: int, units: int, layers: int = 1, n_features: int = 1,
                       horizon: int = 1) -> dict[str, int]:
    """Forward FLOPs of one window through the stacked LSTM + Dense head (see module docstring)."""
    matmul = elementwise = 0
    d = n_features
    for _ in range(layers):
        matmul += window * 2 * 4 * units * (d + units)
        elementwise += window * (4 * units + 10 * units)
        d = units
    dense = 2 * units * horizon + horizon
    return {"lstm_matmul": matmul, "lstm_elementwise": elementwise, "dense": dense,
            "total": matmul + elementwise + dense}


def mlp_forward_flops(window: int, units: int, layers: int = 1, horizon: int = 1) -> int:
    total, d = 0, window
    for _ in range(layers):
        total += 2 * d * units + 2 * units     # matmul, bias, relu
        d = units
    return total + 2 * units * horizon + horizon


def epoch_flops(forward: int, n_fit: int, n_val: int, n_batches: int, params: int) -> dict:
    train = 3 * forward * n_fit
    val = forward * n_val
    adam = ADAM_FLOPS_PER_WEIGHT * params * n_batches
    return {"train": train, "val": val, "adam": adam, "total": train + val + adam}


# --- measuring ---------------------------------------------------------------------------------

def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def matmul_flops(tf, n: int, repeats: int, inner: int = 5) -> float:
    """Best FLOP/s of an n x n float32 product (eager; CPU eager ops run synchronously)."""
    a = tf.random.normal((n, n), dtype=tf.float32, seed=1)
    b = tf.random.normal((n, n), dtype=tf.float32, seed=2)
    for _ in range(3):
        tf.linalg.matmul(a, b).numpy()

    def run():
        for _ in range(inner):
            out = tf.linalg.matmul(a, b)
        out.numpy()

    return 2 * n**3 * inner / best_of(run, repeats)


def small_matmul(tf, batch: int, k: int, m: int, repeats: int, calls: int) -> dict[str, float]:
    """The LSTM's own product ([x_t, h] @ W, batch x (d+u) by (d+u) x 4u): eager per call, and
    per iteration of a graph while-loop that chains matmul -> slice -> tanh like a recurrence."""
    x = tf.random.normal((batch, k), dtype=tf.float32, seed=3)
    w = tf.random.normal((k, m), dtype=tf.float32, seed=4) * 0.1
    flops = 2 * batch * k * m

    def eager():
        for _ in range(calls):
            tf.linalg.matmul(x, w)

    eager()
    eager_s = best_of(eager, repeats) / calls

    @tf.function
    def chain(x0, steps):
        def body(i, xi):
            z = tf.linalg.matmul(xi, w)
            return i + 1, tf.tanh(z[:, :k])
        return tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), x0))[1]

    steps = tf.constant(calls)
    chain(x, steps).numpy()
    graph_s = best_of(lambda: chain(x, steps).numpy(), repeats) / calls
    return {"flops": flops, "eager_call_s": eager_s, "eager_flops_per_s": flops / eager_s,
            "graph_iter_s": graph_s, "graph_flops_per_s": flops / graph_s}


def fitted(name: str, config: ExperimentConfig, values, season: int, epochs: int,
           batch_size: int):
    """The app's own forecaster (``training.make_forecasters``) fit for exactly ``epochs``."""
    cfg = config.replace(models=(name,), epochs=epochs, patience=0, batch_size=batch_size)
    model = make_forecasters(cfg, season)[name]
    model.fit(values)
    if model.epochs_run_ != epochs:  # a setup error (early stop / divergence), not a target
        raise RuntimeError(f"{name} ran {model.epochs_run_} of {epochs} epochs")
    return model


def fit_seconds(name: str, config: ExperimentConfig, values, season: int, epochs: int,
                batch_size: int) -> float:
    """Seconds of ``fit_compiled`` (the scope of ``fit_seconds_``) for exactly ``epochs``."""
    return fitted(name, config, values, season, epochs, batch_size).fit_seconds_


def seconds_per_epoch(name: str, config, values, season: int, e1: int, e2: int,
                      batch_size: int, repeats: int) -> dict[str, float]:
    """(t(E2) - t(E1)) / (E2 - E1) from the best (minimum) of ``repeats`` fits at each length --
    the least disturbed by other load -- and, for reference, the median of the per-pair slopes;
    also the fixed part t(E1) - E1 * slope (building the loop, tracing, first chunk)."""
    t1s, t2s = [], []
    for _ in range(repeats):
        t1s.append(fit_seconds(name, config, values, season, e1, batch_size))
        t2s.append(fit_seconds(name, config, values, season, e2, batch_size))
    slope = (min(t2s) - min(t1s)) / (e2 - e1)
    pairs = [(b - a) / (e2 - e1) for a, b in zip(t1s, t2s)]
    return {"epoch_s": slope, "epoch_s_median_pairs": statistics.median(pairs),
            "fixed_s": min(t1s) - e1 * slope, "epoch_s_runs": pairs, "t_e1": t1s, "t_e2": t2s}


# --- main --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer epochs (E2 = 60) and 2 repeats per batch size")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per measurement (median)")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args()
    repeats = 2 if args.quick else max(1, args.repeats)
    e1, e2 = (10, 60) if args.quick else (20, 420)

    t0 = time.perf_counter()
    import keras
    import tensorflow as tf
    import_s = time.perf_counter() - t0
    tf.get_logger().setLevel("ERROR")

    header = common.machine_header(repeats=repeats, quick=args.quick, epochs=f"E1={e1}, E2={e2}",
                                   tf_threads=f"intra {tf.config.threading.get_intra_op_parallelism_threads()}"
                                   f" / inter {tf.config.threading.get_inter_op_parallelism_threads()}"
                                   " (0 = all cores)")
    common.print_header("LSTM Lab compute-limit benchmark", header)

    config = ExperimentConfig()
    series = load_air_passengers()
    n_train = split_by_time(len(series), config.test_count(len(series)))
    values, season = series.values[:n_train], config.season or series.season

    # -- the CPU's float32 matmul throughput
    big = {n: matmul_flops(tf, n, repeats=7 if not args.quick else 4) for n in (1024, 2048)}
    peak = max(big.values())
    small = small_matmul(tf, config.batch_size, 1 + config.units, 4 * config.units,
                         repeats=5 if not args.quick else 3, calls=2000)
    print(f"import tensorflow + keras: {import_s:.2f} s (keras {keras.__version__})")
    print("float32 matmul throughput (tf.linalg.matmul, warm, best of several):")
    common.print_table(
        ["shape", "time per product", "GFLOP/s"],
        [["1024 x 1024 @ 1024 x 1024", f"{2 * 1024**3 / big[1024] * 1e3:.2f} ms",
          big[1024] / 1e9],
         ["2048 x 2048 @ 2048 x 2048", f"{2 * 2048**3 / big[2048] * 1e3:.2f} ms",
          big[2048] / 1e9],
         [f"{config.batch_size} x {1 + config.units} @ {1 + config.units} x {4 * config.units}"
          " eager call", f"{small['eager_call_s'] * 1e6:.1f} us",
          small["eager_flops_per_s"] / 1e9],
         [f"{config.batch_size} x {1 + config.units} @ {1 + config.units} x {4 * config.units}"
          " in a graph loop (+ slice, tanh)", f"{small['graph_iter_s'] * 1e6:.1f} us",
          small["graph_flops_per_s"] / 1e9]])
    at_peak_us = small["flops"] / peak * 1e6
    print(f"  the small product is {small['flops']:,} FLOPs: {at_peak_us:.2f} us at the big-matmul "
          f"rate, so ~{small['graph_iter_s'] * 1e6 - at_peak_us:.1f} us of each graph-loop "
          "iteration is fixed per-op cost, not arithmetic.\n")

    # -- warm-up (one-time TF costs: first traces, kernels) and the app's own window counts
    warm = fitted("lstm", config, values, season, 2, config.batch_size)
    fitted("mlp", config, values, season, 2, config.batch_size)
    n_fit, n_val = warm.n_train_windows_, warm.n_windows_used_ - warm.n_train_windows_

    # -- FLOPs of one epoch of the default LSTM (and MLP)
    fwd = lstm_forward_flops(config.window, config.units, config.layers, 1, config.horizon)
    p_lstm = lstm_params(1, config.units, config.layers, config.horizon)
    mlp_fwd = mlp_forward_flops(config.window, config.mlp_units, config.mlp_layers, config.horizon)
    p_mlp = mlp_params(1, config.window, config.mlp_units, config.mlp_layers, config.horizon)
    print(f"Default experiment: {n_train} training points, transform {warm.transform_.kind} -> "
          f"{n_fit} fit windows + {n_val} validation windows; LSTM 1 x {config.units} units ({p_lstm:,} weights), window "
          f"{config.window}; MLP 1 x {config.mlp_units} ({p_mlp:,} weights)")
    print(f"LSTM forward FLOPs per window: gate matmuls {fwd['lstm_matmul']:,} + elementwise "
          f"{fwd['lstm_elementwise']:,} + Dense {fwd['dense']:,} = {fwd['total']:,}\n")

    rows, results = [], []
    cases = [("lstm", b) for b in BATCH_SIZES] + [("mlp", config.batch_size)]
    for name, batch in cases:
        label = name.upper()
        n_batches = -(-n_fit // min(batch, n_fit))
        if name == "lstm":
            flops = epoch_flops(fwd["total"], n_fit, n_val, n_batches, p_lstm)
        else:
            flops = epoch_flops(mlp_fwd, n_fit, n_val, n_batches, p_mlp)
        timing = seconds_per_epoch(name, config, values, season, e1, e2, batch, repeats)
        limit_s = flops["total"] / peak
        step_s = timing["epoch_s"] / n_batches
        row = {"model": label, "batch_size": batch, "steps_per_epoch": n_batches,
               "epoch_flops": flops, "epoch_s": timing["epoch_s"], "epoch_s_runs":
               timing["epoch_s_runs"], "fixed_s": timing["fixed_s"], "step_s": step_s,
               "compute_limit_s": limit_s, "ratio": timing["epoch_s"] / limit_s,
               "achieved_gflops": flops["total"] / timing["epoch_s"] / 1e9}
        if name == "lstm":  # sequential cell evaluations: forward + ~2 backward per step
            row["us_per_cell_step"] = step_s / (3 * config.window * config.layers) * 1e6
        results.append(row)
        rows.append([label, batch, n_batches, flops["total"] / 1e6, timing["epoch_s"] * 1e3,
                     step_s * 1e3, limit_s * 1e3, row["ratio"], row["achieved_gflops"],
                     row.get("us_per_cell_step"), timing["fixed_s"]])
        print(f"  measured {label} batch {batch}: {timing['epoch_s'] * 1e3:.2f} ms/epoch from the "
              f"best fits; per-pair slopes "
              f"{', '.join(f'{s * 1e3:.2f}' for s in timing['epoch_s_runs'])} ms")

    print(f"\nTime per epoch of LSTM Lab's compiled loop vs the compute limit "
          f"(FLOPs / {peak / 1e9:.0f} GFLOP/s); ms/epoch from the best of {repeats} fits at "
          f"{e1} and {e2} epochs:")
    common.print_table(["model", "batch", "steps/epoch", "MFLOP/epoch", "ms/epoch", "ms/step",
                        "limit ms/epoch", "x limit", "GFLOP/s", "us/cell step",
                        "fixed s per fit"], rows)
    print("(fixed s per fit: t(E1) - E1 x ms/epoch -- tracing the training loop and its first "
          "chunk, paid by every fit; model building comes on top)")

    lstm = [r for r in results if r["model"] == "LSTM"]
    default = lstm[0]
    # per-epoch time = a + b * steps: fit over the batch sweep
    xs = [r["steps_per_epoch"] for r in lstm]
    ys = [r["epoch_s"] for r in lstm]
    if len(set(xs)) > 1:
        slope, intercept = statistics.linear_regression(xs, ys)
    else:
        slope, intercept = float("nan"), float("nan")
    print(f"\nLSTM time per epoch ~ {intercept * 1e3:.2f} ms + {slope * 1e3:.2f} ms x "
          "steps/epoch (least squares over the batch sweep)")
    small_limit = default["epoch_flops"]["total"] / small["graph_flops_per_s"]
    print(f"Default LSTM (batch {config.batch_size}): {default['epoch_s'] * 1e3:.2f} ms per epoch "
          f"is {default['ratio']:,.0f}x the compute limit of "
          f"{default['compute_limit_s'] * 1e6:.0f} us ({default['achieved_gflops']:.2f} GFLOP/s of "
          f"{peak / 1e9:.0f}); even at the tiny-matmul graph rate the limit would be "
          f"{small_limit * 1e3:.2f} ms ({default['epoch_s'] / small_limit:.1f}x).")
    print(
        "Where the rest goes: an epoch is "
        f"{default['steps_per_epoch']} Adam steps; each runs the LSTM cell {config.window} times "
        "forward and again backward, strictly one after another (h_t needs h_{t-1}), and each "
        "cell step is ~15-20 small TensorFlow ops (matmuls of "
        f"{config.batch_size} x {1 + config.units} by {1 + config.units} x {4 * config.units}, "
        "bias, split, sigmoids, tanh, products) plus while-loop bookkeeping. Each op moves a few "
        f"KB and does ~{small['flops'] / 1e3:.0f} kFLOP at most, which a core finishes in ~"
        f"{at_peak_us:.1f} us, but its dispatch in the TF executor costs a few us (the graph-loop "
        f"row above: {small['graph_iter_s'] * 1e6:.1f} us for matmul + slice + tanh): per-op "
        f"latency, not arithmetic, sets the pace (~{default['us_per_cell_step']:.0f} us per cell "
        f"step measured, i.e. ~{default['us_per_cell_step'] / 20:.1f}-"
        f"{default['us_per_cell_step'] / 15:.1f} us per op). Larger batches amortise it: fewer, bigger steps per epoch (table "
        "above), at the price of fewer weight updates per epoch (more epochs to converge).")
    print(f"For a whole default fit the fixed part matters more than the epochs: ~"
          f"{default['fixed_s']:.2f} s per LSTM fit (trace + first chunk) against "
          f"{default['epoch_s'] * 1e3:.1f} ms per epoch (the default run stops early after a few "
          "dozen epochs; see bench/training_speed.py).")

    print(f"load average at the end: {common.load_average()}")
    common.write_json(args.json, {"header": header, "import_s": import_s,
                                  "matmul_flops_per_s": {str(k): v for k, v in big.items()},
                                  "small_matmul": small, "peak_flops_per_s": peak,
                                  "lstm_forward_flops_per_window": fwd,
                                  "mlp_forward_flops_per_window": mlp_fwd,
                                  "n_fit_windows": n_fit, "n_val_windows": n_val,
                                  "per_epoch": results, "overhead_fit": {
                                      "intercept_s": intercept, "per_step_s": slope},
                                  "config": config.to_dict()})


if __name__ == "__main__":
    main()
