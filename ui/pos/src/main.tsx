/** Mounts the POS page. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@lapak/kit/kit.css';
import '@lapak/kit/frame.css';
import './styles.css';
import { App } from './App';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
