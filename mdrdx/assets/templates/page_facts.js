() => ({
  title: document.title,
  h1: (document.querySelector('h1') || {}).innerText || '',
  chars: document.body ? document.body.innerText.length : 0,
  page: document.body ? (document.body.dataset.page || '') : '',
  images: Array.from(document.images).map(e => ({alt: e.alt, ok: e.complete && e.naturalWidth > 0, width: e.naturalWidth})),
  texts: Array.from(document.querySelectorAll('section.text-modality')).map(s => ({
    name: s.dataset.modality, expected: parseInt(s.dataset.tokens || '0'), found: s.querySelectorAll('span.tok').length})),
  tokens: document.querySelectorAll('span.tok').length,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
})
