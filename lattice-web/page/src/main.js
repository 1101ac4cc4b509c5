// Entry point of the management page: styles, then the app into #app.
import { render } from 'preact';
import './app.css';
import { App } from './app.js';
import { html } from './html.js';

render(html`<${App} />`, document.getElementById('app'));
