/**
 * Users and grants (administrators): every user with their role and the scopes they may read
 * and write; create a user, change a user's grants, set a password, disable or enable them.
 * The server checks everything again; the page only gathers what to send.
 */
import { useState, type FormEvent } from 'react';
import { Dialog, ErrorText, Field } from '@lapak/kit';
import { api } from '../api';
import { failureMessage } from '../failure';
import type { Grant, Role, UserInfo } from '../generated/api';
import { useT } from '../i18n';
import { useAction } from '../useAction';
import { usePolling } from '../usePolling';

const ROLES: Role[] = ['cashier', 'salesperson', 'supervisor', 'admin'];
const REFRESH_MS = 30_000;

type Editing = { kind: 'new' } | { kind: 'grants'; user: UserInfo } | { kind: 'password'; user: UserInfo };

export function Users({ me }: { me: string }) {
  const { t } = useT();
  const users = usePolling(api.users, REFRESH_MS);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [error, setError] = useState<unknown>(null);
  const done = () => {
    setEditing(null);
    users.reload();
  };
  const toggle = (u: UserInfo) => {
    api.setDisabled(u.username, !u.disabled).then(users.reload, (thrown: unknown) => setError(thrown ?? 'error'));
  };
  return (
    <section className="screen" data-testid="page-users">
      <div className="screen-head">
        <h1 className="screen-title">{t('users.title')}</h1>
        <button type="button" className="button button-primary" data-testid="user-new" onClick={() => setEditing({ kind: 'new' })}>
          {t('users.new')}
        </button>
      </div>
      {users.error !== null && <ErrorText message={failureMessage(users.error, t)} />}
      {error !== null && <ErrorText message={failureMessage(error, t)} />}
      <div className="card">
        <table className="table" data-testid="users-table">
          <thead>
            <tr>
              <th>{t('users.username')}</th>
              <th>{t('users.role')}</th>
              <th>{t('users.grants')}</th>
              <th>{t('users.status')}</th>
              <th aria-label={t('users.actions')} />
            </tr>
          </thead>
          <tbody>
            {(users.data ?? []).map((u) => (
              <tr key={u.id} data-testid={`user-${u.username}`}>
                <td>{u.username}</td>
                <td>{t(`header.role.${u.role}`)}</td>
                <td data-testid="user-grants">
                  {u.grants.map((g) => (
                    <span key={g.scope} className={g.write ? 'tag tag-ok' : 'tag'} title={t(g.write ? 'users.readWrite' : 'users.readOnly')}>
                      {g.scope}
                      {g.write ? '' : ' 👁'}
                    </span>
                  ))}
                </td>
                <td data-testid="user-status">
                  {u.disabled ? <span className="tag tag-error">{t('users.disabled')}</span> : <span className="tag">{t('users.active')}</span>}
                </td>
                <td className="actions">
                  <button type="button" className="button" data-testid="user-edit-grants" onClick={() => setEditing({ kind: 'grants', user: u })}>
                    {t('users.editGrants')}
                  </button>
                  <button type="button" className="button" data-testid="user-password" onClick={() => setEditing({ kind: 'password', user: u })}>
                    {t('users.password')}
                  </button>
                  {u.username !== me && (
                    <button
                      type="button"
                      className={u.disabled ? 'button' : 'button button-danger'}
                      data-testid="user-toggle"
                      onClick={() => toggle(u)}
                    >
                      {t(u.disabled ? 'users.enable' : 'users.disable')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {editing?.kind === 'new' && <NewUserDialog onClose={() => setEditing(null)} onDone={done} />}
      {editing?.kind === 'grants' && <GrantsDialog user={editing.user} onClose={() => setEditing(null)} onDone={done} />}
      {editing?.kind === 'password' && <PasswordDialog user={editing.user} onClose={() => setEditing(null)} onDone={done} />}
    </section>
  );
}

/** A dialog whose form sends one request ([`useAction`]) when submitted. */
function useSubmit(send: () => Promise<unknown>, onDone: () => void) {
  const { busy, error, run } = useAction(onDone);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    run(send);
  };
  return { busy, error, submit };
}

function DialogButtons({ busy, onClose, testId }: { busy: boolean; onClose: () => void; testId: string }) {
  const { t } = useT();
  return (
    <div className="dialog-actions">
      <button type="button" className="button" onClick={onClose}>
        {t('common.cancel')}
      </button>
      <button type="submit" className="button button-primary" data-testid={testId} disabled={busy}>
        {t('common.save')}
      </button>
    </div>
  );
}

function NewUserDialog({ onClose, onDone }: { onClose: () => void; onDone: () => void }) {
  const { t } = useT();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('cashier');
  const [grants, setGrants] = useState<Grant[]>([]);
  const { busy, error, submit } = useSubmit(
    () => api.createUser({ username: username.trim(), password, role, grants }),
    onDone,
  );
  return (
    <Dialog title={t('users.new')} onClose={onClose} testId="user-dialog" closeLabel={t('common.close')}>
      <form className="stack" onSubmit={submit}>
        <Field label={t('users.username')}>
          <input className="input" data-testid="user-username" required autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
        </Field>
        <Field label={t('users.newPassword')}>
          <input
            className="input"
            type="password"
            autoComplete="new-password"
            data-testid="user-new-password"
            required
            minLength={8}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <Field label={t('users.role')}>
          <select className="input" data-testid="user-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`header.role.${r}`)}
              </option>
            ))}
          </select>
        </Field>
        <GrantsEditor grants={grants} onChange={setGrants} />
        {error && <ErrorText message={error} />}
        <DialogButtons busy={busy} onClose={onClose} testId="user-save" />
      </form>
    </Dialog>
  );
}

function GrantsDialog({ user, onClose, onDone }: { user: UserInfo; onClose: () => void; onDone: () => void }) {
  const { t } = useT();
  const [grants, setGrants] = useState<Grant[]>(user.grants);
  const { busy, error, submit } = useSubmit(() => api.setGrants(user.username, grants), onDone);
  return (
    <Dialog title={t('users.grantsOf', { user: user.username })} onClose={onClose} testId="grants-dialog" closeLabel={t('common.close')}>
      <form className="stack" onSubmit={submit}>
        <GrantsEditor grants={grants} onChange={setGrants} />
        {error && <ErrorText message={error} />}
        <DialogButtons busy={busy} onClose={onClose} testId="grants-save" />
      </form>
    </Dialog>
  );
}

/** The scopes a user may read (and write): one line each, and a box to add another. */
function GrantsEditor({ grants, onChange }: { grants: Grant[]; onChange: (grants: Grant[]) => void }) {
  const { t } = useT();
  const [scope, setScope] = useState('');
  const add = () => {
    const name = scope.trim();
    if (name === '' || grants.some((g) => g.scope === name)) return;
    onChange([...grants, { scope: name, write: true }]);
    setScope('');
  };
  return (
    <fieldset className="grants" data-testid="grants-editor">
      <legend className="field-label">{t('users.grants')}</legend>
      {grants.map((g) => (
        <div key={g.scope} className="grant-line" data-testid={`grant-${g.scope}`}>
          <span className="mono">{g.scope}</span>
          <label className="check">
            <input
              type="checkbox"
              checked={g.write}
              onChange={(e) => onChange(grants.map((x) => (x.scope === g.scope ? { ...x, write: e.target.checked } : x)))}
            />
            {t('users.canWrite')}
          </label>
          <button type="button" className="button button-ghost" aria-label={t('users.removeGrant')} onClick={() => onChange(grants.filter((x) => x.scope !== g.scope))}>
            ✕
          </button>
        </div>
      ))}
      <div className="grant-line">
        <input
          className="input"
          data-testid="grant-scope"
          placeholder="branch:JKT-01, territory:T-JKT01-01, org"
          aria-label={t('users.scope')}
          value={scope}
          onChange={(e) => setScope(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
        />
        <button type="button" className="button" data-testid="grant-add" onClick={add}>
          {t('users.addGrant')}
        </button>
      </div>
    </fieldset>
  );
}

function PasswordDialog({ user, onClose, onDone }: { user: UserInfo; onClose: () => void; onDone: () => void }) {
  const { t } = useT();
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(() => api.setPassword(user.username, password), onDone);
  return (
    <Dialog title={t('users.passwordOf', { user: user.username })} onClose={onClose} testId="password-dialog" closeLabel={t('common.close')}>
      <form className="stack" onSubmit={submit}>
        <p className="muted">{t('users.passwordEndsSessions')}</p>
        <Field label={t('users.newPassword')}>
          <input
            className="input"
            type="password"
            autoComplete="new-password"
            data-testid="user-set-password"
            required
            minLength={8}
            autoFocus
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        {error && <ErrorText message={error} />}
        <DialogButtons busy={busy} onClose={onClose} testId="password-save" />
      </form>
    </Dialog>
  );
}
