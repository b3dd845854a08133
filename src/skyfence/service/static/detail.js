// The incident detail panel: figures, actions, protocol steps, altitude profile, replay
// slider over the stored fixes, notes, audit and the dossier link.

const fmtTime = (iso) => (iso ? iso.slice(0, 19).replace('T', ' ') + 'Z' : '–');
const km = (m) => (m / 1000).toFixed(2) + ' km';

function duration(s) {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

// A "nice" grid step (1, 2 or 5 x 10^k) giving about ``n`` lines over ``span``.
function niceStep(span, n) {
  const raw = span / n, p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((k) => k * p).find((s) => s >= raw);
}

const hms = (t) => new Date(t * 1000).toISOString().slice(11, 19);

// The altitude to draw at a fix: the API's line (the reported height, smoothed when the
// heights scatter, as a 3D radar's do: skyfence.evidence.altitude), else the height.
export const lineAlt = (p) => p.altitude_line_m ?? p.altitude_m;

// Altitude (m) against time (UTC) of the stored fixes: the line, and when it is smoothed
// the reported heights as faint dots behind it; the entry and exit marked; ``at`` (index)
// the replay position.
export function profileSvg(points, enteredAt, exitedAt, at, smoothed = false) {
  const W = 400, H = 150, L = 44, R = 8, T = 18, B = 18;
  const alt = points.filter((p) => lineAlt(p) !== null && lineAlt(p) !== undefined);
  if (alt.length < 2) return `<svg class="profile" viewBox="0 0 ${W} ${H}" data-testid="profile"><text x="10" y="60" fill="#8ba0b3">no altitude reported</text></svg>`;
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  const shown = alt.map(lineAlt).concat(smoothed ? alt.map((p) => p.altitude_m) : []);
  let a0 = Math.min(...shown), a1 = Math.max(...shown);
  if (a1 - a0 < 400) { const mid = (a0 + a1) / 2; a0 = mid - 200; a1 = mid + 200; }
  const step = niceStep(a1 - a0, 4);
  a0 = Math.floor(a0 / step) * step; a1 = Math.ceil(a1 / step) * step;
  const x = (t) => L + (W - L - R) * (t - t0) / Math.max(1, t1 - t0);
  const y = (a) => H - B - (H - T - B) * (a - a0) / Math.max(1, a1 - a0);
  const grid = [];
  for (let a = a0; a <= a1 + 1e-6; a += step) {
    grid.push(`<line x1="${L}" x2="${W - R}" y1="${y(a).toFixed(1)}" y2="${y(a).toFixed(1)}" stroke="#1c2b3a"/>
      <text x="${L - 4}" y="${(y(a) + 3).toFixed(1)}" fill="#8ba0b3" font-size="10" text-anchor="end">${Math.round(a)}</text>`);
  }
  const dots = smoothed ? alt.map((p) => `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.altitude_m).toFixed(1)}" r="1.3"/>`).join('') : '';
  const line = alt.map((p) => `${x(p.t).toFixed(1)},${y(lineAlt(p)).toFixed(1)}`).join(' ');
  const mark = (t, c) => (t === null ? '' : `<line x1="${x(t)}" x2="${x(t)}" y1="${T}" y2="${H - B}" stroke="${c}" stroke-dasharray="3 2"/>`);
  const cur = at !== null && points[at] ? `<circle cx="${x(points[at].t)}" cy="${lineAlt(points[at]) === null ? H - B : y(lineAlt(points[at]))}" r="4" fill="#fff"/>` : '';
  const legend = smoothed ? 'line: smoothed over 60 s · dots: reported heights' : 'reported heights';
  return `<svg class="profile" viewBox="0 0 ${W} ${H}" data-testid="profile" data-smoothed="${smoothed}">
    ${grid.join('')}
    <text x="${L}" y="11" fill="#8ba0b3" font-size="10">altitude, m</text>
    <text x="${W - R}" y="11" fill="#8ba0b3" font-size="10" text-anchor="end">${legend}</text>
    <g fill="#9fd3ff" fill-opacity="0.35" data-testid="profile-dots">${dots}</g>
    ${mark(enteredAt, '#ff3b3b')}${mark(exitedAt, '#3ecf8e')}
    <polyline points="${line}" fill="none" stroke="#9fd3ff" stroke-width="2" data-testid="profile-line"/>${cur}
    <text x="${L}" y="${H - 4}" fill="#8ba0b3" font-size="10">${hms(t0)}Z</text>
    <text x="${W - R}" y="${H - 4}" fill="#8ba0b3" font-size="10" text-anchor="end">${hms(t1)}Z</text>
  </svg>`;
}

export function incidentDetail(el, d, tr, o) {
  const r = d.incident, esc = o.esc;
  const buttons = [];
  if (o.canOperate) {
    if (r.state === 'open') buttons.push(['ack', 'acknowledge', 'primary']);
    if (r.state !== 'closed') buttons.push(['close', 'close', '']);
    if (r.state !== 'open') buttons.push(['reopen', 'reopen', '']);
  }
  const steps = d.steps.map((s) => {
    const cls = s.done_at ? 'done' : (s.escalated_at ? 'escalated' : '');
    const when = s.done_at ? `done by ${esc(s.done_by)} ${fmtTime(s.done_at)}` : s.escalated_at ? `ESCALATED ${fmtTime(s.escalated_at)}` : s.after_s === null ? 'now' : `due ${fmtTime(s.due_at)}`;
    const btn = !s.done_at && o.canOperate ? ` <button data-step="${s.n}">done</button>` : '';
    return `<li class="${cls}">${esc(s.step)} <small>[${when}]</small>${btn}</li>`;
  }).join('');
  const audit = d.audit.map((a) => `<div>${fmtTime(a.at)} <b>${esc(a.kind)}</b> ${esc(a.operator)}${a.note ? ' — ' + esc(a.note) : ''}</div>`).join('');
  const entries = d.entries.map((e) => `<div>${fmtTime(e.entered_at)} → ${e.exited_at ? fmtTime(e.exited_at) : 'inside'} · ${km(e.max_depth_m)} · ${esc((e.reasons || [])[0] || '')}</div>`).join('');
  const cls = d.entries.length ? d.entries[d.entries.length - 1].classification : null;
  const dossier = d.dossier_url ? `<a href="${d.dossier_url}" data-testid="dossier-link" download>download the signed dossier (zip)</a>`
    : d.dossier ? `dossier ${esc(d.dossier.state)}` : 'no dossier (built for critical incidents once they are over)';
  const pts = tr.points;
  const entered = Date.parse(r.first_entered_at) / 1000;
  const exited = r.last_exited_at ? Date.parse(r.last_exited_at) / 1000 : null;
  el.innerHTML = `
    <h2><button data-close title="back (Esc)">←</button>${d.emergency ? '<span class="badge emergency">emergency</span>' : ''}
      <span class="badge ${r.severity}">${r.severity}</span> ${esc(r.zone)} · ${esc(r.callsign || r.track)}
      <span class="badge state" data-testid="detail-state">${r.state}</span></h2>
    <div class="actions">${buttons.map(([a, t, c]) => `<button data-act="${a}" class="${c}">${t}</button>`).join('')}</div>
    <dl>
      <dt>incident</dt><dd>${esc(r.id)}</dd>
      <dt>track</dt><dd>${esc(r.track)}${r.icao24 ? ' · ICAO ' + esc(r.icao24) : ''}</dd>
      <dt>category</dt><dd>${cls ? esc(cls.category) + (cls.cooperative ? ', transponder' : ', no transponder') + (cls.registration_state ? ', registered ' + esc(cls.registration_state) : '') : '–'}</dd>
      <dt>entered</dt><dd>${fmtTime(r.first_entered_at)}</dd>
      <dt>left</dt><dd>${r.open_entries ? 'still inside' : fmtTime(r.last_exited_at)}</dd>
      <dt>inside</dt><dd>${duration(r.inside_s)} in ${r.crossings} crossing(s)</dd>
      <dt>deepest</dt><dd>${km(r.max_depth_m)}</dd>
    </dl>
    <h3>Protocol</h3><ol class="steps">${steps || '<li>none</li>'}</ol>
    <h3>Altitude profile</h3>${o.profileSvg(pts, entered, exited, null, tr.altitude_smoothed)}
    <div class="replay"><span>replay</span><input type="range" min="0" max="${Math.max(0, pts.length - 1)}" value="0" data-testid="replay" ${pts.length ? '' : 'disabled'}>
      <span class="replay-at">${pts.length ? '' : 'no stored fixes'}</span></div>
    <h3>Entries</h3><div class="audit">${entries}</div>
    <h3>Dossier</h3><div>${dossier}</div>
    <h3>Notes and audit</h3>
    ${o.canOperate ? '<textarea rows="2" placeholder="add a note"></textarea><div class="actions"><button data-note>add note</button></div>' : ''}
    <div class="audit" data-testid="audit">${audit}</div>`;
  el.querySelector('[data-close]').onclick = o.close;
  el.querySelectorAll('[data-act]').forEach((b) => { b.onclick = () => o.act(r.id, b.dataset.act); });
  el.querySelectorAll('[data-step]').forEach((b) => { b.onclick = () => o.act(r.id, `steps/${b.dataset.step}`); });
  const note = el.querySelector('[data-note]');
  if (note) {
    note.onclick = () => {
      const text = el.querySelector('textarea').value.trim();
      if (text) o.act(r.id, 'notes', {text});
    };
  }
  const slider = el.querySelector('[data-testid=replay]');
  slider.oninput = () => {
    const i = Number(slider.value), p = pts[i];
    if (!p) return;
    const a = lineAlt(p), plot = tr.altitude_smoothed && p.altitude_m !== null ? ` (plot ${Math.round(p.altitude_m)} m)` : '';
    el.querySelector('.replay-at').textContent = `${hms(p.t)}Z · ${a === null || a === undefined ? '–' : Math.round(a) + ' m'}${plot}`;
    el.querySelector('svg.profile').outerHTML = o.profileSvg(pts, entered, exited, i, tr.altitude_smoothed);
    o.replay(p);
  };
  if (o.keep && o.keep.replay) {  // re-drawn after an update: where the operator was
    slider.value = String(o.keep.replay);
    slider.oninput();
  }
  const box = el.querySelector('textarea');
  if (box && o.keep && o.keep.note) box.value = o.keep.note;
}
