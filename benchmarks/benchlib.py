"""Helpers shared by the benchmark scripts: timing with warm-up and repeats, peak memory, thread settings."""
import os, resource, statistics, time


def peak_mb() -> float:
    "Peak resident set size of this process so far, MB (`ru_maxrss` is in KiB on Linux)"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    "Current resident set size of this process, MB"
    import psutil
    return psutil.Process().memory_info().rss / 2 ** 20


def set_threads(n: int):
    "Use `n` threads in torch and in the OpenMP/MKL pools of libraries imported after this call"
    for k in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'): os.environ[k] = str(n)
    import torch
    torch.set_num_threads(n)


class Timing:
    "Wall times of the repeats of one measurement: `median`, `spread` = (max - min) / 2 / median"
    def __init__(self, times): self.times = list(times)
    @property
    def median(self) -> float: return statistics.median(self.times)
    @property
    def spread(self) -> float:
        m = self.median
        return (max(self.times) - min(self.times)) / 2 / m if m and len(self.times) > 1 else float('nan')
    def __repr__(self): return f"Timing(median={self.median:.4g}s, spread={self.spread:.1%}, n={len(self.times)})"


def timeit(fn, reps: int = 3, warmup: int = 1, warm_fn=None) -> Timing:
    "Call `warm_fn` (default `fn`) `warmup` times untimed, then time `reps` calls of `fn` with `time.perf_counter`"
    for _ in range(warmup): (warm_fn or fn)()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return Timing(ts)
