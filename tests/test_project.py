"Project-level checks that no single notebook owns: packaging metadata, the console script, the docs tools."
import configparser, json, re, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))


def cfg():
    c = configparser.ConfigParser(delimiters=['=']); c.read(ROOT / 'settings.ini'); return c['DEFAULT']


def test_pins_are_kept():
    req, dev = cfg()['requirements'].split(), cfg()['dev_requirements'].split()
    for pin in ['torch==2.14.1', 'torchvision==0.29.1', 'fastai==2.8.7', 'fastcore<2', 'fastprogress<1.1']: assert pin in req
    for pin in ['nbdev==2.4.14', 'execnb<0.2', 'ghapi<2', 'plum-dispatch<2.10']: assert pin in dev


def test_nbdev_settings():
    c = cfg()
    assert c['recursive'] == 'True' and c['black_formatting'] == 'False' and c['clean_ids'] == 'True'
    assert 'slow' in c['tst_flags'].split()
    assert c['console_scripts'].startswith('mdrdx=mdrdx.cli:main')


def test_console_script_lists_commands():
    out = subprocess.run([sys.executable, '-c', 'from mdrdx.cli import main; raise SystemExit(main(["--help"]))'],
                         capture_output=True, text=True, check=True).stdout
    assert 'demo' in out and 'usage: mdrdx COMMAND' in out
    bad = subprocess.run([sys.executable, '-c', 'from mdrdx.cli import main; raise SystemExit(main(["nope"]))'],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command 'nope'" in bad.stderr


def test_demo_options_parse():
    out = subprocess.run([sys.executable, '-c', 'from mdrdx.cli import main; main(["demo", "--help"])'],
                         capture_output=True, text=True)
    assert out.returncode == 0 and '--n' in out.stdout and '--out' in out.stdout


def test_import_is_light():
    "import mdrdx must not pull torch, fastai or monai in (they cost seconds; modules import them when needed)"
    code = 'import sys, mdrdx, mdrdx.cli; print(sorted(m for m in ("torch", "fastai", "monai") if m in sys.modules))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == '[]', out


def test_stage_notebook_turns_front_matter_into_a_title():
    from build_docs import stage_notebook
    nb = {'cells': [{'cell_type': 'raw', 'metadata': {}, 'source': '---\ntitle: core\ndescription: what it is\n---\n'},
                    {'cell_type': 'code', 'metadata': {}, 'outputs': [], 'source': '#| echo: false\n#| output: asis\nshow_doc(f)'},
                    {'cell_type': 'code', 'metadata': {}, 'outputs': [], 'source': 'x = 1'}]}
    out, meta = stage_notebook(nb)
    assert meta == {'title': 'core', 'description': 'what it is'}
    assert out['cells'][0]['source'] == '# core\n\n> what it is'
    assert out['cells'][1]['source'] == 'show_doc(f)' and 'remove_input' in out['cells'][1]['metadata']['tags']
    assert 'remove_input' not in out['cells'][2]['metadata']['tags']


def test_every_notebook_has_title_and_summary():
    for p in sorted((ROOT / 'nbs').rglob('*.ipynb')):
        if '.ipynb_checkpoints' in p.parts: continue
        first = ''.join(json.loads(p.read_text())['cells'][0]['source'])
        assert first.startswith('# ') and '\n> ' in first, f'{p.name}: first cell must be "# title" and "> summary"'


def test_sidebar_lists_every_notebook():
    import yaml
    side = json.dumps(yaml.safe_load((ROOT / 'nbs' / 'sidebar.yml').read_text()))
    for p in sorted((ROOT / 'nbs').rglob('*.ipynb')):
        if '.ipynb_checkpoints' in p.parts: continue
        assert p.relative_to(ROOT / 'nbs').as_posix() in side, f'{p.name} missing from nbs/sidebar.yml'


def test_exported_code_reads_no_notebook_globals():
    "An exported function that uses a name only the notebook defines passes nbdev_test but breaks for users"
    out = subprocess.run([sys.executable, '-m', 'pyflakes', str(ROOT / 'mdrdx')], capture_output=True, text=True).stdout
    undefined = [l for l in out.splitlines() if "undefined name '" in l]   # not star imports' 'unable to detect'
    assert not undefined, '\n'.join(undefined)


def _module_imports():
    "mdrdx module -> (its notebook's file name, the mdrdx modules it imports anywhere in its code)"
    import ast
    mods = {}
    for p in sorted((ROOT / 'mdrdx').rglob('*.py')):
        text = p.read_text()
        m = re.search(r'File to edit: (?:\.\./)+nbs/(\S+\.ipynb)', text)
        if not m: continue
        name = '.'.join(p.relative_to(ROOT).with_suffix('').parts)
        deps, pkg = set(), name.split('.')[:-1]
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.level:          # nbdev writes the package's own imports as relative ones
                base = '.'.join(pkg[:len(pkg) - node.level + 1])
                deps |= {f'{base}.{node.module}'} if node.module else {f'{base}.{a.name}' for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith('mdrdx'):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith('mdrdx')}
        mods[name] = (m.group(1), deps)
    return mods


def test_modules_import_only_earlier_notebooks():
    "No module imports one made by a later notebook, so there is no import cycle (lazy imports inside functions count)"
    mods = _module_imports()
    assert len(mods) > 15, sorted(mods)
    late = [(a, b) for a, (nb, deps) in mods.items() for b in deps
            if b in mods and b != a and mods[b][0] > nb]
    assert not late, f"modules importing a later notebook's module: {late}"


def test_modules_have_no_invalid_escapes():
    "A backslash in a docstring's maths must sit in a raw string: Python warns now and will refuse later"
    import ast, warnings
    bad = []
    for p in sorted((ROOT / 'mdrdx').rglob('*.py')):
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            try: ast.parse(p.read_text())
            except (SyntaxError, SyntaxWarning, DeprecationWarning) as e: bad.append(f'{p.relative_to(ROOT)}: {e}')
    assert not bad, bad


def test_notebook_runner_tests_every_library_notebook():
    "tools/test_nbs.py (each notebook in a fresh process) picks every notebook of nbs/ and none of the experiments"
    import sys
    sys.path.insert(0, str(ROOT / 'tools'))
    try:
        import test_nbs
        got = {p.relative_to(ROOT / 'nbs').as_posix() for p in test_nbs.notebooks()}
    finally: sys.path.remove(str(ROOT / 'tools'))
    want = {p.name for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.'))}
    assert got == want, (sorted(got - want), sorted(want - got))
    assert len(got) > 20 and '05_diffusion.ipynb' in got


def test_experiment_parameters_parse_like_papermill():
    from run_experiments import param_value
    assert param_value('3e-3') == pytest.approx(.003) and param_value('1E5') == 1e5   # YAML 1.1 would leave these strings
    assert param_value('[0, 1]') == [0, 1] and param_value('true') is True and param_value('{}') == {}
    assert param_value('varied') == 'varied' and param_value('inf') == 'inf' and param_value('') is None
