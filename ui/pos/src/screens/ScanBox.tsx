/**
 * The scan / search box, focused whenever the cashier is selling. A scanner types digits then
 * Enter: that is a `scan`. Words show `search_items` hits as the cashier types (after a short
 * pause); arrow keys pick one and Enter adds it. The page never decides what an item costs:
 * hits show the price Rust answered.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { Money, useI18n } from '@lapak/kit';
import type { ItemHit } from '../generated/api';
import { call } from '../ipc';
import { looksLikeCode } from '../scan';

/** How long typing must pause before searching. */
const SEARCH_DELAY_MS = 80;
/** At most this many hits (the list stays small for the web view). */
const SEARCH_LIMIT = 30;

export function ScanBox({
  inputRef,
  onScan,
  onAdd,
}: {
  inputRef: RefObject<HTMLInputElement | null>;
  /** Send `scan`; resolves whether it worked. */
  onScan: (code: string) => Promise<boolean>;
  /** Send `add`; resolves whether it worked. */
  onAdd: (sku: string) => Promise<boolean>;
}) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [hits, setHits] = useState<ItemHit[]>([]);
  const [active, setActive] = useState(-1);
  // Bumped by every search and by Enter: answers to an older search are dropped.
  const generation = useRef(0);

  useEffect(() => {
    const query = text.trim();
    if (query.length < 2) return;
    const mine = ++generation.current;
    const timer = setTimeout(() => {
      call('search_items', { query, limit: SEARCH_LIMIT }).then(
        (found) => {
          if (generation.current !== mine) return;
          setHits(found);
          setActive(!looksLikeCode(query) && found.length > 0 ? 0 : -1);
        },
        () => {
          if (generation.current === mine) setHits([]);
        },
      );
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const reset = () => {
    generation.current++;
    setText('');
    setHits([]);
    setActive(-1);
  };

  const finish = (worked: boolean) => {
    if (worked) reset();
    else inputRef.current?.select();
    inputRef.current?.focus();
  };

  const add = async (hit: ItemHit) => {
    generation.current++;
    finish(await onAdd(hit.sku));
  };

  const submit = async () => {
    const query = text.trim();
    if (!query) return;
    const hit = active >= 0 ? hits[active] : undefined;
    if (hit) return add(hit);
    if (looksLikeCode(query)) {
      generation.current++;
      finish(await onScan(query));
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      void submit();
    } else if (event.key === 'ArrowDown' && hits.length > 0) {
      event.preventDefault();
      setActive((i) => Math.min(hits.length - 1, i + 1));
    } else if (event.key === 'ArrowUp' && hits.length > 0) {
      event.preventDefault();
      setActive((i) => Math.max(-1, i - 1));
    } else if (event.key === 'Escape') {
      reset();
    }
  };

  const onChange = (value: string) => {
    setText(value);
    if (value.trim().length < 2) {
      generation.current++;
      setHits([]);
      setActive(-1);
    }
  };

  const showHits = hits.length > 0 && text.trim().length >= 2;
  return (
    <div className="scan-box">
      <input
        ref={inputRef}
        className="input input-scan"
        data-testid="scan-input"
        value={text}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={onKeyDown}
        placeholder={t('sell.scanPlaceholder')}
        aria-label={t('sell.scanPlaceholder')}
        autoFocus
        autoComplete="off"
        spellCheck={false}
        role="combobox"
        aria-expanded={showHits}
        aria-controls="search-results"
        aria-activedescendant={active >= 0 ? `search-hit-${active}` : undefined}
      />
      {showHits && (
        <ul className="search-results" id="search-results" role="listbox" data-testid="search-results">
          {hits.map((hit, index) => (
            <li
              key={hit.sku}
              id={`search-hit-${index}`}
              role="option"
              aria-selected={index === active}
              className={index === active ? 'search-hit search-hit-active' : 'search-hit'}
              data-testid="search-hit"
              onMouseDown={(e) => e.preventDefault()}
              onMouseEnter={() => setActive(index)}
              onClick={() => void add(hit)}
            >
              <span className="hit-name">
                {hit.name}
                <span className="hit-code">
                  {hit.sku}
                  {hit.barcode ? ` · ${hit.barcode}` : ''}
                  {hit.unit ? ` · ${hit.unit}` : ''}
                </span>
              </span>
              <span className="hit-stock">
                {hit.stock === null ? '' : t('sell.stock', { count: hit.stock })}
              </span>
              <span className="hit-price">
                {hit.price === null ? <span className="tag tag-warn">{t('sell.noPrice')}</span> : <Money amount={hit.price} />}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
