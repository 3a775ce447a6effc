// The review page's script (docs/review-page.md): renders the report held in the page's
// JSON block. Every value from the report is untrusted text (a file name or a list label may
// hold markup): it only ever reaches the page as text (textContent, a text node, an attribute
// that is no URL), never as markup; the page's Trusted Types policy would refuse markup anyway.
'use strict';
(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const report = data.report;
  const summary = report.summary || {};
  const settings = report.settings || {};
  const PAGE_SIZE = 100;
  const LABEL_CHOICES = 500;
  const SVG = 'http://www.w3.org/2000/svg';

  // ---- Text ----------------------------------------------------------------------------

  // As in the text report, controls and the bidirectional marks that reorder what is shown
  // ("gpj.<U+202E>exe") are escaped, so that a name cannot pass for another.
  const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  const ESCAPES = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  function printable(value) {
    const text = value === null || value === undefined ? '' : String(value);
    return text.replace(UNPRINTABLE, c =>
      ESCAPES[c] || '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  }

  // An element with properties and children; strings become text nodes.
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === 'class') node.className = value;
      else node.setAttribute(key, value);
    }
    node.append(...children.flat(Infinity).filter(c => c !== null && c !== undefined && c !== false));
    return node;
  }
  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const byId = id => document.getElementById(id);
  const count = n => Number(n || 0).toLocaleString('en-US');
  const plural = (n, one, many) => `${count(n)} ${n === 1 ? one : many || one + 's'}`;

  function bytes(n) {
    const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return i === 0 ? `${n} bytes` : `${n.toFixed(1)} ${units[i]}`;
  }
  function duration(ms) {
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(2)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  }
  // Seconds into a video as m:ss.s (h:mm:ss.s past an hour).
  function clock(seconds) {
    const h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60);
    const s = (seconds % 60).toFixed(1).padStart(4, '0');
    return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
  }

  const ORIENTATIONS = {
    orig: 'as listed', rot90: 'rotated 90° counter-clockwise', rot180: 'rotated 180°',
    rot270: 'rotated 90° clockwise', flipx: 'mirrored top to bottom',
    flipy: 'mirrored left to right', flipp: 'transposed', flipm: 'anti-transposed',
  };
  const KINDS = {
    flagged: 'Flagged', allowlisted: 'Allowlisted', error: 'Error', skipped: 'Skipped',
    low_quality: 'Low quality', few_keypoints: 'Few keypoints',
  };

  // ---- Items and their groups ------------------------------------------------------------

  const listOrder = new Map((report.lists || []).map((list, i) => [list.path, i]));
  const sourcesOf = m => (m.sources && m.sources.length ? m.sources : [m]);
  const floods = new Map((report.suspicious || []).map(s => [`${s.algorithm}:${s.hash}`, s]));
  const groups = new Map();
  const items = [];

  function group(key, rank, title) {
    if (!groups.has(key)) groups.set(key, { key, rank, title });
    return groups.get(key);
  }
  function entryName(source) {
    return source.id !== null && source.id !== undefined ? source.id : `line ${source.line}`;
  }
  // A flagged file goes with the listed entry of its closest match: near-duplicates of one
  // listed picture come together.
  function flaggedGroup(file) {
    const source = sourcesOf(file.matches[0])[0];
    const order = listOrder.has(source.list) ? listOrder.get(source.list) : listOrder.size;
    return group(`f\u0000${source.list}\u0000${entryName(source)}`, [0, order, source.line || 0],
      () => ['Listed entry ', h('strong', {}, printable(entryName(source))),
        source.label ? [' — ', printable(source.label)] : '',
        h('span', { class: 'where' }, ` ${printable(source.list)}, line ${source.line}`)]);
  }
  const STAGES = ['walk', 'read', 'decode'];
  const groupOf = {
    flagged: flaggedGroup,
    allowlisted: () => group('a', [1], () => 'Matches suppressed by an allowlist'),
    error: e => group(`e\u0000${e.stage}\u0000${e.kind}`, [2, STAGES.indexOf(e.stage), e.kind || ''],
      () => `Errors at ${printable(e.stage)}: ${printable(e.kind || 'unclassified')}`),
    skipped: s => group(`s\u0000${s.reason}`, [3, s.reason],
      () => `Skipped: ${printable(s.reason)}`),
    low_quality: () => group('q', [4], () =>
      `PDQ quality under ${settings.pdq_min_quality}: not matched by PDQ (other algorithms were)`),
    few_keypoints: () => group('k', [5], () => 'Too few keypoints for orb1 to match'),
  };
  const ARRAYS = [['flagged', 'flagged'], ['allowlisted', 'allowlisted'], ['error', 'errors'],
    ['skipped', 'skipped'], ['low_quality', 'low_quality'], ['few_keypoints', 'few_keypoints']];
  for (const [kind, array] of ARRAYS) {
    (report[array] || []).forEach((entry, n) => {
      const closest = entry.matches && entry.matches.length ? entry.matches[0].distance : 0;
      items.push({ kind, entry, n, key: `${kind}:${n}`, group: groupOf[kind](entry), closest,
        search: String(entry.path).toLowerCase() });
    });
  }
  const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  function byRank(a, b) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const c = compare(a[i], b[i]);
      if (c) return c;
    }
    return 0;
  }
  items.sort((a, b) => byRank(a.group.rank, b.group.rank) || compare(a.group.key, b.group.key)
    || a.closest - b.closest || a.n - b.n);

  // ---- Reviewed marks: in this browser's local storage, nowhere else ---------------------

  const storageKey = `mediascreen-reviewed-${data.id}`;
  let storage = null;
  let reviewed = new Set();
  try {
    storage = window.localStorage;
    reviewed = new Set(JSON.parse(storage.getItem(storageKey) || '[]'));
  } catch (e) {
    storage = null;
  }
  function setReviewed(item, on) {
    if (on) reviewed.add(item.key); else reviewed.delete(item.key);
    if (storage) {
      try { storage.setItem(storageKey, JSON.stringify([...reviewed])); } catch (e) { /* full */ }
    }
    const node = document.querySelector(`li.item[data-key="${item.key}"]`);
    if (node) {
      node.classList.toggle('reviewed', on);
      node.querySelector('input.reviewed-box').checked = on;
    }
    showReviewedCount();
  }
  function showReviewedCount() {
    byId('reviewed-count').textContent = `${count(reviewed.size)} of ${count(items.length)} reviewed`;
  }

  // ---- Header and summary ----------------------------------------------------------------

  function renderHeader() {
    const paths = (settings.paths || []).map(printable).join(', ') || '(the hash store)';
    byId('scan-line').append(`Scan of ${paths}, started ${printable(report.started_at)}, `,
      `took ${duration(report.elapsed_ms || 0)}; ${printable((report.tool || {}).name)} `,
      `${printable((report.tool || {}).version)}, report schema ${report.schema_version}.`);
    const notices = [];
    if (report.complete === false) notices.push(`Interrupted: ${plural(summary.not_scanned, 'file')} found were never looked at.`);
    if (settings.shard) notices.push(`This report covers shard ${printable(settings.shard)} of the files only.`);
    if (settings.path_redaction) notices.push('Paths are redacted (keyed hashes): the operator holds the key.');
    if (settings.rescreen) notices.push('A rescreen: the hashes came from the store, no file was read.');
    if (data.previews === null) notices.push('Previews are off: this page was made without --previews and shows no picture.');
    else notices.push('Previews: flagged pictures are shown from where they lie, in grey and blurred until clicked, one at a time.');
    if (!storage) notices.push('Reviewed marks are not kept: this browser gives the page no local storage.');
    byId('notices').append(...notices.map(text => h('span', { class: 'notice' }, text)));
  }

  function renderSummary() {
    const cards = [
      ['files', 'files', summary.files], ['flagged', 'flagged', summary.flagged],
      ['clean', 'clean', summary.clean], ['errors', 'errors', summary.errors],
      ['skipped', 'skipped', summary.skipped],
      ['low-quality', 'low quality for PDQ', (report.low_quality || []).length],
      ['allowlisted', 'matches allowlisted', summary.allowlisted_matches],
      ['suspicious', 'flood-guard entries', (report.suspicious || []).length],
    ];
    if (summary.over_budget) cards.push(['over-budget', 'left out by a budget', summary.over_budget]);
    if (summary.not_scanned) cards.push(['not-scanned', 'never looked at', summary.not_scanned]);
    byId('counts').append(...cards.map(([id, label, n]) =>
      h('div', { class: `count ${id}` }, h('span', { id: `count-${id}`, class: 'n' }, count(n)), label)),
    h('div', { class: 'count' }, h('span', { class: 'n' }, bytes(summary.bytes || 0)), 'read'));

    const entries = list => Object.values(list.entries || {}).reduce((a, b) => a + b, 0);
    const thresholds = Object.entries(settings.thresholds || {}).map(([a, t]) => `${a} ${t}`).join(', ');
    byId('setup-line').append('Lists and settings: ',
      (report.lists || []).map(list => `${printable(list.path)} (${plural(entries(list), 'entry', 'entries')})`).join(', '),
      thresholds ? `; thresholds ${thresholds}` : '; digests only');
    const lists = byId('lists');
    lists.append(h('tr', {}, ['List', 'Format', 'Entries', 'Refused', 'Removed'].map(t => h('th', {}, t))));
    const row = (list, kind) => h('tr', {},
      h('td', {}, h('code', { title: `SHA-256 ${printable(list.sha256)}` }, printable(list.path)), kind),
      h('td', {}, printable(list.format)),
      h('td', {}, Object.entries(list.entries || {}).map(([a, n]) => `${a} ${count(n)}`).join(', ')),
      h('td', {}, count(list.refused)),
      h('td', {}, Object.entries(list.removed || {}).map(([k, n]) => `${printable(k)} ${count(n)}`).join(', ') || '0'));
    lists.append(...(report.lists || []).map(list => row(list, '')));
    lists.append(...(report.allowlists || []).map(list => row(list, ' (allowlist)')));

    const video = settings.video;
    const flood = settings.flood;
    const decoders = settings.decoders || {};
    const facts = [
      ['Algorithms', (settings.algorithms || []).join(', ')],
      ['Thresholds', thresholds || 'none (digests only)'],
      ['Rotations and mirrors', settings.rotations ? 'matched (PDQ)' : 'not matched'],
      ['PDQ quality gate', settings.pdq_min_quality],
      ['Symbolic links', settings.follow_symlinks ? 'followed' : 'not followed'],
      ['Decoders', ['jpeg', 'webp', 'heif'].map(k => `${k}: ${printable(decoders[k] || 'none')}`).join('; ')],
      video && ['Videos', `a frame every ${video.seconds_per_hash} s; matched at ${video.query_pct}% of either video's frames, at least ${video.min_frames}; ffmpeg: ${printable(video.ffmpeg || 'none')}`],
      flood && ['Flood guard', `more than ${count(flood.min_files)} contents and ${flood.share * 100}% of the files screened`],
      settings.shard && ['Shard', printable(settings.shard)],
      settings.store && ['Hash store', printable(settings.store)],
      settings.path_redaction && ['Paths', `redacted (${printable(settings.path_redaction)})`],
    ].filter(Boolean);
    byId('settings').append(...facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, String(value))]));

    const unscreened = byId('unscreened');
    const tally = new Map();
    for (const item of items) {
      if (item.kind !== 'error' && item.kind !== 'skipped') continue;
      tally.set(item.group, (tally.get(item.group) || 0) + 1);
    }
    if (!tally.size) {
      unscreened.append(h('tr', {}, h('td', {}, 'Every file given was screened.')));
    } else {
      unscreened.append(h('tr', {}, h('th', {}, 'Stage and reason'), h('th', {}, 'Files')));
      for (const [g, n] of tally) unscreened.append(h('tr', {}, h('td', {}, g.title()), h('td', {}, count(n))));
    }
  }

  // ---- Plots (inline SVG) --------------------------------------------------------------

  const PALETTE = ['#3b6ea8', '#b5562b', '#4f8a3c', '#8a4f9e', '#a88a2b', '#2b8a87'];
  function plotLabels() {
    const tally = new Map();
    for (const file of report.flagged || []) {
      const seen = new Set();
      for (const m of file.matches) {
        for (const s of sourcesOf(m)) {
          const text = s.label !== null && s.label !== undefined ? s.label : entryName(s);
          const key = `${s.list}\u0000${text}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const bar = tally.get(key) || { list: s.list, text, n: 0 };
          bar.n++;
          tally.set(key, bar);
        }
      }
    }
    let bars = [...tally.values()].sort((a, b) => b.n - a.n);
    if (!bars.length) return h('p', {}, 'Nothing matched.');
    if (bars.length > 12) {
      const rest = bars.slice(11);
      bars = bars.slice(0, 11).concat([{ list: null, text: `${rest.length} other labels`, n: rest.reduce((s, b) => s + b.n, 0) }]);
    }
    const max = bars[0].n, row = 22, left = 204, width = 400;
    const plot = svg('svg', { viewBox: `0 0 ${width} ${bars.length * row + 4}`, role: 'img', class: 'plot' });
    plot.append(svg('title', {}, 'Flagged files by list and label'));
    bars.forEach((bar, i) => {
      const y = i * row + 2;
      const length = Math.max(2, (width - left - 40) * bar.n / max);
      const colour = bar.list === null ? '#888' : PALETTE[(listOrder.get(bar.list) || 0) % PALETTE.length];
      const text = printable(bar.text);
      const label = svg('text', { x: left - 6, y: y + 15, 'text-anchor': 'end' }, text.length > 27 ? text.slice(0, 26) + '…' : text);
      label.append(svg('title', {}, bar.list === null ? text : `${text} (${printable(bar.list)})`));
      plot.append(label, svg('rect', { x: left, y: y + 3, width: length, height: row - 7, fill: colour }),
        svg('text', { x: left + length + 5, y: y + 15 }, count(bar.n)));
    });
    return plot;
  }

  // One strip a perceptual algorithm: how many matches at each distance, from 0 to its
  // threshold, so a reviewer sees how close the matches sit to where matching stops.
  function plotDistances() {
    const byAlgorithm = new Map();
    for (const file of report.flagged || []) {
      for (const m of file.matches) {
        if (!(m.algorithm in (settings.thresholds || {}))) continue;
        if (!byAlgorithm.has(m.algorithm)) byAlgorithm.set(m.algorithm, []);
        byAlgorithm.get(m.algorithm).push(m.distance);
      }
    }
    if (!byAlgorithm.size) return h('p', {}, 'No perceptual match: only exact digests matched, or nothing.');
    const charts = [];
    for (const algorithm of Object.keys(settings.thresholds).filter(a => byAlgorithm.has(a))) {
      const distances = byAlgorithm.get(algorithm);
      const threshold = settings.thresholds[algorithm];
      const bins = new Array(threshold + 1).fill(0);
      for (const d of distances) bins[Math.min(d, threshold)]++;
      const max = Math.max(...bins), left = 52, right = 320, base = 42;
      const step = (right - left) / bins.length;
      const plot = svg('svg', { viewBox: '0 0 400 60', role: 'img', class: 'plot' });
      plot.append(svg('title', {}, `${algorithm}: ${plural(distances.length, 'match', 'matches')} by distance, threshold ${threshold}`),
        svg('text', { x: 0, y: 30, class: 'strong' }, algorithm));
      bins.forEach((n, d) => {
        if (!n) return;
        const tall = Math.max(1, 36 * n / max);
        const bar = svg('rect', { x: left + d * step + 0.5, y: base - tall, width: Math.max(1, step - 1), height: tall, fill: PALETTE[0] });
        bar.append(svg('title', {}, `distance ${d}: ${plural(n, 'match', 'matches')}`));
        plot.append(bar);
      });
      plot.append(svg('line', { x1: left, y1: base, x2: right, y2: base, class: 'axis' }),
        svg('line', { x1: right, y1: 2, x2: right, y2: base + 4, class: 'threshold' }),
        svg('text', { x: left, y: base + 14 }, '0'),
        svg('text', { x: right, y: base + 14, 'text-anchor': 'middle' }, String(threshold)),
        svg('text', { x: right + 6, y: 16 }, 'threshold'),
        svg('text', { x: right + 6, y: 32 }, plural(distances.length, 'match', 'matches')));
      charts.push(plot);
    }
    return charts;
  }

  // ---- One item --------------------------------------------------------------------------

  function evidence(m) {
    const parts = [];
    if (m.quality !== null && m.quality !== undefined) parts.push(`quality ${m.quality}`);
    if (m.orientation) parts.push(ORIENTATIONS[m.orientation] || printable(m.orientation));
    const v = m.video;
    if (v) {
      if (v.query_pct !== undefined) {
        const frames = f => (f ? ` (${f[0]} of ${f[1]} frames)` : '');
        parts.push(`${v.query_pct}% of this video${frames(v.query_frames)} and ${v.listed_pct}% of the listed one${frames(v.listed_frames)} matched`);
      }
      const ranges = (v.time_ranges || []).map(([a, b]) => `${clock(a)}–${clock(b)}`);
      if (ranges.length) parts.push(`at ${ranges.join(', ')}`);
    }
    const k = m.keypoints;
    if (k) parts.push(`${k.inliers} inliers of ${k.good_matches} keypoints matched, scale ${k.scale}, rotation ${k.rotation}°`);
    const flood = m.suspicious && floods.get(`${m.algorithm}:${m.hash}`);
    return [parts.join('; '), m.suspicious ? h('span', { class: 'badge warn' },
      `flood guard: this entry matched ${flood ? plural(flood.files, 'file') : 'too many files'}`) : ''];
  }

  function listed(m) {
    const [first, ...others] = sourcesOf(m);
    return [h('strong', {}, printable(entryName(first))), first.label ? [' ', printable(first.label)] : '',
      h('span', { class: 'where' }, ` ${printable(first.list)}:${first.line}`),
      others.map(s => h('div', { class: 'where' }, `also ${printable(s.list)}:${s.line} ${printable(entryName(s))} ${printable(s.label || '')}`))];
  }

  function matchTable(matches) {
    const rows = matches.map(m => {
      const meter = h('span', { class: 'meter', title: 'closeness: full when identical, empty past the threshold' }, h('span', {}));
      meter.firstChild.style.width = `${m.threshold ? 100 * (1 - m.distance / (m.threshold + 1)) : 100}%`;
      const distance = m.algorithm === 'orb1' ? 'keypoints'
        : m.threshold ? [`${m.distance} / ${m.threshold}`, meter] : 'exact';
      return h('tr', {}, h('td', {}, m.algorithm), h('td', {}, distance), h('td', {}, evidence(m)), h('td', {}, listed(m)));
    });
    return h('table', { class: 'matches' },
      h('tr', {}, ['Algorithm', 'Distance', 'Evidence', 'Listed entry'].map(t => h('th', {}, t))), rows);
  }

  function preview(item) {
    if (item.kind !== 'flagged' || data.previews === null) return null;
    const p = data.previews[item.n] || {};
    if (!p.src) return h('p', { class: 'no-preview' }, `No preview: ${printable(p.none)}.`);
    const image = h('img', { alt: 'The flagged picture', loading: 'lazy', decoding: 'async', referrerpolicy: 'no-referrer' });
    image.src = p.src;
    return h('button', { type: 'button', class: 'preview', 'aria-pressed': 'false', title: 'Click (or v) to show; click again (or Esc) to blur' }, image);
  }

  function renderItem(item, index) {
    const e = item.entry;
    const box = h('input', { type: 'checkbox', class: 'reviewed-box' });
    box.checked = reviewed.has(item.key);
    const body = [];
    const facts = [e.media_type && printable(e.media_type), e.size !== undefined && bytes(e.size),
      e.sha256 && `SHA-256 ${e.sha256.slice(0, 16)}…`, e.from_store && `hashes from the store (${printable(e.from_store)})`,
      e.etag && `ETag ${printable(e.etag)}`, e.version_id && `version ${printable(e.version_id)}`].filter(Boolean);
    if (facts.length) body.push(h('p', { class: 'facts' }, facts.join(' · ')));
    if (e.chain) body.push(h('p', {}, 'Inside archive: ', e.chain.map(printable).join(' › ')));
    const c = e.context;
    if (c) {
      body.push(h('p', {}, `Sent${c.sender ? ` by ${printable(c.sender)}` : ''}${c.sender_id ? ` (${printable(c.sender_id)})` : ''}`,
        `${c.chat ? ` in ${printable(c.chat)}` : ''}${c.sent_at ? ` at ${printable(c.sent_at)}` : ''}`,
        ` · ${printable(c.app)}${c.message_id ? ` message ${printable(c.message_id)}` : ''}`));
    }
    if (e.matches) body.push(matchTable(e.matches));
    if (e.perceptual_error) body.push(h('p', {}, `Perceptual hashes failed: ${printable(e.perceptual_error)}`));
    if (item.kind === 'error') body.push(h('p', {}, `${printable(e.stage)}, ${printable(e.kind)}: ${printable(e.reason)}`));
    if (item.kind === 'skipped') body.push(h('p', {}, printable(e.reason)));
    if (item.kind === 'low_quality') body.push(h('p', {}, `PDQ quality ${e.quality}`));
    if (item.kind === 'few_keypoints') body.push(h('p', {}, `${e.keypoints} keypoints`));
    const node = h('li', { class: `item ${item.kind}`, 'data-key': item.key, 'data-index': index },
      h('div', { class: 'head' }, h('span', { class: `badge ${item.kind}` }, KINDS[item.kind]),
        h('code', { class: 'path' }, printable(e.path)),
        h('label', { class: 'mark' }, box, ' reviewed')),
      h('div', { class: 'body' }, h('div', {}, body), preview(item)));
    node.classList.toggle('reviewed', box.checked);
    return node;
  }

  // ---- Filters, paging, keys -------------------------------------------------------------

  let shown = [];
  let page = 0;
  let selected = -1;
  let revealed = null;

  function options(select, choices) {
    select.replaceChildren(...choices.map(([value, text]) => {
      const option = h('option', {}, text);
      option.value = value;
      return option;
    }));
  }
  function fillFilters() {
    const kinds = new Map();
    for (const item of items) kinds.set(item.kind, (kinds.get(item.kind) || 0) + 1);
    const notScreened = (kinds.get('error') || 0) + (kinds.get('skipped') || 0);
    options(byId('filter-status'), [['', `Everything (${count(items.length)})`],
      ['not_screened', `Not screened (${count(notScreened)})`],
      ...[...kinds].map(([kind, n]) => [kind, `${KINDS[kind]} (${count(n)})`])]);
    const matched = items.filter(item => item.entry.matches);
    const labels = new Map();
    const algorithms = new Set();
    for (const item of matched) {
      for (const m of item.entry.matches) {
        algorithms.add(m.algorithm);
        for (const s of sourcesOf(m)) labels.set(s.label || '', (labels.get(s.label || '') || 0) + 1);
      }
    }
    options(byId('filter-list'), [['', 'Any'], ...[...(report.lists || []), ...(report.allowlists || [])]
      .map(l => [l.path, printable(l.path)])]);
    const common = [...labels].sort((a, b) => b[1] - a[1]).slice(0, LABEL_CHOICES);
    options(byId('filter-label'), [['\u0000', 'Any'], ...common.map(([label]) => [label, label ? printable(label) : '(no label)'])]);
    options(byId('filter-algorithm'), [['', 'Any'], ...[...algorithms].sort().map(a => [a, a])]);
    options(byId('filter-reviewed'), [['', 'Any'], ['no', 'Not yet reviewed'], ['yes', 'Reviewed']]);
  }

  function applyFilters() {
    const status = byId('filter-status').value;
    const list = byId('filter-list').value;
    const label = byId('filter-label').value;
    const algorithm = byId('filter-algorithm').value;
    const distanceText = byId('filter-distance').value;
    const distance = distanceText === '' ? null : Number(distanceText);
    const review = byId('filter-reviewed').value;
    const text = byId('filter-text').value.toLowerCase();
    const anyLabel = label === '\u0000';
    const onMatches = list || !anyLabel || algorithm || distance !== null;
    const matchPasses = m => (!algorithm || m.algorithm === algorithm)
      && (distance === null || m.distance <= distance)
      && sourcesOf(m).some(s => (!list || s.list === list) && (anyLabel || (s.label || '') === label));
    shown = items.filter(item =>
      (!status || item.kind === status || (status === 'not_screened' && (item.kind === 'error' || item.kind === 'skipped')))
      && (!onMatches || (item.entry.matches && item.entry.matches.some(matchPasses)))
      && (!review || reviewed.has(item.key) === (review === 'yes'))
      && (!text || item.search.includes(text)));
    page = 0;
    selected = shown.length ? 0 : -1;
    render();
  }

  function render() {
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    const start = page * PAGE_SIZE;
    const end = Math.min(shown.length, start + PAGE_SIZE);
    const inGroup = new Map();
    for (const item of shown) inGroup.set(item.group, (inGroup.get(item.group) || 0) + 1);
    const nodes = [];
    let last = null;
    for (let i = start; i < end; i++) {
      const item = shown[i];
      if (item.group !== last) {
        const more = i === start && i > 0 && shown[i - 1].group === item.group ? ' (continued)' : '';
        nodes.push(h('li', { class: 'group' }, item.group.title(), ` — ${plural(inGroup.get(item.group), 'file')}${more}`));
        last = item.group;
      }
      nodes.push(renderItem(item, i));
    }
    if (!shown.length) nodes.push(h('li', { class: 'group' }, 'No file passes these filters.'));
    revealed = null;
    byId('items').replaceChildren(...nodes);
    byId('shown').textContent = `${plural(shown.length, 'file')} shown`;
    byId('shown').dataset.count = shown.length;
    byId('page').textContent = `page ${page + 1} of ${pages}`;
    byId('page-prev').disabled = page === 0;
    byId('page-next').disabled = page >= pages - 1;
    showReviewedCount();
    markSelected(false);
  }

  function markSelected(scroll) {
    for (const node of document.querySelectorAll('li.item.selected')) node.classList.remove('selected');
    const node = document.querySelector(`li.item[data-index="${selected}"]`);
    if (!node) return;
    node.classList.add('selected');
    if (scroll) node.scrollIntoView({ block: 'nearest' });
  }
  function select(index) {
    if (!shown.length) return;
    selected = Math.max(0, Math.min(shown.length - 1, index));
    const wanted = Math.floor(selected / PAGE_SIZE);
    if (wanted !== page) { page = wanted; render(); }
    markSelected(true);
  }
  function turn(delta) {
    const pages = Math.ceil(shown.length / PAGE_SIZE);
    const wanted = Math.max(0, Math.min(pages - 1, page + delta));
    if (wanted === page) return;
    page = wanted;
    selected = page * PAGE_SIZE;
    render();
    window.scrollTo(0, byId('review').offsetTop);
  }

  // One picture at a time: showing one blurs the one shown before.
  function reveal(button, on) {
    if (on && revealed && revealed !== button) reveal(revealed, false);
    button.classList.toggle('revealed', on);
    button.setAttribute('aria-pressed', String(on));
    revealed = on ? button : (revealed === button ? null : revealed);
  }

  function wire() {
    const filters = byId('filters');
    // A select says it changed, a field as it is typed in.
    filters.addEventListener('change', event => { if (event.target.tagName === 'SELECT') applyFilters(); });
    filters.addEventListener('input', event => { if (event.target.tagName === 'INPUT') applyFilters(); });
    filters.addEventListener('submit', event => event.preventDefault());
    filters.addEventListener('reset', () => setTimeout(applyFilters));
    byId('page-prev').addEventListener('click', () => turn(-1));
    byId('page-next').addEventListener('click', () => turn(1));
    byId('items').addEventListener('click', event => {
      const node = event.target.closest('li.item');
      if (!node) return;
      selected = Number(node.dataset.index);
      markSelected(false);
      const button = event.target.closest('button.preview');
      if (button) reveal(button, !button.classList.contains('revealed'));
    });
    byId('items').addEventListener('change', event => {
      if (!event.target.classList.contains('reviewed-box')) return;
      setReviewed(shown[Number(event.target.closest('li.item').dataset.index)], event.target.checked);
    });
    document.addEventListener('keydown', event => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.target.closest('input:not([type=checkbox]), select, textarea')) {
        if (event.key === 'Escape') event.target.blur();
        return;
      }
      const node = document.querySelector('li.item.selected');
      const button = node && node.querySelector('button.preview');
      switch (event.key) {
        case 'j': case 'ArrowDown': select(selected + 1); break;
        case 'k': case 'ArrowUp': select(selected - 1); break;
        case 'n': case 'ArrowRight': turn(1); break;
        case 'p': case 'ArrowLeft': turn(-1); break;
        case 'x': if (selected >= 0) setReviewed(shown[selected], !reviewed.has(shown[selected].key)); break;
        case 'v': if (button) reveal(button, !button.classList.contains('revealed')); break;
        case 'Escape': if (revealed) reveal(revealed, false); break;
        case '/': byId('filter-text').focus(); break;
        default: return;
      }
      event.preventDefault();
    });
  }

  renderHeader();
  renderSummary();
  byId('plot-labels').append(plotLabels());
  byId('plot-distances').append(...[plotDistances()].flat());
  fillFilters();
  wire();
  applyFilters();
  document.body.dataset.ready = 'true';
})();
