/**
 * Bills on hold at this branch, from any terminal (`held_bills`); Resume makes one the cart.
 * The list follows other terminals' edits (`lapak://changed` with `held_bills`).
 */
import { useCallback, useEffect, useState } from 'react';
import { ErrorText, Money, useI18n } from '@lapak/kit';
import type { HeldBillView } from '../generated/api';
import { useAction, useEvent } from '../hooks';
import { call } from '../ipc';
import { useSession } from '../session';

/** The list stays small for the web view. */
const SHOWN = 100;

export function HeldBills() {
  const { t } = useI18n();
  const { go } = useSession();
  const [bills, setBills] = useState<HeldBillView[] | null>(null);
  const { busy, error, run } = useAction();

  const load = useCallback(() => {
    void run(() => call('held_bills', {})).then((found) => {
      if (found) setBills(found);
    });
  }, [run]);

  useEffect(load, [load]);
  useEvent('lapak://changed', ({ collections }) => {
    if (collections.includes('held_bills')) load();
  });

  const resume = async (id: string) => {
    const cart = await run(() => call('resume', { id }));
    if (cart) go({ screen: 'sell' });
  };

  return (
    <section className="screen" data-testid="held-bills">
      <div className="screen-head">
        <h1 className="screen-title">{t('held.title')}</h1>
        <button type="button" className="button" onClick={load} disabled={busy}>
          {t('common.refresh')}
        </button>
      </div>
      <ErrorText message={error} />
      {bills && bills.length === 0 && <p className="empty">{t('held.none')}</p>}
      {bills && bills.length > 0 && (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th>{t('held.terminal')}</th>
                <th>{t('held.cashier')}</th>
                <th>{t('held.customer')}</th>
                <th>{t('held.note')}</th>
                <th className="num">{t('held.lines')}</th>
                <th className="num">{t('totals.total')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {bills.slice(0, SHOWN).map((bill) => (
                <tr key={bill.id} data-testid="held-bill">
                  <td>{bill.terminal}</td>
                  <td>{bill.cashier}</td>
                  <td>{bill.customer ?? '—'}</td>
                  <td className="cell-note">{bill.note}</td>
                  <td className="num">{bill.lines}</td>
                  <td className="num">
                    <Money amount={bill.total} />
                  </td>
                  <td className="cell-action">
                    <button
                      type="button"
                      className="button button-primary"
                      data-testid="held-resume"
                      disabled={busy}
                      onClick={() => void resume(bill.id)}
                    >
                      {t('held.resume')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
