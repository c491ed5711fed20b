import { render } from 'preact';
import { App } from './components/App.js';
import { Api, browserSessionStore } from './lib/api.js';
import { registerFormats } from './lib/formats.js';
import './styles.css';

registerFormats();
const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');
render(<App api={new Api(browserSessionStore(sessionStorage))} />, root);
