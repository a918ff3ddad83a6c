"""Run the notebooks' tests (`nbdev_test`), each notebook in a fresh Python process.

`nbdev_test --n_workers N` runs several notebooks one after another in each worker process, so a notebook starts
with whatever global state the previous one left (torch's random generator above all), and which notebook came
before depends on timing. A model built before its notebook seeds anything then differs from run to run. Here
every notebook starts as it does when run alone, which is also how its stored outputs were made.

  python tools/test_nbs.py [--n_workers N] [--path GLOB] [--flags FLAGS]

The notebooks are those `nbdev_test` would test (nbdev's notebook glob, without folders holding a `.notest` file).
"""
import argparse, fnmatch, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def notebooks(pattern=None):
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    files = [Path(f) for f in sorted(nbglob(as_path=True))]
    files = [f for f in files if not (f.parent / '.notest').exists()]
    if pattern: files = [f for f in files if fnmatch.fnmatch(f.name, pattern) or fnmatch.fnmatch(str(f), pattern)]
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n_workers', type=int, default=1, help='notebooks tested at once')
    ap.add_argument('--path', help='only the notebooks whose name or path matches this glob')
    ap.add_argument('--flags', default='', help="nbdev test flags to run, e.g. 'slow'")
    a = ap.parse_args()
    files = notebooks(a.path)
    if not files: sys.exit('no notebook to test')
    exe = Path(sys.executable).parent / 'nbdev_test'

    def run(f):
        t0 = time.time()
        r = subprocess.run([str(exe), '--path', str(f), '--flags', a.flags], capture_output=True, text=True)
        return f, r.returncode, time.time() - t0, r.stdout + r.stderr

    failed, times = [], []
    with ThreadPoolExecutor(max(1, a.n_workers)) as ex:
        for f, rc, secs, out in ex.map(run, files):
            times.append((secs, f.name))
            if rc != 0:
                failed.append(f.name)
                sys.stderr.write(f"\n==== {f.name} failed ====\n{out[-6000:]}\n")
    for secs, name in sorted(times, reverse=True): print(f"{name}: {int(secs)} secs")
    if failed: sys.exit(f"\nnotebooks that failed ({len(failed)} of {len(files)}): {', '.join(failed)}")
    print(f"Success: {len(files)} notebooks, each in its own process.")


if __name__ == '__main__':
    main()
