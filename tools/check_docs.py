#!/usr/bin/env python
"""Check the built docs site in a real headless browser (Debian's chromium, driven by Playwright).

Serves the site on 127.0.0.1, opens every page listed in its navigation, and fails unless
  - every page has a title (h1) and real content (not an empty page);
  - the home page shows the project title and at least one image that actually loaded;
  - the API page shows a function signature rendered by show_doc;
  - no page loads a script, style, font or image from another host (the site works offline);
  - the math page's equations are typeset by the site's own MathJax: rendered formulas, no raw TeX left;
screenshots of the home page and the API page are saved.
"""
import argparse, functools, http.server, shutil, socketserver, sys, tempfile, threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run', '--disable-quic']


def serve(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    handler = functools.partial(Quiet, directory=str(site))
    httpd = socketserver.TCPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f'http://127.0.0.1:{httpd.server_address[1]}'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--site', default=str(ROOT / '_site'))
    ap.add_argument('--shots', default=str(ROOT / '_site' / '_screenshots'))
    ap.add_argument('--api-page', default='00_core.html', help='page whose show_doc signature is checked')
    ap.add_argument('--signature', default='def presence_mask(', help='text of a signature on that page')
    ap.add_argument('--math-page', default='05_diffusion.html', help='page whose equations must be typeset')
    ap.add_argument('--min-chars', type=int, default=200, help='a page with less text than this counts as empty')
    a = ap.parse_args()
    site, shots = Path(a.site), Path(a.shots)
    if not (site / 'index.html').exists(): sys.exit(f'no site at {site}: run tools/build_docs.py first')
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    if not chromium: sys.exit('chromium not found: install Debian\'s "chromium" package (make setup does, as root)')
    shots.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    httpd, base = serve(site)
    problems = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=chromium, headless=True,
                                                   args=CHROMIUM_ARGS, viewport={'width': 1280, 'height': 900})
        page = ctx.new_page()
        remote = []   # scripts, styles, fonts, images from any host but the local server: the page breaks offline
        # (the theme's call to the GitHub API for the repository's star count is a fetch and only loses that count)
        page.on('request', lambda r: remote.append(r.url) if r.resource_type in ('script', 'stylesheet', 'font', 'image')
                and not r.url.startswith((base, 'data:', 'blob:', 'about:')) else None)
        page.goto(f'{base}/index.html', wait_until='load')
        links = page.eval_on_selector_all('nav.md-nav--primary a.md-nav__link[href$=".html"]',
                                          'els => [...new Set(els.map(e => e.getAttribute("href")))]')
        pages = sorted({l.split('#')[0].lstrip('./') for l in links} | {'index.html', a.api_page})
        print(f'{len(pages)} pages in the navigation')
        for rel in pages:
            page.goto(f'{base}/{rel}', wait_until='load')
            text = page.inner_text('article') if page.query_selector('article') else ''
            h1 = page.query_selector('article h1')
            imgs = page.eval_on_selector_all('article img', 'els => els.map(e => e.complete && e.naturalWidth > 0)')
            print(f'  {rel:<40} {len(text):6d} chars  h1={h1.inner_text().strip() if h1 else None!r}  '
                  f'images loaded {sum(imgs)}/{len(imgs)}')
            if not h1: problems.append(f'{rel}: no h1 title')
            if len(text.strip()) < a.min_chars: problems.append(f'{rel}: empty page ({len(text.strip())} chars)')
            if imgs and not all(imgs): problems.append(f'{rel}: {imgs.count(False)} image(s) failed to load')
            if rel == 'index.html':
                if 'mdrdx' not in page.title() or 'mdrdx' not in (h1.inner_text() if h1 else ''):
                    problems.append(f'home page title is {page.title()!r}, h1 {h1.inner_text() if h1 else None!r}')
                if sum(imgs) < 1: problems.append('home page shows no loaded image')
                page.screenshot(path=str(shots / 'home.png'), full_page=True)
            if rel == a.math_page:
                try: page.wait_for_function('window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 '
                                            '&& document.querySelectorAll(".MathJax, .MathJax_Display").length > 0',
                                            timeout=60_000)
                except Exception: pass   # reported below as no typeset formula
                n_math = page.eval_on_selector_all('article .MathJax, article .MathJax_Display', 'els => els.length')
                raw = [t for t in ('$$', '\\mathcal', '\\frac') if t in page.inner_text('article')]
                print(f'  {rel}: {n_math} typeset formulas, raw TeX left: {raw or "none"}')
                if n_math < 5: problems.append(f'{rel}: {n_math} typeset formulas (MathJax did not run)')
                if raw: problems.append(f'{rel}: raw TeX shows in the page ({raw})')
                page.screenshot(path=str(shots / 'math.png'), full_page=False)
            if rel == a.api_page:
                if a.signature not in text: problems.append(f'{rel}: signature {a.signature!r} not in the page')
                page.screenshot(path=str(shots / 'api.png'), full_page=False)
        ctx.close()
    if remote: problems.append(f'{len(remote)} requests left the site, e.g. {sorted(set(remote))[:3]}')
    httpd.shutdown()
    if problems:
        print('docs check FAILED:\n  ' + '\n  '.join(problems)); sys.exit(1)
    print(f'docs check passed; screenshots in {shots}')


if __name__ == '__main__': main()
