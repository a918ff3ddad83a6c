#!/usr/bin/env python
"""Execute notebooks of nbs/ top to bottom in a fresh shell each and save their outputs in place (for the docs).

  python tools/run_nbs.py                 every notebook in nbs/ (not experiments/: tools/run_experiments.py --inplace)
  python tools/run_nbs.py 00_core index   the ones named

Stops at the first cell that raises and exits 1 without saving that notebook. Then run `nbdev_clean`.

The outputs are those a reader sees in Jupyter: fastai's training table (fastprogress's notebook bars, whose
intermediate states are dropped, instead of console bars drawn with carriage returns), and no download or
weight-loading bars from Hugging Face libraries.
"""
import os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def notebook_bars():
    "Make fastai draw fastprogress's HTML bars and tables, as in Jupyter (call before fastai is imported)"
    import fastprogress.fastprogress as fp
    from IPython.display import HTML, display
    fp.HTML, fp.display = HTML, display
    fp.master_bar, fp.progress_bar = fp.NBMasterBar, fp.NBProgressBar


def final_outputs(cell):
    "Drop the progress bars' intermediate HTML (each update is a separate output outside Jupyter) and empty streams"
    def keep(o):
        if o.get('output_type') == 'stream': return bool(''.join(o.get('text', '')).strip())
        html = ''.join(o.get('data', {}).get('text/html', ''))
        return not ('<progress' in html or 'Turns off some styling' in html)
    cell.outputs = [o for o in cell.outputs if keep(o)]


def main(names):
    os.environ.setdefault('HF_HUB_DISABLE_PROGRESS_BARS', '1')   # transformers' "Loading weights" bars
    notebook_bars()
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    nbs = ROOT / 'nbs'
    files = sorted(p for p in nbs.glob('*.ipynb') if not names or p.stem in names or p.name in names)
    if not files: sys.exit(f'no notebooks match {names}')
    os.chdir(nbs)
    for p in files:
        t0 = time.time()
        nb = read_nb(p)
        for c in nb.cells:  # old outputs must not survive a cell that now prints nothing
            if c.cell_type == 'code': c.outputs, c.execution_count = [], None
        try: CaptureShell(mpl_format='png').run_all(nb, exc_stop=True)
        except Exception as e:
            failed = [c for c in nb.cells if c.cell_type == 'code' and any(o.get('output_type') == 'error' for o in c.outputs)]
            where = f"\n--- the cell:\n{failed[-1].source[:1500]}" if failed else ''
            sys.exit(f'{p.name}: a cell raised {type(e).__name__}: {str(e)[:2000]}{where}\n(not saved)')
        for c in nb.cells:
            if c.cell_type == 'code': final_outputs(c)
        write_nb(nb, p)
        print(f'{p.name}: ran in {time.time() - t0:.1f}s, saved')


if __name__ == '__main__': main(sys.argv[1:])
