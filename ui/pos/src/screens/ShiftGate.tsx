/** Selling, held bills and returns need an open shift: until there is one, ask for the opening cash. */
import type { ReactNode } from 'react';
import { useI18n } from '@lapak/kit';
import { useSession } from '../session';
import { OpenShiftForm } from './Shift';

export function ShiftGate({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { app } = useSession();
  if (app.shift) return <>{children}</>;
  return (
    <section className="screen screen-centered" data-testid="shift-required">
      <div className="card card-narrow">
        <h2>{t('shift.requiredTitle')}</h2>
        <p className="muted">{t('shift.requiredText')}</p>
        <OpenShiftForm />
      </div>
    </section>
  );
}
