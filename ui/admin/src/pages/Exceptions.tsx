/**
 * Exceptions the business rules raised (a price off the list, stock below zero, a visit far
 * from its outlet): open ones first; each is resolved with a note of what was done.
 */
import { useCallback, useState } from 'react';
import { Dialog, ErrorText, Field, formatDateTime } from '@lapak/kit';
import { api, type ExceptionParams } from '../api';
import { failureMessage } from '../failure';
import type { ExceptionRecord } from '../generated/api';
import { useT } from '../i18n';
import { useAction } from '../useAction';
import { usePolling } from '../usePolling';
import { WITH_PHOTOS, photosHref } from './Photos';

const REFRESH_MS = 15_000;
type Status = NonNullable<ExceptionParams['status']>;

export function Exceptions({ canSeePhotos }: { canSeePhotos: boolean }) {
  const { t, locale } = useT();
  const [status, setStatus] = useState<Status>('open');
  const [resolving, setResolving] = useState<ExceptionRecord | null>(null);
  const load = useCallback(() => api.exceptions({ status, limit: 200 }), [status]);
  const list = usePolling(load, REFRESH_MS);
  const rows = list.data ?? [];
  return (
    <section className="screen" data-testid="page-exceptions">
      <div className="screen-head">
        <h1 className="screen-title">{t('exceptions.title')}</h1>
      </div>
      <div className="toolbar">
        <select
          className="input"
          data-testid="exceptions-status"
          aria-label={t('exceptions.status')}
          value={status}
          onChange={(e) => setStatus(e.target.value as Status)}
        >
          <option value="open">{t('exceptions.open')}</option>
          <option value="resolved">{t('exceptions.resolved')}</option>
          <option value="all">{t('exceptions.all')}</option>
        </select>
      </div>
      {list.error !== null && <ErrorText message={failureMessage(list.error, t)} />}
      <div className="card">
        {list.data !== null && rows.length === 0 ? (
          <p className="muted" data-testid="no-exceptions">
            {t('exceptions.none')}
          </p>
        ) : (
          <table className="table" data-testid="exceptions-table">
            <thead>
              <tr>
                <th>{t('exceptions.raised')}</th>
                <th>{t('exceptions.kind')}</th>
                <th>{t('exceptions.record')}</th>
                <th>{t('exceptions.what')}</th>
                <th>{t('exceptions.resolution')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((x) => (
                <tr key={x.id} data-testid={`exception-${x.id}`}>
                  <td>{formatDateTime(x.raised_at, locale)}</td>
                  <td>
                    <span className="tag">{x.kind}</span>
                  </td>
                  <td>
                    {x.collection} <span className="muted mono">{x.record_id}</span>
                    {canSeePhotos && WITH_PHOTOS.includes(x.collection) && (
                      <a className="tag" href={photosHref(x.collection, x.record_id)} data-testid="exception-photos">
                        {t('photos.link')}
                      </a>
                    )}
                  </td>
                  <td>{x.message}</td>
                  <td>
                    {x.resolved_at === null ? (
                      <button
                        type="button"
                        className="button button-primary"
                        data-testid="exception-resolve"
                        onClick={() => setResolving(x)}
                      >
                        {t('exceptions.resolve')}
                      </button>
                    ) : (
                      <span data-testid="exception-resolution">
                        {x.resolution} <span className="muted">— {x.resolved_by}</span>
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {resolving && (
        <ResolveDialog
          exception={resolving}
          onClose={() => setResolving(null)}
          onDone={() => {
            setResolving(null);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function ResolveDialog({
  exception,
  onClose,
  onDone,
}: {
  exception: ExceptionRecord;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useT();
  const [note, setNote] = useState('');
  const { busy, error, run } = useAction(onDone);
  const resolve = () => run(() => api.resolveException(exception.id, note.trim()));
  return (
    <Dialog title={t('exceptions.resolveTitle')} onClose={onClose} testId="resolve-dialog" closeLabel={t('common.close')}>
      <p>{exception.message}</p>
      <Field label={t('exceptions.note')} wide>
        <textarea
          className="input"
          data-testid="resolve-note"
          rows={3}
          maxLength={2000}
          autoFocus
          value={note}
          onChange={(e) => setNote(e.target.value)}
        />
      </Field>
      {error && <ErrorText message={error} />}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          {t('common.cancel')}
        </button>
        <button
          type="button"
          className="button button-primary"
          data-testid="resolve-confirm"
          disabled={busy || note.trim() === ''}
          onClick={resolve}
        >
          {t('exceptions.resolve')}
        </button>
      </div>
    </Dialog>
  );
}
