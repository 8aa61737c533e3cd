/**
 * Rejections: the changes the server refused from every device the caller may see, with the
 * code, the message the device showed, who and when; filterable, 100 at a time.
 */
import { useCallback, useEffect, useState } from 'react';
import { ErrorText, formatDateTime } from '@lapak/kit';
import { api, type RejectionParams } from '../api';
import { failureMessage } from '../failure';
import type { Rejection } from '../generated/api';
import { useT } from '../i18n';
import { useDebounced } from '../useDebounced';
import { WITH_PHOTOS, photosHref } from './Photos';

const PAGE_SIZE = 100;

export function Rejections({ canSeePhotos }: { canSeePhotos: boolean }) {
  const { t, locale } = useT();
  const [filter, setFilter] = useState<RejectionParams>({});
  const settled = useDebounced(filter, 300);
  const [rows, setRows] = useState<Rejection[]>([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(
    (after: string | undefined) => {
      api.rejections({ ...settled, after, limit: PAGE_SIZE }).then(
        (page) => {
          setRows((old) => (after ? [...old, ...page] : page));
          setMore(page.length === PAGE_SIZE);
          setError(null);
        },
        (thrown: unknown) => setError(thrown ?? 'error'),
      );
    },
    [settled],
  );
  useEffect(() => load(undefined), [load]);
  const last = rows[rows.length - 1];

  const filterInput = (name: 'code' | 'collection' | 'username', label: string) => (
    <input
      className="input"
      data-testid={`rejections-${name}`}
      placeholder={label}
      aria-label={label}
      value={filter[name] ?? ''}
      onChange={(e) => setFilter((f) => ({ ...f, [name]: e.target.value.trim() }))}
    />
  );

  return (
    <section className="screen" data-testid="page-rejections">
      <div className="screen-head">
        <h1 className="screen-title">{t('rejections.title')}</h1>
      </div>
      <div className="toolbar">
        {filterInput('code', t('rejections.code'))}
        {filterInput('collection', t('rejections.collection'))}
        {filterInput('username', t('rejections.user'))}
      </div>
      {error !== null && <ErrorText message={failureMessage(error, t)} />}
      <div className="card">
        {rows.length === 0 ? (
          <p className="muted" data-testid="no-rejections">
            {t('rejections.none')}
          </p>
        ) : (
          <table className="table" data-testid="rejections-table">
            <thead>
              <tr>
                <th>{t('rejections.when')}</th>
                <th>{t('rejections.user')}</th>
                <th>{t('rejections.record')}</th>
                <th>{t('rejections.code')}</th>
                <th>{t('rejections.message')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.change_id} data-testid="rejection">
                  <td>{formatDateTime(r.received_at, locale)}</td>
                  <td>
                    {r.username} <span className="muted">{r.device_name}</span>
                  </td>
                  <td>
                    {r.collection} <span className="muted mono">{r.record_id}</span>
                    {canSeePhotos && WITH_PHOTOS.includes(r.collection) && (
                      <a className="tag" href={photosHref(r.collection, r.record_id)} data-testid="rejection-photos">
                        {t('photos.link')}
                      </a>
                    )}
                  </td>
                  <td>
                    <span className="tag tag-error">{r.code}</span>
                  </td>
                  <td>{r.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {more && last && (
          <button
            type="button"
            className="button"
            data-testid="rejections-more"
            onClick={() => load(`${last.received_at}/${last.change_id}`)}
          >
            {t('common.more')}
          </button>
        )}
      </div>
    </section>
  );
}
