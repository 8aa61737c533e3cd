import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

/**
 * A modal dialog over the page: Escape or the close button closes it, Tab stays inside, and
 * focus goes to the first control marked `autoFocus` (else the dialog itself).
 */
export function Dialog({
  title,
  onClose,
  children,
  testId,
  closeLabel,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
  closeLabel: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const closeRef = useRef(onClose);
  // Where focus was before the dialog opened (read while rendering: autoFocus moves it on commit).
  const [before] = useState(() =>
    document.activeElement instanceof HTMLElement ? document.activeElement : null,
  );

  useEffect(() => {
    closeRef.current = onClose;
  }, [onClose]);

  useEffect(() => {
    const node = box.current;
    if (node && !node.contains(document.activeElement)) node.focus();
    return () => before?.focus();
  }, [before]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      closeRef.current();
    } else if (event.key === 'Tab') {
      keepTabInside(event, box.current);
    }
  };

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={box}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        tabIndex={-1}
        data-testid={testId}
        onKeyDown={onKeyDown}
      >
        <header className="dialog-header">
          <h2>{title}</h2>
          <button type="button" className="button button-ghost" onClick={onClose} aria-label={closeLabel}>
            ✕
          </button>
        </header>
        <div className="dialog-body">{children}</div>
      </div>
    </div>
  );
}

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [href], [tabindex="0"]';

function keepTabInside(event: KeyboardEvent, container: HTMLElement | null) {
  if (!container) return;
  const items = Array.from(container.querySelectorAll<HTMLElement>(FOCUSABLE));
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) return;
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}
