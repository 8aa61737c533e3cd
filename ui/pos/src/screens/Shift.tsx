/**
 * The terminal's shift: open it with the cash in the drawer, watch what the drawer should hold,
 * close it with the cash counted. Every figure (expected cash, difference) comes from Rust.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorText, Field, Money, formatDateTime, parseRupiah, useI18n } from '@lapak/kit';
import type { ShiftState, ShiftView } from '../generated/api';
import { useAction } from '../hooks';
import { call } from '../ipc';
import { useSession } from '../session';

export function Shift() {
  const { t } = useI18n();
  const { setShift } = useSession();
  const [state, setState] = useState<ShiftState | null>(null);
  const { error, run } = useAction();

  useEffect(() => {
    void run(() => call('shift', { intent: 'show' })).then((next) => {
      if (next) setState(next);
    });
  }, [run]);

  const onChange = (next: ShiftState) => {
    setState(next);
    setShift(next.current);
  };

  // The drawer's figures only as Rust has them now: the session's copy is from when the shift
  // was opened and misses every sale and refund since.
  if (!state) {
    return (
      <section className="screen" data-testid="shift">
        <h1 className="screen-title">{t('shift.title')}</h1>
        {error ? <ErrorText message={error} /> : <p className="muted">{t('common.loading')}</p>}
      </section>
    );
  }
  const current = state.current;
  return (
    <section className="screen" data-testid="shift">
      <h1 className="screen-title">{t('shift.title')}</h1>
      <ErrorText message={error} />
      <div className="shift-columns">
        {current ? (
          <div className="card">
            <h2>{t('shift.current')}</h2>
            <ShiftFigures shift={current} />
            <CloseShiftForm onClosed={onChange} />
          </div>
        ) : (
          <div className="card">
            <h2>{t('shift.none')}</h2>
            <OpenShiftForm onOpened={onChange} />
          </div>
        )}
        {state?.last_closed && (
          <div className="card" data-testid="shift-last-closed">
            <h2>{t('shift.lastClosed')}</h2>
            <ShiftFigures shift={state.last_closed} />
          </div>
        )}
      </div>
    </section>
  );
}

/** Opening cash → `shift {intent: 'open'}`. */
export function OpenShiftForm({ onOpened }: { onOpened?: (state: ShiftState) => void }) {
  const { t } = useI18n();
  const { setShift } = useSession();
  const [cash, setCash] = useState('');
  const { busy, error, setError, run } = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const opening = parseRupiah(cash);
    if (opening === null) {
      setError(t('common.badAmount'));
      return;
    }
    const next = await run(() => call('shift', { intent: 'open', opening_cash: opening }));
    if (!next) return;
    if (onOpened) onOpened(next);
    else setShift(next.current);
  };

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <Field label={t('shift.openingCash')}>
        <input
          className="input input-money"
          inputMode="numeric"
          data-testid="shift-open-cash"
          value={cash}
          onChange={(e) => setCash(e.target.value)}
          placeholder="0"
          autoFocus
        />
      </Field>
      <ErrorText message={error} />
      <button type="submit" className="button button-primary button-block" disabled={busy} data-testid="shift-open">
        {t('shift.open')}
      </button>
    </form>
  );
}

/** Counted cash → `shift {intent: 'close'}`. */
function CloseShiftForm({ onClosed }: { onClosed: (state: ShiftState) => void }) {
  const { t } = useI18n();
  const [cash, setCash] = useState('');
  const { busy, error, setError, run } = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const counted = parseRupiah(cash);
    if (counted === null) {
      setError(t('common.badAmount'));
      return;
    }
    const next = await run(() => call('shift', { intent: 'close', counted_cash: counted }));
    if (next) {
      setCash('');
      onClosed(next);
    }
  };

  return (
    <form className="stack close-shift" onSubmit={(e) => void submit(e)}>
      <Field label={t('shift.countedCash')}>
        <input
          className="input input-money"
          inputMode="numeric"
          data-testid="shift-close-cash"
          value={cash}
          onChange={(e) => setCash(e.target.value)}
          placeholder="0"
        />
      </Field>
      <ErrorText message={error} />
      <button type="submit" className="button button-danger button-block" disabled={busy} data-testid="shift-close">
        {t('shift.close')}
      </button>
    </form>
  );
}

/** A shift's drawer: opening, cash sales, refunds, expected; counted and difference once closed. */
function ShiftFigures({ shift }: { shift: ShiftView }) {
  const { t, locale } = useI18n();
  const closed = shift.counted_cash !== null;
  const prefix = closed ? 'shift' : 'shift-current';
  return (
    <dl className="figures">
      <dt>{t('shift.openedAt')}</dt>
      <dd>{formatDateTime(shift.opened_at, locale)}</dd>
      {shift.closed_at !== null && (
        <>
          <dt>{t('shift.closedAt')}</dt>
          <dd>{formatDateTime(shift.closed_at, locale)}</dd>
        </>
      )}
      <dt>{t('shift.sales')}</dt>
      <dd>{shift.sales}</dd>
      <dt>{t('shift.openingCash')}</dt>
      <dd><Money amount={shift.opening_cash} /></dd>
      <dt>{t('shift.cashSales')}</dt>
      <dd><Money amount={shift.cash_sales} /></dd>
      <dt>{t('shift.refunds')}</dt>
      <dd><Money amount={shift.refunds} /></dd>
      <dt className="figure-strong">{t('shift.expected')}</dt>
      <dd className="figure-strong"><Money amount={shift.expected_cash} testId={`${prefix}-expected`} /></dd>
      {shift.counted_cash !== null && (
        <>
          <dt>{t('shift.counted')}</dt>
          <dd><Money amount={shift.counted_cash} testId="shift-counted" /></dd>
        </>
      )}
      {shift.difference !== null && (
        <>
          <dt className="figure-strong">{t('shift.difference')}</dt>
          <dd className={shift.difference === 0 ? 'figure-strong' : 'figure-strong figure-alert'}>
            <Money amount={shift.difference} testId="shift-difference" />
          </dd>
        </>
      )}
    </dl>
  );
}
