import { createHash } from 'node:crypto';
import { escapeHtml } from '../../protocol/escape-html';

/**
 * The admin page (`GET /cookie-bridge/admin/`, issue 13): Users (role, where it comes from, last seen; change a
 * role) and Service accounts (create, list, revoke). A new token is shown once, in the answer to the creation,
 * with a copy button and "save it now: it will not be shown again"; lists never carry tokens.
 *
 * The page is static but for the signed-in identity (escaped here); its one script and style are inline and
 * allowed by their hashes in a strict Content-Security-Policy (no other script, no external resource, no
 * framing, no forms posting anywhere). The script fills the tables from the JSON API with textContent only,
 * so an identity or name with markup in it renders as text.
 */

const STYLE = `body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #ddd}
#token-box{border:2px solid #c60;padding:1em;margin:1em 0}#token{width:100%;font-family:monospace;word-break:break-all}
.error{color:#b00}[hidden]{display:none}`;

const SCRIPT = `(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  function call(method, path, body) {
    var init = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body || {});
    }
    return fetch(path, init).then(function (res) {
      return res.json().then(function (json) {
        if (!res.ok) throw new Error(json.message || ('HTTP ' + res.status));
        return json;
      });
    });
  }
  function cell(row, text) { var td = document.createElement('td'); td.textContent = text; row.appendChild(td); return td; }
  function showError(error) { $('error').textContent = error.message; }
  function loadUsers() {
    return call('GET', 'users').then(function (json) {
      var body = $('users-body'); body.textContent = '';
      json.users.forEach(function (user) {
        var row = document.createElement('tr');
        cell(row, user.identity); cell(row, user.role); cell(row, user.roleSource); cell(row, user.lastSeenAt || '');
        var actions = cell(row, '');
        var select = document.createElement('select');
        ['user', 'admin'].forEach(function (role) {
          var option = document.createElement('option'); option.value = role; option.textContent = role;
          option.selected = role === user.role; select.appendChild(option);
        });
        var save = document.createElement('button'); save.type = 'button'; save.textContent = 'Set role';
        save.addEventListener('click', function () {
          call('PUT', 'users/' + encodeURIComponent(user.identity) + '/role', { role: select.value })
            .then(loadUsers).catch(showError);
        });
        actions.appendChild(select); actions.appendChild(save);
        body.appendChild(row);
      });
    });
  }
  function loadAccounts() {
    return call('GET', 'service-accounts').then(function (json) {
      var body = $('accounts-body'); body.textContent = '';
      json.serviceAccounts.forEach(function (account) {
        var row = document.createElement('tr');
        row.setAttribute('data-name', account.name);
        cell(row, account.name); cell(row, account.role); cell(row, account.status);
        cell(row, account.expiresAt); cell(row, account.createdBy);
        var actions = cell(row, '');
        if (account.status === 'active') {
          var revoke = document.createElement('button'); revoke.type = 'button'; revoke.textContent = 'Revoke';
          revoke.addEventListener('click', function () {
            call('DELETE', 'service-accounts/' + encodeURIComponent(account.name)).then(loadAccounts).catch(showError);
          });
          actions.appendChild(revoke);
        }
        body.appendChild(row);
      });
    });
  }
  $('create').addEventListener('submit', function (event) {
    event.preventDefault();
    $('error').textContent = '';
    var days = Number($('create-days').value);
    call('POST', 'service-accounts', {
      name: $('create-name').value, role: $('create-role').value, expiresIn: Math.round(days * 86400)
    }).then(function (created) {
      $('token').value = created.token;
      $('token-name').textContent = created.name;
      $('token-box').hidden = false;
      $('create-name').value = '';
      return loadAccounts();
    }).catch(showError);
  });
  $('copy').addEventListener('click', function () {
    var text = $('token').value;
    var done = function () { $('copied').textContent = 'Copied.'; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { $('token').select(); document.execCommand('copy'); done(); });
    } else { $('token').select(); document.execCommand('copy'); done(); }
  });
  $('dismiss').addEventListener('click', function () {
    $('token').value = ''; $('token-box').hidden = true; $('copied').textContent = '';
  });
  Promise.all([loadUsers(), loadAccounts()]).then(function () {
    document.body.setAttribute('data-loaded', 'true');
  }).catch(showError);
})();`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page's Content-Security-Policy: only its own inline script and style (by hash), fetches to itself. */
export const ADMIN_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every answer that is the page (or its 401/403 variant). */
export const ADMIN_PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': ADMIN_PAGE_CSP,
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

export function renderAdminPage(viewer: { identity: string; role: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>cookie-bridge admin</title>
<style>${STYLE}</style>
</head><body>
<h1>cookie-bridge admin</h1>
<p>Signed in as <strong id="viewer">${escapeHtml(viewer.identity)}</strong> (${escapeHtml(viewer.role)}).</p>
<p id="error" class="error" role="alert"></p>
<h2>Users</h2>
<table><thead><tr><th>identity</th><th>role</th><th>role from</th><th>last seen</th><th></th></tr></thead>
<tbody id="users-body"></tbody></table>
<h2>Service accounts</h2>
<form id="create">
<label>name <input id="create-name" required pattern="[a-z0-9][a-z0-9-]{0,62}" autocomplete="off"></label>
<label>role <select id="create-role"><option value="user">user</option><option value="admin">admin</option></select></label>
<label>expires in (days) <input id="create-days" type="number" min="1" value="30"></label>
<button type="submit">Create</button>
</form>
<div id="token-box" hidden>
<p>Token of <strong id="token-name"></strong>: <strong>save it now: it will not be shown again.</strong></p>
<textarea id="token" readonly rows="4"></textarea>
<p><button type="button" id="copy">Copy</button> <span id="copied"></span>
<button type="button" id="dismiss">I saved it</button></p>
</div>
<table><thead><tr><th>name</th><th>role</th><th>status</th><th>expires</th><th>created by</th><th></th></tr></thead>
<tbody id="accounts-body"></tbody></table>
<script>${SCRIPT}</script>
</body></html>
`;
}
