/**
 * The cart's customer: walk-in by default; search the branch's customers (`search_customers`)
 * and pick one, showing their price list, credit limit and what they owe.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Money, useI18n } from '@lapak/kit';
import type { CartIntent, CustomerView } from '../generated/api';
import { call } from '../ipc';

const SEARCH_DELAY_MS = 150;
const SEARCH_LIMIT = 20;

export function CustomerPicker({
  customer,
  send,
}: {
  customer: CustomerView | null;
  send: (intent: CartIntent) => Promise<unknown>;
}) {
  const { t } = useI18n();
  const [picking, setPicking] = useState(false);

  if (customer && !picking) {
    return (
      <div className="side-block" data-testid="customer">
        <div className="side-block-head">
          <span className="side-label">{t('customer.title')}</span>
          <span className="side-actions">
            <button type="button" className="button button-link" onClick={() => setPicking(true)} data-testid="customer-change">
              {t('customer.change')}
            </button>
            <button
              type="button"
              className="button button-link"
              onClick={() => void send({ intent: 'customer', code: null })}
              data-testid="customer-remove"
            >
              {t('customer.walkIn')}
            </button>
          </span>
        </div>
        <div className="customer-name">
          {customer.name} <span className="muted">{customer.code}</span>
        </div>
        <CustomerFacts customer={customer} />
      </div>
    );
  }
  return (
    <CustomerSearch
      onPick={(code) => {
        setPicking(false);
        void send({ intent: 'customer', code });
      }}
      onCancel={customer ? () => setPicking(false) : undefined}
    />
  );
}

function CustomerFacts({ customer }: { customer: CustomerView }) {
  const { t } = useI18n();
  return (
    <dl className="facts">
      <dt>{t('customer.priceList')}</dt>
      <dd>{customer.price_list ?? t('customer.defaultList')}</dd>
      <dt>{t('customer.creditLimit')}</dt>
      <dd>{customer.credit_limit === null ? t('customer.noCredit') : <Money amount={customer.credit_limit} />}</dd>
      <dt>{t('customer.due')}</dt>
      <dd>{customer.due === null ? '—' : <Money amount={customer.due} />}</dd>
    </dl>
  );
}

function CustomerSearch({ onPick, onCancel }: { onPick: (code: string) => void; onCancel?: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [hits, setHits] = useState<CustomerView[]>([]);
  const [active, setActive] = useState(0);
  const generation = useRef(0);

  useEffect(() => {
    const query = text.trim();
    if (!query) return;
    const mine = ++generation.current;
    const timer = setTimeout(() => {
      call('search_customers', { query, limit: SEARCH_LIMIT }).then(
        (found) => {
          if (generation.current !== mine) return;
          setHits(found);
          setActive(0);
        },
        () => undefined,
      );
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const hit = hits[active];
    if (event.key === 'Enter' && hit) {
      event.preventDefault();
      onPick(hit.code);
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      setActive((i) => Math.min(hits.length - 1, i + 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((i) => Math.max(0, i - 1));
    } else if (event.key === 'Escape') {
      event.stopPropagation();
      onCancel?.();
    }
  };

  const visible = text.trim() ? hits : [];
  return (
    <div className="side-block">
      <div className="side-block-head">
        <span className="side-label">{t('customer.title')}</span>
        {onCancel && (
          <button type="button" className="button button-link" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        )}
      </div>
      <input
        className="input"
        data-testid="customer-search"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (!e.target.value.trim()) setHits([]);
        }}
        onKeyDown={onKeyDown}
        placeholder={t('customer.searchPlaceholder')}
        aria-label={t('customer.searchPlaceholder')}
        autoFocus={Boolean(onCancel)}
        autoComplete="off"
      />
      {visible.length > 0 && (
        <ul className="picker-results" data-testid="customer-results">
          {visible.map((hit, index) => (
            <li key={hit.code}>
              <button
                type="button"
                className={index === active ? 'picker-hit picker-hit-active' : 'picker-hit'}
                data-testid="customer-hit"
                onClick={() => onPick(hit.code)}
              >
                <span className="picker-hit-name">
                  {hit.name} <span className="muted">{hit.code}</span>
                </span>
                <span className="picker-hit-meta">
                  {hit.price_list ?? t('customer.defaultList')}
                  {hit.credit_limit !== null && (
                    <>
                      {' · '}
                      {t('customer.creditLimit')} <Money amount={hit.credit_limit} />
                    </>
                  )}
                  {hit.due !== null && hit.due > 0 && (
                    <>
                      {' · '}
                      {t('customer.due')} <Money amount={hit.due} />
                    </>
                  )}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
