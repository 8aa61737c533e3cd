/**
 * One master-data row in a form built from its collection's fields: text, whole numbers,
 * numbers, yes/no and dates, required ones marked. Saving sends all the row's fields; the
 * server's refusal (a wrong value, a missing field) shows in the dialog without losing input.
 */
import { useState, type FormEvent } from 'react';
import { Dialog, ErrorText, Field } from '@lapak/kit';
import { api } from '../api';
import type { DataCollection, DataField, DataRow } from '../generated/api';
import { useT } from '../i18n';
import { useAction } from '../useAction';

type Value = string | number | boolean | null;

/** The text an input shows for a value. */
function toInput(v: Value, field: DataField): string {
  if (v === null) return '';
  if (field.kind === 'timestamp' && typeof v === 'number') {
    const d = new Date(v);
    const local = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
    return local.toISOString().slice(0, 16);
  }
  return String(v);
}

/** The value to send for what an input holds; `undefined` when it is not one. */
export function fromInput(text: string, field: DataField): Value | undefined {
  const s = text.trim();
  if (s === '') return null;
  switch (field.kind) {
    case 'text':
      return text;
    case 'int':
      return /^-?\d+$/.test(s) ? Number(s) : undefined;
    case 'real':
      return Number.isFinite(Number(s)) ? Number(s) : undefined;
    case 'bool':
      return s === 'true';
    case 'timestamp': {
      const ms = new Date(s).getTime();
      return Number.isFinite(ms) ? ms : undefined;
    }
  }
}

export function RowDialog({
  collection,
  row,
  onClose,
  onDone,
}: {
  collection: DataCollection;
  row: DataRow | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useT();
  const [id, setId] = useState(row?.id ?? '');
  const [inputs, setInputs] = useState<Record<string, string>>(() =>
    Object.fromEntries(collection.fields.map((f) => [f.name, toInput(row?.fields[f.name] ?? null, f)])),
  );
  const { busy, error, setError, run } = useAction(onDone);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const save = (e: FormEvent) => {
    e.preventDefault();
    const fields: DataRow['fields'] = {};
    for (const f of collection.fields) {
      const v = fromInput(inputs[f.name] ?? '', f);
      if (v === undefined) {
        setError(t('data.badValue', { field: f.name }));
        return;
      }
      fields[f.name] = v;
    }
    run(() => api.putRows(collection.name, [{ id: id.trim(), fields }]));
  };

  return (
    <Dialog
      title={row ? t('data.editTitle', { id: row.id }) : t('data.newTitle')}
      onClose={onClose}
      testId="row-dialog"
      closeLabel={t('common.close')}
    >
      <form className="form-grid" onSubmit={save}>
        <Field label="id *">
          <input className="input" data-testid="row-id" required readOnly={row !== null} autoFocus={row === null} value={id} onChange={(e) => setId(e.target.value)} />
        </Field>
        {collection.fields.map((f) => (
          <Field key={f.name} label={f.required ? `${f.name} *` : f.name}>
            <FieldInput field={f} value={inputs[f.name] ?? ''} onChange={(v) => setInputs((old) => ({ ...old, [f.name]: v }))} />
          </Field>
        ))}
        {error && <ErrorText message={error} />}
        <div className="dialog-actions form-wide">
          {row &&
            (confirmDelete ? (
              <button
                type="button"
                className="button button-danger"
                data-testid="row-delete-confirm"
                disabled={busy}
                onClick={() => run(() => api.putRows(collection.name, [{ id: row.id, fields: null }]))}
              >
                {t('data.deleteConfirm')}
              </button>
            ) : (
              <button type="button" className="button button-danger" data-testid="row-delete" onClick={() => setConfirmDelete(true)}>
                {t('data.delete')}
              </button>
            ))}
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" data-testid="row-save" disabled={busy}>
            {t('common.save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function FieldInput({ field, value, onChange }: { field: DataField; value: string; onChange: (v: string) => void }) {
  const { t } = useT();
  const common = { className: 'input', 'data-testid': `field-${field.name}`, required: field.required, value };
  switch (field.kind) {
    case 'bool':
      return (
        <select {...common} onChange={(e) => onChange(e.target.value)}>
          <option value="">—</option>
          <option value="true">{t('data.yes')}</option>
          <option value="false">{t('data.no')}</option>
        </select>
      );
    case 'int':
      return <input {...common} inputMode="numeric" pattern="-?[0-9]*" onChange={(e) => onChange(e.target.value)} />;
    case 'real':
      return <input {...common} inputMode="decimal" onChange={(e) => onChange(e.target.value)} />;
    case 'timestamp':
      return <input {...common} type="datetime-local" onChange={(e) => onChange(e.target.value)} />;
    case 'text':
      return <input {...common} onChange={(e) => onChange(e.target.value)} />;
  }
}
