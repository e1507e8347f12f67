// The dashboard's shell: navigation by the URL hash (#/workflows, #/workflow/<id>, #/agents,
// #/steps, #/audit), and the token prompt shown when the API answers 401.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { setToken, setUnauthorizedHandler } from './api.js';
import { html } from './html.js';
import { AgentsPage, StepsPage } from './metrics.js';
import { AuditPage } from './audit.js';
import { WorkflowPage } from './workflow.js';
import { WorkflowsPage } from './workflows.js';

function currentRoute() {
  const [page = 'workflows', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  return { page, arg: rest.map(decodeURIComponent).join('/') };
}

function TokenPrompt({ onSaved }) {
  const [value, setValue] = useState('');
  const save = (event) => {
    event.preventDefault();
    setToken(value.trim());
    onSaved();
  };
  return html`<form class="token card" onSubmit=${save}>
    <h2>This server needs its API token</h2>
    <p>It is kept in this tab only (sessionStorage) and sent as <code>Authorization: Bearer</code> with every request.</p>
    <input type="password" name="token" autocomplete="off" placeholder="token" value=${value} onInput=${(e) => setValue(e.target.value)} />
    <button type="submit">Use token</button>
  </form>`;
}

function App() {
  const [route, setRoute] = useState(currentRoute());
  const [needsToken, setNeedsToken] = useState(false);
  // Bumped after a token is entered: remounts the page so it loads again with it.
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener('hashchange', onHash);
    setUnauthorizedHandler(() => {
      setToken(null);
      setNeedsToken(true);
    });
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const pages = {
    workflows: () => html`<${WorkflowsPage} />`,
    workflow: () => html`<${WorkflowPage} workflowId=${route.arg} />`,
    agents: () => html`<${AgentsPage} />`,
    steps: () => html`<${StepsPage} />`,
    audit: () => html`<${AuditPage} />`,
  };
  const page = pages[route.page] ?? pages.workflows;
  const link = (name, label) => html`<a href="#/${name}" class=${route.page === name || (name === 'workflows' && route.page === 'workflow') ? 'active' : ''}>${label}</a>`;
  return html`<header>
      <a class="brand" href="#/workflows">cadenza</a>
      <nav>${link('workflows', 'Workflows')}${link('agents', 'Agents')}${link('steps', 'Steps')}${link('audit', 'Audit')}</nav>
    </header>
    <main key=${generation}>
      ${needsToken
        ? html`<${TokenPrompt} onSaved=${() => { setNeedsToken(false); setGeneration(generation + 1); }} />`
        : page()}
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
