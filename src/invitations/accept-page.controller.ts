import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../authz/authorize.decorator.js';

/**
 * The page an invitation link opens when PUBLIC_APP_URL is this server (the default): it reads the token from
 * the link and accepts it through the API (`POST /v1/invitations/accept`), as a new account (name, password) or
 * as an existing one (signs in first). A dashboard that serves its own page at that path replaces it.
 * The token never leaves the page except to this server: no referrer, no caching, and it is dropped from the
 * address bar once read.
 */
export const ACCEPT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Accept your Tenantry invitation</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; padding: 1rem; }
  label { display: block; margin: .5rem 0 .2rem; }
  input { width: 100%; box-sizing: border-box; padding: .4rem; }
  button { margin-top: .8rem; padding: .4rem 1rem; }
  #result { margin-top: 1rem; white-space: pre-wrap; }
  .error { color: #a00; }
</style>
</head>
<body>
<h1>Join your team on Tenantry</h1>
<p id="intro">Accept the invitation with a new account, or sign in if you already have one.</p>
<form id="new">
  <fieldset>
    <legend>New account</legend>
    <label for="name">Your name</label><input id="name" name="name" required maxlength="200" autocomplete="name">
    <label for="password">Password (12 characters or more)</label>
    <input id="password" name="password" type="password" required minlength="12" autocomplete="new-password">
    <button type="submit">Create my account and join</button>
  </fieldset>
</form>
<form id="existing">
  <fieldset>
    <legend>I already have an account</legend>
    <label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="username">
    <label for="current">Password</label>
    <input id="current" name="current" type="password" required autocomplete="current-password">
    <button type="submit">Sign in and join</button>
  </fieldset>
</form>
<div id="result" role="status"></div>
<script>
  const token = new URLSearchParams(location.search).get('token');
  history.replaceState(null, '', location.pathname);
  const result = document.getElementById('result');
  const show = (text, error) => { result.textContent = text; result.className = error ? 'error' : ''; };
  if (!token) {
    show('This page needs the link from your invitation mail (it carries ?token=inv_…).', true);
  }
  const post = async (path, body, accessToken) => {
    const headers = { 'content-type': 'application/json' };
    if (accessToken) headers.authorization = 'Bearer ' + accessToken;
    const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.detail || ('HTTP ' + res.status));
    return json;
  };
  const joined = (session) => {
    document.getElementById('new').hidden = true;
    document.getElementById('existing').hidden = true;
    show('You joined ' + session.company.name + ' as ' + session.role + '. The API and its documentation: ' +
      location.origin + '/docs');
  };
  document.getElementById('new').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      joined(await post('/v1/invitations/accept', {
        token, name: e.target.name.value, password: e.target.password.value,
      }));
    } catch (err) { show(err.message, true); }
  });
  document.getElementById('existing').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const login = await post('/v1/auth/login', { email: e.target.email.value, password: e.target.current.value });
      joined(await post('/v1/invitations/accept', { token }, login.accessToken));
    } catch (err) { show(err.message, true); }
  });
</script>
</body>
</html>
`;

@ApiExcludeController()
@Controller('invitations')
export class InvitationAcceptPageController {
  @Get('accept')
  @Public()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @Header('Referrer-Policy', 'no-referrer')
  @Header('X-Frame-Options', 'DENY')
  page(): string {
    return ACCEPT_PAGE;
  }
}
