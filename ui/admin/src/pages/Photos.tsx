/**
 * A record's photos (administrators): the pictures a salesperson took at a visit, an activity
 * or an outlet, with when and the caption; a photo whose bytes have not arrived yet (the phone
 * has not synced since) says so. Opened from a rejection or an exception of such a record, or
 * by collection and record id.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorText, Field, formatDateTime } from '@lapak/kit';
import { api } from '../api';
import { failureMessage } from '../failure';
import type { RecordPhotos } from '../generated/api';
import { useT } from '../i18n';

/** The collections whose records keep photos. */
export const WITH_PHOTOS = ['activities', 'attendance', 'outlet_profiles'];

/** The admin web's address of a record's photos. */
export function photosHref(collection: string, id: string): string {
  return `/admin/photos?${new URLSearchParams({ collection, id }).toString()}`;
}

export function Photos() {
  const { t, locale } = useT();
  // The record the address names (a link from a rejection or an exception), read once.
  const [asked] = useState(() => {
    const q = new URLSearchParams(window.location.search);
    return { collection: q.get('collection') ?? WITH_PHOTOS[0] ?? '', id: q.get('id') ?? '' };
  });
  const [collection, setCollection] = useState(asked.collection);
  const [id, setId] = useState(asked.id);
  const [shown, setShown] = useState<RecordPhotos | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!asked.id) return;
    api.recordPhotos(asked.collection, asked.id).then(setShown, (thrown: unknown) => setError(thrown ?? 'error'));
  }, [asked]);

  const open = (e?: FormEvent) => {
    e?.preventDefault();
    setError(null);
    api.recordPhotos(collection, id.trim()).then(setShown, (thrown: unknown) => {
      setShown(null);
      setError(thrown ?? 'error');
    });
  };

  return (
    <section className="screen" data-testid="page-photos">
      <div className="screen-head">
        <h1 className="screen-title">{t('photos.title')}</h1>
      </div>
      <form className="toolbar" onSubmit={open}>
        <Field label={t('photos.collection')}>
          <select className="input" data-testid="photos-collection" value={collection} onChange={(e) => setCollection(e.target.value)}>
            {WITH_PHOTOS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('photos.record')}>
          <input className="input" data-testid="photos-id" required value={id} onChange={(e) => setId(e.target.value)} />
        </Field>
        <button type="submit" className="button button-primary" data-testid="photos-open">
          {t('photos.open')}
        </button>
      </form>
      {error !== null && <ErrorText message={failureMessage(error, t)} />}
      {shown && (
        <div className="card">
          {shown.photos.length === 0 ? (
            <p className="muted" data-testid="photos-none">
              {t('photos.none')}
            </p>
          ) : (
            <div className="photo-grid">
              {shown.photos.map((p) => (
                <figure key={p.ref} className="photo" data-testid="photo">
                  {p.stored ? (
                    <a href={p.url} target="_blank" rel="noreferrer">
                      <img src={p.url} alt={p.caption ?? ''} loading="lazy" />
                    </a>
                  ) : (
                    <div className="photo-missing" data-testid="photo-missing">
                      {t('photos.notYet')}
                    </div>
                  )}
                  <figcaption>
                    {p.caption && <span>{p.caption}</span>}
                    {p.taken_at !== null && <span className="muted">{formatDateTime(p.taken_at, locale)}</span>}
                  </figcaption>
                </figure>
              ))}
            </div>
          )}
        </div>
      )}
    </section>
  );
}
