/**
 * Import a CSV file into a master-data collection: the server reads and checks every row
 * first (nothing is written while any row has an error: they are listed with their lines), a
 * preview shows the first rows as they will be stored, then the import runs with progress.
 */
import { useEffect, useState } from 'react';
import { Dialog, ErrorText, groupThousands } from '@lapak/kit';
import { api } from '../api';
import { failureMessage } from '../failure';
import type { DataCollection, ImportCheck, ImportProgress } from '../generated/api';
import { useT } from '../i18n';

const POLL_MS = 500;

/** A chosen file's text (UTF-8). */
function readText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsText(file, 'utf-8');
  });
}

export function ImportDialog({
  collection,
  onClose,
  onDone,
}: {
  collection: DataCollection;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useT();
  const [csv, setCsv] = useState<string | null>(null);
  const [report, setReport] = useState<ImportCheck | null>(null);
  const [job, setJob] = useState<ImportProgress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const fail = (thrown: unknown) => {
    setError(failureMessage(thrown, t));
    setBusy(false);
  };
  const choose = (file: File | undefined) => {
    setReport(null);
    setError(null);
    if (!file) return;
    setBusy(true);
    readText(file)
      .then((text) => {
        setCsv(text);
        return api.checkImport(collection.name, text);
      })
      .then((r) => {
        setReport(r);
        setBusy(false);
      }, fail);
  };
  const start = () => {
    if (csv === null) return;
    setBusy(true);
    api.startImport(collection.name, csv).then(setJob, fail);
  };

  useEffect(() => {
    if (!job || job.done) return;
    const timer = window.setTimeout(() => {
      api.importProgress(job.id).then(setJob, fail);
    }, POLL_MS);
    return () => window.clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- polls while the job runs
  }, [job]);

  const fields = ['id', ...collection.fields.map((f) => f.name)];
  return (
    <Dialog title={t('data.importTitle', { collection: collection.name })} onClose={onClose} testId="import-dialog" closeLabel={t('common.close')}>
      <div className="stack">
        <p className="muted">{t('data.importHelp', { columns: fields.join(', ') })}</p>
        {!job && (
          <input type="file" accept=".csv,text/csv" data-testid="import-file" disabled={busy} onChange={(e) => choose(e.target.files?.[0])} />
        )}
        {error && <ErrorText message={error} />}
        {report && !job && <CheckReport report={report} />}
        {job && <Progress job={job} />}
        <div className="dialog-actions">
          {job?.done ? (
            <button type="button" className="button button-primary" data-testid="import-close" onClick={onDone}>
              {t('common.close')}
            </button>
          ) : (
            <>
              <button type="button" className="button" onClick={onClose} disabled={job !== null}>
                {t('common.cancel')}
              </button>
              <button
                type="button"
                className="button button-primary"
                data-testid="import-start"
                disabled={busy || !report || report.error_count > 0 || report.rows === 0}
                onClick={start}
              >
                {t('data.importStart', { count: groupThousands(report?.rows ?? 0) })}
              </button>
            </>
          )}
        </div>
      </div>
    </Dialog>
  );
}

function CheckReport({ report }: { report: ImportCheck }) {
  const { t } = useT();
  return (
    <div className="stack" data-testid="import-report">
      <p data-testid="import-summary">
        {report.error_count > 0
          ? t('data.importErrors', { errors: groupThousands(report.error_count), rows: groupThousands(report.rows) })
          : t('data.importReady', { rows: groupThousands(report.rows) })}
      </p>
      {report.errors.length > 0 && (
        <table className="table" data-testid="import-errors">
          <thead>
            <tr>
              <th className="num">{t('data.line')}</th>
              <th>id</th>
              <th>{t('data.problem')}</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.map((e) => (
              <tr key={e.line} data-testid="import-error">
                <td className="num">{e.line}</td>
                <td className="mono">{e.id}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.preview.length > 0 && (
        <div className="table-scroll">
          <h3 className="card-title">{t('data.preview')}</h3>
          <table className="table" data-testid="import-preview">
            <thead>
              <tr>
                <th>id</th>
                {Object.keys(report.preview[0]?.fields ?? {}).map((name) => (
                  <th key={name}>{name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {report.preview.map((r) => (
                <tr key={r.id}>
                  <td className="mono">{r.id}</td>
                  {Object.entries(r.fields).map(([name, v]) => (
                    <td key={name}>{v === null ? '—' : String(v)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Progress({ job }: { job: ImportProgress }) {
  const { t } = useT();
  const share = job.total === 0 ? 1 : job.written / job.total;
  return (
    <div className="stack" data-testid="import-progress">
      <progress max={1} value={share} className="progress" />
      <p data-testid="import-progress-text">
        {job.error ??
          (job.done
            ? t('data.importDone', { rows: groupThousands(job.written) })
            : t('data.importRunning', { written: groupThousands(job.written), total: groupThousands(job.total) }))}
      </p>
    </div>
  );
}
