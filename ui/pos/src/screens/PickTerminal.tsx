/** Which branch and terminal this app is (`pick_terminal`), once after signing in. */
import { useState, type FormEvent } from 'react';
import { ErrorText, Field, useI18n } from '@lapak/kit';
import type { AppState } from '../generated/api';
import { useAction } from '../hooks';
import { call } from '../ipc';

export function PickTerminal({ app, onDone }: { app: AppState; onDone: (app: AppState) => void }) {
  const { t } = useI18n();
  const [branch, setBranch] = useState(app.terminal?.branch ?? app.branches[0]?.code ?? '');
  const [terminal, setTerminal] = useState(app.terminal?.terminal ?? 'POS-1');
  const { busy, error, run } = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const next = await run(() => call('pick_terminal', { branch, terminal: terminal.trim().toUpperCase() }));
    if (next) onDone(next);
  };

  return (
    <div className="center-screen">
      <form className="card card-narrow" onSubmit={(e) => void submit(e)} data-testid="pick-terminal">
        <h1 className="brand-title">{t('pick.title')}</h1>
        {app.user && <p className="muted">{t('pick.signedInAs', { name: app.user.name })}</p>}
        {app.branches.length === 0 ? (
          <ErrorText message={t('pick.noBranches')} />
        ) : (
          <Field label={t('pick.branch')}>
            <select className="input" data-testid="branch" value={branch} onChange={(e) => setBranch(e.target.value)} autoFocus>
              {app.branches.map((b) => (
                <option key={b.code} value={b.code}>
                  {b.code} · {b.name}
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label={t('pick.terminal')}>
          <input
            className="input"
            data-testid="terminal"
            value={terminal}
            onChange={(e) => setTerminal(e.target.value)}
            maxLength={20}
            pattern="[A-Za-z0-9-]+"
            required
          />
        </Field>
        <ErrorText message={error} />
        <button
          type="submit"
          className="button button-primary button-block"
          disabled={busy || !branch}
          data-testid="pick-terminal-submit"
        >
          {t('pick.submit')}
        </button>
      </form>
    </div>
  );
}
