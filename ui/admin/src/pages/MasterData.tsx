/**
 * Master data (administrators): items, prices, customers and outlets, branches, territories,
 * vouchers, staff. A page of rows at a time (50, searched on the server, so 100,000 outlets
 * never load at once); a row is created, edited or deleted in a form built from the
 * collection's fields; a CSV file is checked row by row (errors with their lines, a preview)
 * before it is imported, with progress. The server checks every value again.
 */
import { useCallback, useState } from 'react';
import { ErrorText, formatDateTime, groupThousands } from '@lapak/kit';
import { api } from '../api';
import { Pager } from '../components/Pager';
import { SearchBox } from '../components/SearchBox';
import { failureMessage } from '../failure';
import type { DataCollection, DataRow } from '../generated/api';
import { useT, type AdminKey } from '../i18n';
import { useDebounced } from '../useDebounced';
import { usePolling } from '../usePolling';
import { ImportDialog } from './ImportDialog';
import { RowDialog } from './RowDialog';

const PAGE_SIZE = 50;
/** Effectively no polling: the table reloads after each change. */
const ONCE = 24 * 60 * 60 * 1000;

type Editing = { row: DataRow | null } | null;

export function MasterData() {
  const { t } = useT();
  const collections = usePolling(api.dataCollections, ONCE);
  const [chosen, setChosen] = useState<string>('items');
  const current = collections.data?.find((c) => c.name === chosen) ?? collections.data?.[0] ?? null;
  return (
    <section className="screen" data-testid="page-data">
      <div className="screen-head">
        <h1 className="screen-title">{t('data.title')}</h1>
      </div>
      {collections.error !== null && <ErrorText message={failureMessage(collections.error, t)} />}
      <div className="tabs" role="tablist" aria-label={t('data.collections')}>
        {(collections.data ?? []).map((c) => (
          <button
            key={c.name}
            type="button"
            role="tab"
            aria-selected={c.name === current?.name}
            className="tab"
            data-testid={`collection-${c.name}`}
            onClick={() => setChosen(c.name)}
          >
            {collectionLabel(c.name, t)} <span className="muted">{groupThousands(c.rows)}</span>
          </button>
        ))}
      </div>
      {current && <CollectionTable key={current.name} collection={current} onChanged={collections.reload} />}
    </section>
  );
}

/** The names of the business's master data in the interface language. */
const LABELS: Partial<Record<string, AdminKey>> = {
  items: 'data.collection.items',
  prices: 'data.collection.prices',
  customers: 'data.collection.customers',
  branches: 'data.collection.branches',
  territories: 'data.collection.territories',
  vouchers: 'data.collection.vouchers',
  staff: 'data.collection.staff',
  stock_levels: 'data.collection.stock_levels',
  customer_dues: 'data.collection.customer_dues',
};

/** A collection's name in the interface language; its own name for one the page does not know. */
function collectionLabel(name: string, t: (key: AdminKey) => string): string {
  const key = LABELS[name];
  return key ? t(key) : name;
}

function CollectionTable({ collection, onChanged }: { collection: DataCollection; onChanged: () => void }) {
  const { t, locale } = useT();
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const [editing, setEditing] = useState<Editing>(null);
  const [importing, setImporting] = useState(false);
  const settled = useDebounced(search, 300);
  const load = useCallback(
    () => api.dataRows(collection.name, { search: settled, offset, limit: PAGE_SIZE }),
    [collection.name, settled, offset],
  );
  const rows = usePolling(load, ONCE);
  const changed = () => {
    setEditing(null);
    rows.reload();
    onChanged();
  };
  const show = (v: string | number | boolean | null, kind: string) => {
    if (v === null) return <span className="muted">—</span>;
    if (kind === 'timestamp' && typeof v === 'number') return formatDateTime(v, locale);
    if (kind === 'bool') return v ? t('data.yes') : t('data.no');
    if (kind === 'int' && typeof v === 'number') return groupThousands(v);
    return String(v);
  };
  return (
    <div className="card">
      <div className="toolbar">
        <SearchBox
          value={search}
          label={t('data.search')}
          testId="data-search"
          onSearch={(text) => {
            setSearch(text);
            setOffset(0);
          }}
        />
        {collection.derived ? (
          <span className="muted">{t('data.derived')}</span>
        ) : (
          <>
            <button type="button" className="button button-primary" data-testid="data-new" onClick={() => setEditing({ row: null })}>
              {t('data.new')}
            </button>
            <button type="button" className="button" data-testid="data-import" onClick={() => setImporting(true)}>
              {t('data.import')}
            </button>
          </>
        )}
      </div>
      {rows.error !== null && <ErrorText message={failureMessage(rows.error, t)} />}
      <div className="table-scroll">
        <table className="table" data-testid="data-table">
          <thead>
            <tr>
              <th>id</th>
              {collection.fields.map((f) => (
                <th key={f.name} className={f.kind === 'int' || f.kind === 'real' ? 'num' : undefined}>
                  {f.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {(rows.data?.rows ?? []).map((r) => (
              <tr
                key={r.id}
                data-testid={`row-${r.id}`}
                className={collection.derived ? undefined : 'clickable'}
                onClick={collection.derived ? undefined : () => setEditing({ row: r })}
              >
                <td className="mono">{r.id}</td>
                {collection.fields.map((f) => (
                  <td key={f.name} className={f.kind === 'int' || f.kind === 'real' ? 'num' : undefined}>
                    {show(r.fields[f.name] ?? null, f.kind)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.data && (
        <Pager offset={offset} shown={rows.data.rows.length} total={rows.data.total} pageSize={PAGE_SIZE} onOffset={setOffset} />
      )}
      {editing && <RowDialog collection={collection} row={editing.row} onClose={() => setEditing(null)} onDone={changed} />}
      {importing && (
        <ImportDialog
          collection={collection}
          onClose={() => setImporting(false)}
          onDone={() => {
            setImporting(false);
            changed();
          }}
        />
      )}
    </div>
  );
}
