import type { ReactNode } from 'react';

/** A label above its control; clicking the label focuses the control. */
export function Field({ label, children, wide }: { label: string; children: ReactNode; wide?: boolean }) {
  return (
    <label className={wide ? 'field field-wide' : 'field'}>
      <span className="field-label">{label}</span>
      {children}
    </label>
  );
}
