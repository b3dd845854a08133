// skyfence operators' screen: map, incidents, track table. Plain ES module, no build step;
// MapLibre GL JS, topojson-client and world-atlas are vendored from npm (scripts/vendor-web.sh).
import * as ml from './vendor/maplibre-gl.mjs';
import {incidentDetail, profileSvg} from './detail.js';

const $ = (sel) => document.querySelector(sel);
const SEVERITY_RANK = {critical: 0, warning: 1, info: 2};
const COLORS = {critical: '#ff3b3b', warning: '#ffb020', drone: '#e879f9', jet: '#ffd166',
  helicopter: '#7ee0c3', propeller: '#b9e769', balloon: '#f0f0f0', airliner: '#9fd3ff'};
const KT_PER_MS = 1.943844;

// Everything the page knows; window.skyfence for the browser tests and the curious.
const S = {
  me: null, config: null, map: null, tracks: new Map(), dataTime: null,
  incidents: [], firstSeen: {}, eventSeen: {}, selTrack: null, selIncident: null,
  follow: false, trails: true, rings: true, tab: 'incidents', all: false,
  sort: {key: 'severity', dir: 1}, stream: null, zoneBounds: null, ready: false,
  stacks: new Map(),
};
window.skyfence = S;

// ------------------------------------------------------------------ server
export async function api(path, opts = {}) {
  const r = await fetch(path, {credentials: 'same-origin', ...opts});
  if (r.status === 401) { showLogin(); throw new Error('not logged in'); }
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) throw new Error((body && body.detail) ? String(body.detail) : r.statusText);
  return body;
}

function post(path, doc) {
  return api(path, {method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify(doc || {})});
}

// --------------------------------------------------------------- URL state
function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const c = (h.get('c') || '').split(',').map(Number);
  return {center: c.length === 2 && c.every(Number.isFinite) ? [c[1], c[0]] : null,
    zoom: h.has('z') ? Number(h.get('z')) : null, track: h.get('trk'), incident: h.get('inc'),
    tab: h.get('tab'), setup: h.get('setup')};
}

function writeHash() {
  if (!S.map) return;
  const c = S.map.getCenter();
  const h = new URLSearchParams();
  h.set('c', `${c.lat.toFixed(4)},${c.lng.toFixed(4)}`);
  h.set('z', S.map.getZoom().toFixed(2));
  if (S.selTrack) h.set('trk', S.selTrack);
  if (S.selIncident) h.set('inc', S.selIncident);
  if (S.tab !== 'incidents') h.set('tab', S.tab);
  history.replaceState(null, '', '#' + h.toString());
}

// ------------------------------------------------------------------- login
function showLogin() {
  if (S.stream) { S.stream.close(); S.stream = null; }
  $('#login').hidden = false;
  $('#login-form').hidden = false;
  $('#setup-form').hidden = true;
  $('#login-form [name=username]').focus();
}

function showSetup(token) {
  $('#login').hidden = false;
  $('#login-form').hidden = true;
  $('#setup-form').hidden = false;
  $('#setup-form').onsubmit = async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      await post('/api/setup', {token, name: f.get('name'), password: f.get('password')});
      history.replaceState(null, '', '#');
      showLogin();
      $('#login-form [name=username]').value = f.get('name');
    } catch (e) { $('#setup-error').textContent = e.message; }
  };
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const r = await fetch('/api/auth/login', {method: 'POST', body: new URLSearchParams(new FormData(ev.target))});
  if (!r.ok) {
    const d = await r.json().catch(() => ({}));
    $('#login-error').textContent = d.detail || r.statusText;
    return;
  }
  $('#login-error').textContent = '';
  $('#login').hidden = true;
  await start();
});

$('#logout').addEventListener('click', async () => {
  await fetch('/api/auth/logout', {method: 'POST'});
  location.reload();
});

// --------------------------------------------------------------------- map
function planeIcon() {
  const n = 40, c = document.createElement('canvas');
  c.width = c.height = n;
  const g = c.getContext('2d');
  g.fillStyle = '#fff';
  g.beginPath();  // an aircraft seen from above, nose up (north)
  g.moveTo(20, 2); g.lineTo(23, 14); g.lineTo(38, 22); g.lineTo(38, 25); g.lineTo(23, 21);
  g.lineTo(22, 32); g.lineTo(28, 36); g.lineTo(28, 38); g.lineTo(20, 36); g.lineTo(12, 38);
  g.lineTo(12, 36); g.lineTo(18, 32); g.lineTo(17, 21); g.lineTo(2, 25); g.lineTo(2, 22);
  g.lineTo(17, 14); g.closePath(); g.fill();
  return g.getImageData(0, 0, n, n);
}

// A circle of radius_km around (lat, lon) on the sphere, as a closed ring of [lon, lat].
export function ring(lat, lon, radiusKm, n = 128) {
  const R = 6371.0088, d = radiusKm / R, p1 = lat * Math.PI / 180, l1 = lon * Math.PI / 180;
  const out = [];
  for (let i = 0; i <= n; i++) {
    const b = 2 * Math.PI * i / n;
    const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
    const l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
    out.push([((l2 * 180 / Math.PI + 540) % 360) - 180, p2 * 180 / Math.PI]);
  }
  return out;
}

function trackColor(t) {
  if (t.severity === 'critical' || t.severity === 'warning') return COLORS[t.severity];
  if (t.category && COLORS[t.category]) return COLORS[t.category];
  return t.cooperative ? COLORS.airliner : COLORS.drone;
}

function fc(features) { return {type: 'FeatureCollection', features}; }

function bboxOf(geojson) {
  let b = [180, 90, -180, -90];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])];
    } else c.forEach(walk);
  };
  walk(geojson.coordinates);
  return b;
}

function limitText(v, ground) {
  return v === null || v === undefined ? ground : `${Math.round(v)} m`;
}

async function initMap() {
  const hash = readHash();
  const bb = S.config.bbox;
  S.zoneBounds = [[bb[0], bb[1]], [bb[2], bb[3]]];
  const map = new ml.Map({
    container: 'map',
    style: {version: 8, sources: {}, layers: [
      {id: 'sea', type: 'background', paint: {'background-color': '#0a1723'}}]},
    bounds: hash.center ? undefined : S.zoneBounds,
    fitBoundsOptions: {padding: 40},
    center: hash.center || undefined, zoom: hash.zoom ?? undefined,
    attributionControl: {customAttribution:
      'Land: Natural Earth via world-atlas · Boundaries: © OpenStreetMap contributors (ODbL)'},
  });
  S.map = map;
  map.addControl(new ml.NavigationControl({showCompass: false}), 'top-left');
  map.addControl(new ml.ScaleControl({unit: 'nautical'}), 'bottom-right');
  await new Promise((ok) => map.on('load', ok));
  map.addImage('plane', planeIcon(), {sdf: true});

  const [topo, boundaries, zones, sensors] = await Promise.all([
    fetch('vendor/land-50m.json').then((r) => r.json()),
    api('/api/boundaries'), api('/api/zones'), api('/api/sensors')]);
  map.addSource('land', {type: 'geojson', data: topojson.feature(topo, topo.objects.land)});
  map.addLayer({id: 'land', type: 'fill', source: 'land', paint: {'fill-color': '#17232f'}});
  map.addSource('boundaries', {type: 'geojson', data: boundaries});
  map.addLayer({id: 'boundaries', type: 'line', source: 'boundaries',
    paint: {'line-color': '#6f8499', 'line-width': 1, 'line-dasharray': [3, 2]}});
  map.addSource('zones', {type: 'geojson', data: zones});
  map.addLayer({id: 'zones-fill', type: 'fill', source: 'zones',
    paint: {'fill-color': '#ff5a5a', 'fill-opacity': 0.12}});
  map.addLayer({id: 'zones-line', type: 'line', source: 'zones',
    paint: {'line-color': '#ff5a5a', 'line-width': 1.6}});
  for (const f of zones.features) {  // name, floor and ceiling beside each zone
    const b = bboxOf(f.geometry), p = f.properties;
    const el = document.createElement('div');
    el.className = 'zone-label';
    const name = p.title && p.title !== p.name && p.kind === 'national' ? `${p.name} (${p.title})` : p.name;
    el.textContent = `${name} · ${limitText(p.floor_m, 'SFC')}–${limitText(p.ceiling_m, 'UNL')}`;
    new ml.Marker({element: el, anchor: 'bottom'}).setLngLat([(b[0] + b[2]) / 2, b[3]]).addTo(map);
  }
  map.addSource('rings', {type: 'geojson', data: fc(sensors.flatMap((s) =>
    [50, 100, 150, 200, 250, 300, 400, 500].filter((r) => r <= s.range_km).concat([s.range_km])
      .map((r) => ({type: 'Feature', properties: {r},
        geometry: {type: 'LineString', coordinates: ring(s.lat, s.lon, r)}}))))});
  map.addLayer({id: 'rings', type: 'line', source: 'rings',
    paint: {'line-color': '#35546e', 'line-width': 1, 'line-dasharray': [1, 3]}});
  for (const s of sensors) {
    const el = document.createElement('div');
    el.className = 'sensor-label';
    el.textContent = `▲ ${s.name} (${Math.round(s.range_km)} km)`;
    new ml.Marker({element: el, anchor: 'top'}).setLngLat([s.lon, s.lat]).addTo(map);
  }
  map.addSource('inc-track', {type: 'geojson', data: fc([])});
  map.addLayer({id: 'inc-track', type: 'line', source: 'inc-track',
    paint: {'line-color': '#ffffff', 'line-width': 2, 'line-dasharray': [2, 1]}});
  map.addSource('trails', {type: 'geojson', data: fc([])});
  map.addLayer({id: 'trails', type: 'line', source: 'trails',
    paint: {'line-color': ['get', 'color'], 'line-width': 1.4, 'line-opacity': 0.7}});
  map.addSource('tracks', {type: 'geojson', data: fc([])});
  map.addLayer({id: 'selected', type: 'circle', source: 'tracks', filter: ['==', ['get', 'sel'], true],
    paint: {'circle-radius': 16, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#fff',
      'circle-stroke-width': 1.5}});
  map.addLayer({id: 'tracks', type: 'symbol', source: 'tracks', layout: {
    'icon-image': 'plane', 'icon-rotate': ['coalesce', ['get', 'heading'], 0],
    'icon-rotation-alignment': 'map', 'icon-allow-overlap': true, 'icon-ignore-placement': true,
    'icon-size': ['case', ['==', ['get', 'alert'], true], 0.75, 0.55]},
    paint: {'icon-color': ['get', 'color'], 'icon-halo-color': '#000', 'icon-halo-width': 1}});
  map.addSource('replay', {type: 'geojson', data: fc([])});
  map.addLayer({id: 'replay', type: 'circle', source: 'replay',
    paint: {'circle-radius': 7, 'circle-color': '#fff', 'circle-stroke-color': '#ff3b3b', 'circle-stroke-width': 3}});

  map.on('click', 'tracks', (e) => selectTrack(e.features[0].properties.id));
  map.on('mouseenter', 'tracks', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'tracks', () => { map.getCanvas().style.cursor = ''; });
  map.on('moveend', writeHash);
  map.on('zoomend', renderStacks);
  S.ready = true;
  S.trackLabel = new ml.Marker({element: Object.assign(document.createElement('div'),
    {className: 'track-label'}), anchor: 'left', offset: [14, 0]});
  renderMap();
}

// ----------------------------------------------------------------- stacks
// Aircraft flying together (the demo's three MiG-31s in formation, a holding stack)
// are drawn on top of each other at overview zoom. As on a tar1090-style map, every
// symbol stays exactly where its track is: on an incursion display a decluttered,
// displaced symbol could be drawn across a border it never crossed. What is added is a
// count badge on each group of symbols closer than STACK_PX on screen, listing the
// group's aircraft (callsign or track id, altitude, alert) on hover and, pinned, on
// click; a name in the list selects that track. Zooming in splits the group.
const STACK_PX = 14;

// Groups (arrays of indices, two or more) of screen points ``xy`` ([[x, y], ...]) linked
// by distances under ``r`` px (single linkage: a chain of close symbols is one stack);
// a grid of r-sized cells keeps it to the neighbouring cells.
export function stackGroups(xy, r) {
  const parent = xy.map((_, i) => i);
  const root = (i) => { while (parent[i] !== i) i = parent[i] = parent[parent[i]]; return i; };
  const cells = new Map();
  xy.forEach(([x, y], i) => {
    const cx = Math.floor(x / r), cy = Math.floor(y / r);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const j of cells.get(`${cx + dx},${cy + dy}`) || []) {
          if (Math.hypot(xy[j][0] - x, xy[j][1] - y) < r) parent[root(i)] = root(j);
        }
      }
    }
    const key = `${cx},${cy}`;
    if (!cells.has(key)) cells.set(key, []);
    cells.get(key).push(i);
  });
  const groups = new Map();
  xy.forEach((_, i) => {
    const k = root(i);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(i);
  });
  return [...groups.values()].filter((g) => g.length > 1);
}

function stackBadge(key) {
  const el = document.createElement('div');
  el.className = 'stack-badge';
  el.dataset.testid = 'stack';
  el.innerHTML = '<span class="n"></span><div class="stack-list" data-testid="stack-list"></div>';
  el.addEventListener('click', (e) => {
    const pick = e.target.closest('[data-track]');
    if (pick) { selectTrack(pick.dataset.track); return; }
    el.classList.toggle('pinned');
  });
  return {key, el, marker: new ml.Marker({element: el, anchor: 'bottom-left', offset: [7, -7]})};
}

function renderStacks() {
  if (!S.ready) return;
  const tracks = [...S.tracks.values()];
  const xy = tracks.map((t) => { const p = S.map.project([t.lon, t.lat]); return [p.x, p.y]; });
  const seen = new Set();
  for (const g of stackGroups(xy, STACK_PX)) {
    const members = g.map((i) => tracks[i]).sort((a, b) =>
      (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || (a.id < b.id ? -1 : 1));
    const key = members.map((t) => t.id).join(' ');
    seen.add(key);
    let b = S.stacks.get(key);
    if (!b) { b = stackBadge(key); S.stacks.set(key, b); b.marker.setLngLat([members[0].lon, members[0].lat]).addTo(S.map); }
    const lon = members.reduce((a, t) => a + t.lon, 0) / members.length;
    const lat = members.reduce((a, t) => a + t.lat, 0) / members.length;
    b.marker.setLngLat([lon, lat]);
    b.el.dataset.ids = key;
    b.el.querySelector('.n').textContent = String(members.length);
    b.el.title = `${members.length} aircraft here: ` + members.map((t) => t.callsign || t.id).join(', ');
    const html = members.map((t) => `<div data-track="${esc(t.id)}" class="${t.severity ? 'sev-' + t.severity : ''}">
      <b>${esc(t.callsign || t.id)}</b>${t.callsign ? ` <small>${esc(t.id)}</small>` : ''}
      <span>${t.altitude_m === null || t.altitude_m === undefined ? '–' : Math.round(t.altitude_m) + ' m'}</span>
      ${t.severity ? `<span class="badge ${t.severity}">${t.severity}</span>` : ''}</div>`).join('');
    const list = b.el.querySelector('.stack-list');
    if (list.dataset.html !== html) { list.innerHTML = html; list.dataset.html = html; }
  }
  for (const [key, b] of S.stacks) if (!seen.has(key)) { b.marker.remove(); S.stacks.delete(key); }
}

let mapPending = false;
function renderMap() {
  if (mapPending || !S.ready) return;
  mapPending = true;
  requestAnimationFrame(() => {
    mapPending = false;
    const pts = [], trails = [];
    for (const t of S.tracks.values()) {
      const color = trackColor(t);
      pts.push({type: 'Feature', geometry: {type: 'Point', coordinates: [t.lon, t.lat]},
        properties: {id: t.id, heading: t.heading_deg, color, sel: t.id === S.selTrack,
          alert: !!t.severity}});
      if (S.trails && t.trail.length > 1) {
        trails.push({type: 'Feature', properties: {color},
          geometry: {type: 'LineString', coordinates: [...t.trail, [t.lon, t.lat]]}});
      }
    }
    S.map.getSource('tracks').setData(fc(pts));
    S.map.getSource('trails').setData(fc(trails));
    renderStacks();
    const sel = S.selTrack && S.tracks.get(S.selTrack);
    if (sel) {
      S.trackLabel.getElement().textContent = `${sel.callsign || sel.id} ${sel.altitude_m !== null ? Math.round(sel.altitude_m) + ' m' : ''}`;
      S.trackLabel.setLngLat([sel.lon, sel.lat]).addTo(S.map);
      if (S.follow) S.map.easeTo({center: [sel.lon, sel.lat], duration: 300});
    } else S.trackLabel.remove();
  });
}

function selectTrack(id) {
  S.selTrack = id;
  const t = id && S.tracks.get(id);
  if (t && !S.map.getBounds().contains([t.lon, t.lat])) S.map.easeTo({center: [t.lon, t.lat]});
  renderMap(); renderTable(); writeHash();
}

// ---------------------------------------------------------------- stream
function openStream() {
  if (S.stream) S.stream.close();
  const es = new EventSource('/api/stream');
  S.stream = es;
  es.onopen = () => { $('#link').className = 'link-up'; };
  es.onerror = async () => {
    $('#link').className = 'link-down';
    if (es.readyState === EventSource.CLOSED) {  // refused (401?): check, then try again
      const r = await fetch('/api/auth/me');
      if (r.status === 401) showLogin(); else setTimeout(openStream, 2000);
    }
  };
  es.addEventListener('snapshot', (e) => {
    const d = JSON.parse(e.data);
    S.tracks = new Map(d.tracks.map((t) => [t.id, t]));
    tracksChanged();
    loadIncidents();
  });
  es.addEventListener('tracks', (e) => {
    const d = JSON.parse(e.data);
    const keep = S.config.trail_s;
    const tracks = d.rows.map((row) => Object.fromEntries(d.cols.map((c, i) => [c, row[i]])));
    for (const t of tracks) {  // updates come without trails: extend the one we have
      t.cooperative = !!t.cooperative;
      const old = S.tracks.get(t.id);
      const trail = old ? old.trail : [];
      if (old && (!trail.length || t.time - (old.trailT ?? 0) >= 4)) {
        trail.push([old.lon, old.lat]);
        t.trailT = old.time;
      } else if (old) t.trailT = old.trailT;
      const drop = Math.max(0, trail.length - Math.ceil(keep / 4));
      t.trail = drop ? trail.slice(drop) : trail;
      S.tracks.set(t.id, t);
    }
    for (const id of d.gone) S.tracks.delete(id);
    S.dataTime = d.time;
    tracksChanged();
  });
  es.addEventListener('incident', (e) => {
    const d = JSON.parse(e.data);
    const inc = d.event ? d.event.incident : d.incident;
    if (inc && !(inc.id in S.eventSeen)) S.eventSeen[inc.id] = Date.now();
    if (d.event && d.event.track && S.tracks.has(d.event.track) && ['entry', 'update'].includes(d.event.event)) {
      const t = S.tracks.get(d.event.track);
      t.severity = d.event.severity;
      t.zone = d.event.zone;
      renderMap();
    }
    scheduleIncidents();
    if (inc && inc.id === S.selIncident) openIncident(inc.id, false);
  });
}

// the bar's counts and the tabs' from the same numbers, updated with either
function renderCounts() {
  const open = S.incidents.filter((r) => r.state === 'open').length;
  $('#n-inc').textContent = `(${open} open)`;
  $('#n-trk').textContent = `(${S.tracks.size})`;
  $('#counts').textContent = `${S.tracks.size} tracks · ${open} open incident(s)`;
}

function tracksChanged() {
  renderCounts();
  renderMap();
  scheduleTable();
}

// ------------------------------------------------------------- incidents
let incTimer = null;
function scheduleIncidents() {
  if (incTimer === null) incTimer = setTimeout(() => { incTimer = null; loadIncidents(); }, 50);
}

async function loadIncidents() {
  const d = await api('/api/incidents' + (S.all ? '?all=true' : ''));
  const now = Date.now();
  for (const r of d.incidents) if (!(r.id in S.firstSeen)) S.firstSeen[r.id] = now;
  S.incidents = d.incidents;
  renderIncidents();
}

// "ago" on the picture's clock (the data's time): a replay runs faster than the wall
function ago(iso) {
  const nowMs = S.dataTime ? S.dataTime * 1000 : Date.now();
  const s = Math.max(0, (nowMs - Date.parse(iso)) / 1000);
  return s < 90 ? `${Math.round(s)} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : iso.slice(0, 16).replace('T', ' ');
}

function canOperate() { return S.me && (S.me.role === 'operator' || S.me.role === 'admin'); }

function renderIncidents() {
  renderCounts();
  const ol = $('#incidents');
  ol.replaceChildren(...S.incidents.map((r) => {
    const li = document.createElement('li');
    li.className = `sev-${r.severity} state-${r.state}` + (r.emergency ? ' emergency' : '');
    li.dataset.id = r.id;
    li.dataset.state = r.state;
    li.innerHTML = `<div class="row1">${r.emergency ? '<span class="badge emergency">emergency</span>' : ''}
      <span class="badge ${r.severity}">${r.severity}</span><b>${esc(r.zone)}</b>
      <span>${esc(r.callsign || r.track)}</span><span class="badge state">${r.state}</span></div>
      <div class="row2"><span>${ago(r.first_entered_at)}</span>
      <span>${(r.max_depth_m / 1000).toFixed(1)} km deep</span>
      <span>${r.open_entries ? 'inside now' : 'left'}</span>
      <span>steps ${r.steps_done}/${r.steps}</span></div>`;
    if (r.state === 'open' && canOperate()) {
      const b = document.createElement('button');
      b.className = 'ack primary';
      b.textContent = 'acknowledge';
      b.dataset.testid = 'ack';
      b.onclick = (ev) => { ev.stopPropagation(); act(r.id, 'ack'); };
      li.querySelector('.row1').append(b);
    }
    li.onclick = () => openIncident(r.id);
    return li;
  }));
}

export async function act(id, action, body) {
  try {
    await post(`/api/incidents/${id}/${action}`, body);
  } catch (e) { alert(e.message); }
  await loadIncidents();
  if (S.selIncident === id) openIncident(id, false);
}

export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}

async function openIncident(id, fit = true) {
  S.selIncident = id;
  writeHash();
  const [d, tr] = await Promise.all([api(`/api/incidents/${id}`), api(`/api/incidents/${id}/track`)]);
  const pts = tr.points.map((p) => [p.lon, p.lat]);
  S.map.getSource('inc-track').setData(fc(pts.length > 1 ? [{type: 'Feature', properties: {},
    geometry: {type: 'LineString', coordinates: pts}}] : []));
  // the incident's aircraft, when it is still on the picture: selected (ring and label:
  // which of several alike symbols it is) and kept in the fitted view (the stored fixes
  // lag the live picture by up to a flush of the recorder), with where it will be a
  // minute on at its speed and heading, so that it does not fly out of view at once
  const live = S.tracks.get(d.incident.track);
  const inView = live ? [...pts, [live.lon, live.lat], ahead(live, 60)] : pts;
  if (fit && live) {
    S.selTrack = live.id;
    renderMap();
  }
  if (fit && inView.length > 1) {
    const b = inView.reduce((a, p) => [Math.min(a[0], p[0]), Math.min(a[1], p[1]), Math.max(a[2], p[0]), Math.max(a[3], p[1])],
      [180, 90, -180, -90]);
    S.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {padding: 80, maxZoom: 11, duration: 0});
  }
  // an update of the incident on screen keeps what the operator was doing there
  const same = $('#detail').dataset.id === id && !$('#detail').hidden;
  const slider = same && $('#detail [data-testid=replay]');
  const keep = {replay: slider ? Number(slider.value) : null,
    note: same && $('#detail textarea') ? $('#detail textarea').value : ''};
  $('#detail').dataset.id = id;
  $('#detail').hidden = false;
  $('#tab-incidents').hidden = true;
  $('#tab-tracks').hidden = true;
  incidentDetail($('#detail'), d, tr, {
    canOperate: canOperate(), act, esc, profileSvg, keep,
    close: closeIncident,
    replay: (p) => S.map.getSource('replay').setData(fc(p ? [{type: 'Feature', properties: {},
      geometry: {type: 'Point', coordinates: [p.lon, p.lat]}}] : [])),
  });
}

// [lon, lat] of track ``t`` ``s`` seconds on along its heading (flat earth: a minute of
// flight is a few km); where it is when speed or heading are unknown.
export function ahead(t, s) {
  if (t.speed_ms === null || t.speed_ms === undefined || t.heading_deg === null || t.heading_deg === undefined) return [t.lon, t.lat];
  const d = t.speed_ms * s, h = t.heading_deg * Math.PI / 180;
  return [t.lon + d * Math.sin(h) / (111320 * Math.cos(t.lat * Math.PI / 180)), t.lat + d * Math.cos(h) / 111320];
}

function closeIncident() {
  S.selIncident = null;
  $('#detail').hidden = true;
  S.map.getSource('inc-track').setData(fc([]));
  S.map.getSource('replay').setData(fc([]));
  showTab(S.tab);
  writeHash();
}

// ----------------------------------------------------------------- tracks
let tableTimer = null;
function scheduleTable() {
  if (tableTimer === null) tableTimer = setTimeout(() => { tableTimer = null; renderTable(); }, 500);
}

function renderTable() {
  if (S.tab !== 'tracks') return;
  const q = $('#trk-filter').value.trim().toLowerCase();
  const alerting = $('#trk-alerting').checked;
  const now = S.dataTime || 0;
  let rows = [...S.tracks.values()].map((t) => ({...t, age: Math.max(0, now - t.time)}));
  if (q) rows = rows.filter((t) => [t.id, t.callsign, t.squawk, t.zone].some((v) => v && String(v).toLowerCase().includes(q)));
  if (alerting) rows = rows.filter((t) => t.severity);
  const {key, dir} = S.sort;
  const val = (t) => key === 'severity' ? (SEVERITY_RANK[t.severity] ?? 9) : t[key];
  rows.sort((a, b) => {
    const x = val(a), y = val(b);
    if (x === y) return a.id < b.id ? -1 : 1;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * dir;
  });
  const num = (v, f = 0) => v === null || v === undefined ? '' : Number(v).toFixed(f);
  $('#tracks tbody').replaceChildren(...rows.map((t) => {
    const tr = document.createElement('tr');
    tr.dataset.id = t.id;
    tr.className = (t.severity ? `sev-${t.severity}` : '') + (t.id === S.selTrack ? ' selected' : '');
    tr.innerHTML = `<td>${esc(t.id)}</td><td>${esc(t.callsign)}</td><td class="num">${num(t.altitude_m)}</td>
      <td class="num">${t.speed_ms === null ? '' : num(t.speed_ms * KT_PER_MS)}</td><td class="num">${num(t.heading_deg)}</td>
      <td>${esc(t.squawk)}</td><td>${esc(t.severity ? `${t.severity} ${t.zone || ''}` : '')}</td><td class="num">${num(t.age)}</td>`;
    tr.onclick = () => selectTrack(t.id);
    return tr;
  }));
  document.querySelectorAll('#tracks th').forEach((th) => {
    th.className = (th.classList.contains('num') ? 'num ' : '') + (th.dataset.key === key ? (dir > 0 ? 'sorted-asc' : 'sorted-desc') : '');
  });
}

document.querySelectorAll('#tracks th').forEach((th) => th.addEventListener('click', () => {
  S.sort = {key: th.dataset.key, dir: S.sort.key === th.dataset.key ? -S.sort.dir : 1};
  renderTable();
}));
$('#trk-filter').addEventListener('input', renderTable);
$('#trk-alerting').addEventListener('change', renderTable);
$('#inc-all').addEventListener('change', (e) => { S.all = e.target.checked; loadIncidents(); });

function showTab(tab) {
  S.tab = tab;
  document.querySelectorAll('#tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === tab));
  if (S.selIncident) return;
  $('#tab-incidents').hidden = tab !== 'incidents';
  $('#tab-tracks').hidden = tab !== 'tracks';
  renderTable();
  writeHash();
}
document.querySelectorAll('#tabs button').forEach((b) => b.addEventListener('click', () => {
  if (S.selIncident) closeIncident();
  showTab(b.dataset.tab);
}));

// --------------------------------------------------------------- keyboard
// As tar1090 users expect: WASD pan, Q/E zoom, H home, F follow, L trails, Esc deselect.
function onKey(e) {
  if (e.target.closest('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
  const m = S.map, k = e.key.toLowerCase(), step = 120;
  const actions = {
    w: () => m.panBy([0, -step]), s: () => m.panBy([0, step]), a: () => m.panBy([-step, 0]),
    d: () => m.panBy([step, 0]), q: () => m.zoomOut(), e: () => m.zoomIn(),
    h: () => m.fitBounds(S.zoneBounds, {padding: 40}),
    f: () => { S.follow = !S.follow; renderMap(); },
    l: () => { S.trails = !S.trails; renderMap(); },
    r: () => { S.rings = !S.rings; m.setLayoutProperty('rings', 'visibility', S.rings ? 'visible' : 'none'); },
    i: () => { if (S.selIncident) closeIncident(); showTab('incidents'); },
    t: () => { if (S.selIncident) closeIncident(); showTab('tracks'); },
    k: () => { const r = S.incidents.find((x) => x.state === 'open'); if (r && canOperate()) act(r.id, 'ack'); },
    escape: () => { if (S.selIncident) closeIncident(); else selectTrack(null); S.follow = false; },
    '?': () => { $('#help').hidden = !$('#help').hidden; },
  };
  const f = actions[k];
  if (f && m) { e.preventDefault(); f(); }
}
$('#help-btn').addEventListener('click', () => { $('#help').hidden = false; });
$('#help-close').addEventListener('click', () => { $('#help').hidden = true; });

// ------------------------------------------------------------------ start
// the wall clock; the data's clock beside it when they differ (a replay, a late feed)
function tickClock() {
  const wall = Date.now();
  let text = new Date(wall).toISOString().slice(11, 19) + ' UTC';
  if (S.dataTime && Math.abs(S.dataTime * 1000 - wall) > 5000) {
    text += ' · data ' + new Date(S.dataTime * 1000).toISOString().slice(11, 19);
  }
  $('#clock').textContent = text;
}

let started = false;
async function start() {
  S.me = await api('/api/auth/me');
  $('#who').textContent = `${S.me.name} (${S.me.role})`;
  $('#logout').hidden = false;
  if (started) { openStream(); return; }
  started = true;
  S.config = await api('/api/config');
  document.title = S.config.title;
  $('#title').textContent = S.config.title;
  const hash = readHash();
  S.selTrack = hash.track;
  await initMap();
  document.addEventListener('keydown', onKey);
  showTab(hash.tab === 'tracks' ? 'tracks' : 'incidents');
  openStream();
  await loadIncidents();
  if (hash.incident) openIncident(hash.incident, !hash.center);
  setInterval(tickClock, 1000);
  setInterval(() => renderIncidents(), 10000);  // the "ago" column
  setInterval(() => fetch('/api/auth/me'), 5 * 60 * 1000);  // keeps a session in use alive
}

async function boot() {
  tickClock();
  const hash = readHash();
  if (hash.setup) {
    const st = await fetch('/api/setup').then((r) => r.json());
    if (st.needed) { showSetup(hash.setup); return; }
  }
  let r;
  try {
    r = await fetch('/api/auth/me');
  } catch (e) {  // server not answering yet (starting, restarting): ask again shortly
    setTimeout(boot, 2000);
    return;
  }
  if (r.ok) await start();
  else if (r.status >= 500) setTimeout(boot, 2000);
  else showLogin();
}

boot();
