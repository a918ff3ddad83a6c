"Packaging for mdrdx. Every setting lives in settings.ini (nbdev 2 layout); edit it there, not here."
import shlex
from configparser import ConfigParser

import setuptools

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

meta_keys = 'version description keywords author author_email'.split()
needed = meta_keys + 'lib_name user branch license status min_python audience language'.split()
missing = [k for k in needed if k not in cfg]
if missing: raise SystemExit(f'settings.ini lacks {missing}: add them to its [DEFAULT] section')

licenses = {'apache2': 'Apache-2.0', 'mit': 'MIT', 'bsd3': 'BSD-3-Clause'}  # settings.ini name -> SPDX expression
statuses = ['0 - Pre-Planning', '1 - Planning', '2 - Pre-Alpha', '3 - Alpha',
            '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()
min_python = cfg['min_python']
if min_python not in py_versions: raise SystemExit(f'min_python={min_python} must be one of {py_versions}')

lic = licenses.get(cfg['license'].lower(), cfg['license'])
requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
project_urls = {'Documentation': cfg['doc_host'] + cfg.get('doc_baseurl', '')} if cfg.get('doc_host') else {}
lib_path = cfg.get('lib_path', cfg['lib_name'])

setuptools.setup(
    name=cfg['lib_name'],
    license=lic,
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'],
                 'Natural Language :: ' + cfg['language'].title(),
                 'Topic :: Scientific/Engineering :: Medical Science Apps.']
                + ['Programming Language :: Python :: ' + v for v in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    # namespace packages: the data folders mdrdx/assets/graphs and mdrdx/assets/templates have no __init__.py and
    # ship as packages of their own (setuptools stops shipping data folders that are not listed)
    packages=setuptools.find_namespace_packages(include=[lib_path, lib_path + '.*'], exclude=['*.__pycache__']),
    include_package_data=True,
    install_requires=requirements,
    extras_require={'dev': dev_requirements, 'data': shlex.split(cfg.get('data_requirements', '')),
                    'experiments': shlex.split(cfg.get('experiments_requirements', ''))},
    python_requires='>=' + min_python,
    long_description=open('README.md', encoding='utf8').read(),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={'console_scripts': cfg.get('console_scripts', '').split(),
                  'nbdev': [f'{lib_path}={lib_path}._modidx:d']},
    project_urls=project_urls,
    **{k: cfg[k] for k in meta_keys})
