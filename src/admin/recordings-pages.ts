/**
 * HTML for the recordings web UI (/ui/): the login form, the list of recorded sessions and the
 * player page. Everything interpolated is HTML-escaped; pages carry no inline script (the
 * Content-Security-Policy forbids it), the player is started by /ui/assets/play.js reading
 * data attributes.
 */
import type { RecordedSession } from '../recording/catalog.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Pages: own scripts only; 'wasm-unsafe-eval' because asciinema-player's terminal emulator is
 * WebAssembly; inline styles because the player sizes its terminal with style attributes.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function page(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} - Gatehouse</title>
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/gatehouse-ui.css">${head}
</head><body>
<header><a href="/ui/">Gatehouse recordings</a></header>
<main>
${body}
</main></body></html>
`;
}

export function loginPage(problem?: string): string {
  return page(
    'Sign in',
    `<h1>Admin sign-in</h1>
${problem ? `<p class="problem">${escapeHtml(problem)}</p>` : ''}
<p>Paste the admin token (the file <code>admin.token</code> in the gateway's state directory).</p>
<form method="post" action="/ui/login">
<label>Admin token <input type="password" name="token" autocomplete="off" required></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

/** A channel file name the UI serves: only the asciicast files the recorder writes. */
export const CAST_FILE = /^channel-\d{1,9}\.cast$/;
/** The raw binary output beside a cast (binary_output "b-sidecar", FORMAT.md). */
export const BIN_FILE = /^channel-\d{1,9}\.bin$/;

function sessionRow(s: RecordedSession): string {
  const id = escapeHtml(s.sessionId);
  const ix = s.index;
  if (!ix) return `<tr class="problem"><td></td><td colspan="4">${id}</td><td>${escapeHtml(s.problem ?? 'no index')}</td></tr>`;
  const channels = ix.channels
    .map((c) => {
      const what = escapeHtml(c.kind === 'exec' && c.command !== undefined ? `exec: ${c.command}` : c.kind === 'subsystem' ? `subsystem ${c.subsystem ?? ''}` : c.kind);
      const file = c.recording?.file;
      if (file === undefined || !CAST_FILE.test(file)) return `<li>#${c.channel} ${what}</li>`;
      const href = `/ui/play/${encodeURIComponent(s.sessionId)}/${encodeURIComponent(file)}`;
      return `<li><a href="${escapeHtml(href)}">#${c.channel} ${what}</a></li>`;
    })
    .join('');
  return `<tr data-session="${id}"><td>${escapeHtml(ix.start.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</td><td>${escapeHtml(ix.who.identity)}</td><td>${escapeHtml(`${ix.target.host}:${ix.target.port}`)}</td><td>${escapeHtml(ix.target.login)}</td><td>${escapeHtml(ix.state)}${ix.signature ? ', signed' : ''}</td><td><ul>${channels || '<li>none</li>'}</ul></td></tr>`;
}

export function listPage(sessions: readonly RecordedSession[], limit: number): string {
  const rows = sessions.map(sessionRow).join('\n');
  return page(
    'Recordings',
    `<h1>Recorded sessions</h1>
<p>${sessions.length} session${sessions.length === 1 ? '' : 's'}${sessions.length >= limit ? ` (the newest ${limit}; <a href="/ui/?limit=${limit * 4}">more</a>)` : ''}. <a href="/ui/logout">Sign out</a></p>
<table id="sessions"><thead><tr><th>Start (UTC)</th><th>User</th><th>Target</th><th>Login</th><th>State</th><th>Channels</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="6">No recordings yet.</td></tr>'}
</tbody></table>`,
  );
}

/** `binFile`: the channel's .bin when it has one (replay needs it beside the .cast for its binary output). */
export function playPage(sessionId: string, file: string, binFile?: string): string {
  const cast = `/ui/cast/${encodeURIComponent(sessionId)}/${encodeURIComponent(file)}`;
  const bin = binFile === undefined ? undefined : `/ui/bin/${encodeURIComponent(sessionId)}/${encodeURIComponent(binFile)}`;
  return page(
    `${sessionId} ${file}`,
    `<h1>${escapeHtml(sessionId)} <small>${escapeHtml(file)}</small></h1>
<p><a href="${escapeHtml(cast)}" download>Download the .cast</a> (plays with <code>gatehouse replay</code> or <code>asciinema play</code>)</p>${
      bin === undefined || binFile === undefined
        ? ''
        : `
<p><a href="${escapeHtml(bin)}" download>Download ${escapeHtml(binFile)}</a>, the binary output this channel's <code>b</code> events refer to: keep it beside the .cast for <code>gatehouse replay</code> and <code>gatehouse verify</code>. The player here shows the text output only.</p>`
    }
<div id="player" data-cast="${escapeHtml(cast)}"></div>`,
    `
<link rel="stylesheet" href="/ui/assets/asciinema-player.css">
<script src="/ui/assets/asciinema-player.min.js" defer></script>
<script src="/ui/assets/play.js" defer></script>`,
  );
}

/** Starts the player on #player once the bundle (global AsciinemaPlayer) has loaded. */
export const PLAY_JS = `'use strict';
(function () {
  var el = document.getElementById('player');
  if (!el || typeof AsciinemaPlayer === 'undefined') return;
  window.gatehousePlayer = AsciinemaPlayer.create(el.dataset.cast, el, {
    autoPlay: true,
    idleTimeLimit: 2,
    fit: 'width',
    controls: true
  });
})();
`;

export const UI_CSS = `body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { background: #222; padding: .6em 1em; } header a { color: #fff; text-decoration: none; font-weight: 600; }
main { padding: 1em; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
td ul { margin: 0; padding-left: 1.2em; }
.problem { color: #a00; }
#player { max-width: 1200px; }
`;
