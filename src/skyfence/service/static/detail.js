// The incident detail panel: figures, actions, protocol steps, altitude profile, replay
// slider over the stored fixes, notes, audit and the dossier link.

const fmtTime = (iso) => (iso ? iso.slice(0, 19).replace('T', ' ') + 'Z' : '–');
const km = (m) => (m / 1000).toFixed(2) + ' km';

function duration(s) {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

// Altitude (m) against time of the stored fixes; the entry and exit marked; ``at`` (index)
// the replay position.
export function profileSvg(points, enteredAt, exitedAt, at) {
  const W = 400, H = 120, P = 24;
  const alt = points.filter((p) => p.altitude_m !== null);
  if (alt.length < 2) return `<svg class="profile" viewBox="0 0 ${W} ${H}"><text x="10" y="60" fill="#8ba0b3">no altitude</text></svg>`;
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  const a0 = Math.min(...alt.map((p) => p.altitude_m)), a1 = Math.max(...alt.map((p) => p.altitude_m));
  const x = (t) => P + (W - 2 * P) * (t - t0) / Math.max(1, t1 - t0);
  const y = (a) => H - P + -(H - 2 * P) * (a - a0) / Math.max(1, a1 - a0);
  const line = alt.map((p) => `${x(p.t).toFixed(1)},${y(p.altitude_m).toFixed(1)}`).join(' ');
  const mark = (t, c) => (t === null ? '' : `<line x1="${x(t)}" x2="${x(t)}" y1="${P / 2}" y2="${H - P}" stroke="${c}" stroke-dasharray="3 2"/>`);
  const cur = at !== null && points[at] ? `<circle cx="${x(points[at].t)}" cy="${points[at].altitude_m === null ? H - P : y(points[at].altitude_m)}" r="4" fill="#fff"/>` : '';
  return `<svg class="profile" viewBox="0 0 ${W} ${H}" data-testid="profile">
    ${mark(enteredAt, '#ff3b3b')}${mark(exitedAt, '#3ecf8e')}
    <polyline points="${line}" fill="none" stroke="#9fd3ff" stroke-width="1.5"/>${cur}
    <text x="2" y="${P / 2 + 4}" fill="#8ba0b3" font-size="10">${Math.round(a1)} m</text>
    <text x="2" y="${H - P + 4}" fill="#8ba0b3" font-size="10">${Math.round(a0)} m</text>
    <text x="${P}" y="${H - 6}" fill="#8ba0b3" font-size="10">${new Date(t0 * 1000).toISOString().slice(11, 19)}</text>
    <text x="${W - P}" y="${H - 6}" fill="#8ba0b3" font-size="10" text-anchor="end">${new Date(t1 * 1000).toISOString().slice(11, 19)}</text>
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
    <h3>Altitude profile</h3>${o.profileSvg(pts, entered, exited, null)}
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
    el.querySelector('.replay-at').textContent = `${new Date(p.t * 1000).toISOString().slice(11, 19)} · ${p.altitude_m === null ? '–' : Math.round(p.altitude_m) + ' m'}`;
    el.querySelector('svg.profile').outerHTML = o.profileSvg(pts, entered, exited, i);
    o.replay(p);
  };
  if (o.keep && o.keep.replay) {  // re-drawn after an update: where the operator was
    slider.value = String(o.keep.replay);
    slider.oninput();
  }
  const box = el.querySelector('textarea');
  if (box && o.keep && o.keep.note) box.value = o.keep.note;
}
